// The bounded FIFO of jobs and the worker thread that owns the device.
#ifndef DEPTHD_SERVER_JOB_QUEUE_H_
#define DEPTHD_SERVER_JOB_QUEUE_H_

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/job.h"

namespace depthd::server {

class JobQueue {
 public:
  using Runner = std::function<void(Job&)>;
  // `queue_size` jobs may wait (uploading or queued) besides the one running.
  JobQueue(int queue_size, Runner runner, std::function<void(int waiting, int running)> on_change);
  ~JobQueue();

  // RESOURCE_EXHAUSTED when full, UNAVAILABLE while draining.
  absl::StatusOr<std::shared_ptr<Job>> Admit(ResolvedJob spec);
  // The upload is complete: the job may run.
  void MarkReady(const std::shared_ptr<Job>& job);
  // The job ended before running (client gone, bad upload): free its place.
  void Remove(const std::shared_ptr<Job>& job);
  // Cancels the job; if it has not started, it leaves the queue and its stream ends CANCELLED.
  void Cancel(const std::shared_ptr<Job>& job, const std::string& reason);
  // Jobs waiting ahead of this one (0: next to run); -1 when it is running or gone.
  int Position(const Job& job) const;
  std::shared_ptr<Job> Find(const std::string& id) const;
  int waiting() const;
  int running() const;

  // Stop admitting; end waiting jobs with UNAVAILABLE; let the running job finish within
  // `grace`, then cancel it; stop the worker.
  void Drain(absl::Duration grace);

 private:
  void WorkerLoop();
  void NotifyPositionsLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const int queue_size_;
  Runner runner_;
  std::function<void(int, int)> on_change_;
  mutable absl::Mutex mu_;
  std::deque<std::shared_ptr<Job>> waiting_ ABSL_GUARDED_BY(mu_);  // admission order
  std::shared_ptr<Job> running_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::shared_ptr<Job>> recent_ ABSL_GUARDED_BY(mu_);
  std::deque<std::string> recent_order_ ABSL_GUARDED_BY(mu_);
  bool draining_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::thread worker_;
};

}  // namespace depthd::server

#endif  // DEPTHD_SERVER_JOB_QUEUE_H_
