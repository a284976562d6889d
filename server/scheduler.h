// Which job runs when. Jobs wait in admission order; up to --max_active_jobs run at once, each
// on its own thread, sharing the device batch by batch. Open-ended jobs (live streams, and
// uploads still arriving that may start early when nothing else waits) may take all slots but
// one, so a stream that never ends cannot starve the queue, and a complete upload never waits
// behind one that is still arriving. A job starts only when its memory estimate fits the budget.
#ifndef DEPTHD_SERVER_SCHEDULER_H_
#define DEPTHD_SERVER_SCHEDULER_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/active_job.h"
#include "server/job_runner.h"
#include "server/job_store.h"
#include "server/memory_budget.h"
#include "server/metrics.h"
#include "server/result_catalog.h"

namespace depthd::server {

struct SchedulerOptions {
  int queue_size = 8;       // jobs waiting (uploading or queued) besides the running ones
  int max_active_jobs = 2;
  std::string uploads_dir;  // depthd's own folder for uploads
  bool sync_uploads = true;
  int live_buffer_frames = 4;  // frames between a live stream and its runner, and back
  int64_t max_pixels = 4096LL * 4096LL;
  // Resolves a stored job's spec again after a restart.
  std::function<absl::StatusOr<ResolvedJob>(const v1::JobSpec&)> resolve;
  // Called once a job has ended and freed its memory: hands the allocator's free pages back to
  // the system (tcmalloc keeps a finished job's pages otherwise). Empty: nothing.
  std::function<void()> release_memory;
};

class Scheduler {
 public:
  Scheduler(SchedulerOptions options, JobStore* store, ResultCatalog* results, JobRunner* runner,
            MemoryBudget* budget, Metrics* metrics);
  ~Scheduler();

  // Stores the job and gives it its upload (or live input) and result. UNAVAILABLE while
  // draining; RESOURCE_EXHAUSTED when the queue is full or the job could never fit the memory
  // budget; a live job also needs a free slot now.
  absl::StatusOr<std::shared_ptr<ActiveJob>> Admit(JobRecord record, ResolvedJob spec);
  // More of the upload is durable (a job may start early) / all of it is.
  void UploadProgressed(const std::shared_ptr<ActiveJob>& job);
  absl::Status UploadCompleted(const std::shared_ptr<ActiveJob>& job, int64_t bytes, int frames);
  // The upload will not complete (client gone, bad data, idle): the job ends with `why`.
  void UploadFailed(const std::shared_ptr<ActiveJob>& job, const absl::Status& why);
  // Ends a job that has not ended: at once when it waits, within a batch when it runs.
  absl::Status Cancel(const std::string& id, const absl::Status& why);
  std::shared_ptr<ActiveJob> Find(const std::string& id) const;
  // Jobs ahead of this one; -1 when it runs or is not waiting.
  int Position(const std::string& id) const;
  int waiting() const;
  int running() const;

  // At start-up: queued and interrupted jobs wait again in their order; uploads that were not
  // complete end ("upload interrupted; resend"); files no job owns are removed. Returns the
  // number of jobs taken up again.
  absl::StatusOr<int> Recover();

  // Stops admitting; uploads in progress end UNAVAILABLE; queued jobs stay queued in the store
  // (they run after a restart); running jobs get `grace` to finish, then go back to the queue.
  // Returns true when every runner thread has stopped.
  bool Drain(absl::Duration grace);

 private:
  struct Running {
    std::shared_ptr<ActiveJob> job;
    std::unique_ptr<MemoryReservation> memory;
    std::thread thread;
    bool open_ended = false;
  };
  void ScheduleLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool StartLocked(const std::shared_ptr<ActiveJob>& job, bool open_ended)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RunJob(std::shared_ptr<ActiveJob> job);
  void EndWaitingLocked(const std::shared_ptr<ActiveJob>& job, const absl::Status& why)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Finished(const std::shared_ptr<ActiveJob>& job, const absl::Status& status);
  void UpdateGaugesLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int OpenEndedSlots() const { return std::max(1, options_.max_active_jobs - 1); }

  const SchedulerOptions options_;
  JobStore* store_;
  ResultCatalog* results_;
  JobRunner* runner_;
  MemoryBudget* budget_;
  Metrics* metrics_;

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<ActiveJob>> jobs_ ABSL_GUARDED_BY(mu_);
  std::map<int64_t, std::shared_ptr<ActiveJob>> waiting_ ABSL_GUARDED_BY(mu_);  // by seq
  absl::flat_hash_map<std::string, Running> running_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> finished_threads_ ABSL_GUARDED_BY(mu_);
  bool draining_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace depthd::server

#endif  // DEPTHD_SERVER_SCHEDULER_H_
