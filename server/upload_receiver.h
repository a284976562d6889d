// The upload half of Estimate and SubmitJob: the first message (a JobSpec, or a ResumeUpload),
// then VideoChunk or Frame messages, checked against the limits as they arrive, written to the
// job's spool (or, live, handed to its runner) and acknowledged once durable.
//
// An upload outlives a broken stream for --upload_idle_timeout: within that time a new call
// with ResumeUpload continues it from the acknowledged offset; after it, the job ends
// CANCELLED. A stream that stays open but sends nothing for that long ends DEADLINE_EXCEEDED.
#ifndef DEPTHD_SERVER_UPLOAD_RECEIVER_H_
#define DEPTHD_SERVER_UPLOAD_RECEIVER_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/active_job.h"
#include "server/service_context.h"

namespace depthd::server {

// Uploads in progress, across the streams that carry them.
class UploadTracker {
 public:
  explicit UploadTracker(ServiceContext* context) : context_(context) {}
  ~UploadTracker();

  void Start(std::shared_ptr<ActiveJob> job);
  void Touch(const std::string& id);
  // The stream broke: the upload waits for a resume until the idle limit.
  void Detach(const std::string& id);
  // A resume: the job, when `tenant` owns an upload in progress that no stream carries.
  absl::StatusOr<std::shared_ptr<ActiveJob>> Attach(const std::string& tenant, const std::string& id);
  void Stop(const std::string& id);

 private:
  struct Entry {
    std::shared_ptr<ActiveJob> job;
    absl::Time last;
    bool attached = true;
    uint64_t timer = 0;
  };
  void Arm(const std::string& id, absl::Time at) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Expire(const std::string& id);

  ServiceContext* context_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

class UploadReceiver {
 public:
  UploadReceiver(ServiceContext* context, UploadTracker* tracker, std::string tenant)
      : context_(context), tracker_(tracker), tenant_(std::move(tenant)) {}

  // The first message. A JobSpec is checked (the job is admitted with the first video message);
  // a ResumeUpload answers with what the server holds. Errors end the call.
  absl::StatusOr<std::vector<v1::EstimateResponse>> Begin(const v1::EstimateRequest& first);

  enum class Next { kRead, kWait };
  // A message after the first. kWait: a live job's input is full (the message is taken); read
  // the next one when `on_space` runs. Messages to send back (Accepted, acknowledgements, skipped frames) go to `out`.
  absl::StatusOr<Next> Add(v1::EstimateRequest& message, std::function<void()> on_space,
                           std::vector<v1::EstimateResponse>* out);
  // The client half-closed: the upload is made durable and complete.
  absl::StatusOr<v1::EstimateResponse> Complete();
  // The stream broke or must end during the upload: the job waits for a resume (file jobs) or
  // ends (live jobs, and `final` errors such as a bad frame).
  void Broken(const absl::Status& why, bool final);

  const std::shared_ptr<ActiveJob>& job() const { return job_; }
  bool live() const { return spec_.live; }
  bool complete() const { return complete_; }
  int latency_frames() const { return spec_.latency_frames; }

 private:
  absl::Status Admit(bool frames, std::vector<v1::EstimateResponse>* out);
  absl::Status MaybeAcknowledge(bool force, std::vector<v1::EstimateResponse>* out);

  ServiceContext* context_;
  UploadTracker* tracker_;
  const std::string tenant_;
  v1::JobSpec spec_message_;
  ResolvedJob spec_;
  bool begun_ = false;
  bool frames_ = false;
  bool complete_ = false;
  std::shared_ptr<ActiveJob> job_;
  int64_t received_bytes_ = 0;
  int received_frames_ = 0;
  int64_t acknowledged_bytes_ = 0;
  absl::Time last_ack_;
  absl::Time upload_started_;
};

}  // namespace depthd::server

#endif  // DEPTHD_SERVER_UPLOAD_RECEIVER_H_
