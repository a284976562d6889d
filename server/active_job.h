// A job that has not ended, as the scheduler, its runner and its streams share it. Its record
// (state, progress) lives in the JobStore; this holds what only a running process has.
#ifndef DEPTHD_SERVER_ACTIVE_JOB_H_
#define DEPTHD_SERVER_ACTIVE_JOB_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "server/job_result.h"
#include "server/job_spec.h"
#include "server/live_input.h"
#include "server/upload_spool.h"

namespace depthd::server {

struct ActiveJob {
  ActiveJob(std::string id, std::string tenant, int64_t seq, ResolvedJob spec, bool frames_upload)
      : id(std::move(id)),
        tenant(std::move(tenant)),
        seq(seq),
        spec(std::move(spec)),
        frames_upload(frames_upload) {}

  // The first reason wins; wakes everything the runner may be waiting on.
  void Cancel(const absl::Status& why) {
    {
      absl::MutexLock lock(&mu);
      if (cancel_status.ok()) cancel_status = why;
    }
    cancelled = true;
    if (upload) upload->Wake();
    if (input) input->Wake();
  }
  absl::Status why_cancelled() const {
    absl::MutexLock lock(&mu);
    return cancel_status;
  }

  const std::string id;
  const std::string tenant;
  const int64_t seq;
  const ResolvedJob spec;
  const bool frames_upload;
  std::shared_ptr<UploadSpool> upload;  // file jobs
  std::shared_ptr<LiveInput> input;     // live jobs
  std::shared_ptr<JobResult> result;
  std::atomic<bool> cancelled{false};
  std::atomic<bool> requeued{false};
  std::atomic<double> upload_seconds{0.0};  // first video message to the upload's end  // the server stopped before it ended; the store has it QUEUED

 private:
  mutable absl::Mutex mu;
  absl::Status cancel_status ABSL_GUARDED_BY(mu);
};

}  // namespace depthd::server

#endif  // DEPTHD_SERVER_ACTIVE_JOB_H_
