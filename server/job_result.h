// What a job produces: its depth frames in order, then its Summary. Kept on disk for file jobs
// (`<state_dir>/results/<job_id>/`: frames as length-prefixed DepthFrame records, and the
// Summary), so readers (an Estimate stream, any number of FetchResult calls) go at their own
// pace and the worker never waits for a client. A live job's frames stay in memory, a few at a
// time: there the writer waits for the slowest reader (flow control) up to a stall limit.
#ifndef DEPTHD_SERVER_JOB_RESULT_H_
#define DEPTHD_SERVER_JOB_RESULT_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "depthd/v1/depthd.pb.h"

namespace depthd::server {

class JobResult {
 public:
  // On disk in `dir` (created; emptied if it held an interrupted run's frames).
  static absl::StatusOr<std::shared_ptr<JobResult>> CreateOnDisk(const std::string& dir);
  // A finished job's result from an earlier run of depthd.
  static absl::StatusOr<std::shared_ptr<JobResult>> OpenOnDisk(const std::string& dir);
  // In memory; Append waits while `capacity` frames are unread by an attached reader.
  static std::shared_ptr<JobResult> InMemory(int capacity);
  ~JobResult();

  // Writer (the job's runner). In memory, waits up to `stall` for the slowest reader and then
  // fails with a status that says the client stopped reading.
  absl::Status Append(const v1::DepthFrame& frame, absl::Duration stall = absl::InfiniteDuration());
  // Writes the Summary durably; readers see it after Publish (once the job's record says it
  // succeeded, so a client that has the Summary finds the job ended).
  absl::Status Finish(const v1::Summary& summary);
  void Publish();
  // The job ended without a result: readers end with `status`.
  void Fail(const absl::Status& status);
  // Removes what is on disk; readers then end with `why`.
  void Remove(const absl::Status& why);

  struct Item {
    std::optional<v1::DepthFrame> frame;    // frame `index`
    std::optional<v1::Summary> summary;     // after the last frame, when complete
  };
  // Frame `index` (or the Summary once past the last frame) if it exists now; nullopt when it
  // does not yet; the job's status when it failed.
  absl::StatusOr<std::optional<Item>> TryRead(int index);
  // In memory: a reader that has consumed everything before `index` (flow control).
  void Consumed(int index);
  // Called (without locks held) whenever something new can be read or the result ended.
  // Returns a handle for Unwatch, which waits for a running call to return.
  int Watch(std::function<void()> notify);
  void Unwatch(int handle);

  int frames() const;
  int64_t bytes() const;
  bool complete() const;
  bool in_memory() const { return dir_.empty(); }

 private:
  JobResult(std::string dir, int fd, int capacity);
  void NotifyAll();

  const std::string dir_;  // empty: in memory
  const int fd_;
  const int capacity_;
  mutable absl::Mutex mu_;
  std::vector<int64_t> offsets_ ABSL_GUARDED_BY(mu_);  // on disk: record starts, and the end
  std::deque<v1::DepthFrame> recent_ ABSL_GUARDED_BY(mu_);  // in memory
  int first_recent_ ABSL_GUARDED_BY(mu_) = 0;
  int consumed_ ABSL_GUARDED_BY(mu_) = 0;
  int frames_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  std::optional<v1::Summary> summary_ ABSL_GUARDED_BY(mu_);  // published
  std::optional<v1::Summary> sealed_ ABSL_GUARDED_BY(mu_);   // written, not yet published
  absl::Status failed_ ABSL_GUARDED_BY(mu_);
  absl::Mutex watch_mu_;
  std::vector<std::pair<int, std::function<void()>>> watchers_ ABSL_GUARDED_BY(watch_mu_);
  int next_watch_ ABSL_GUARDED_BY(watch_mu_) = 1;
};

}  // namespace depthd::server

#endif  // DEPTHD_SERVER_JOB_RESULT_H_
