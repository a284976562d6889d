// One Estimate call's job: its options, its upload, its state, and the bounded channel that
// carries responses from the worker to the RPC thread.
#ifndef DEPTHD_SERVER_JOB_H_
#define DEPTHD_SERVER_JOB_H_

#include <atomic>
#include <deque>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "depthd/v1/depthd.pb.h"
#include "server/job_spec.h"

namespace depthd::server {

// Worker -> RPC thread. Frames block when `capacity` responses wait unsent, so a slow reader
// holds the worker back instead of making the server buffer the video: at most `capacity`
// encoded frames per job sit in memory, plus the one gRPC is writing.
class ResponseChannel {
 public:
  explicit ResponseChannel(size_t capacity) : capacity_(capacity) {}

  // Blocks while full; false when the channel was closed or `give_up` became true.
  bool Push(v1::EstimateResponse response, const std::atomic<bool>& give_up);
  // Never blocks; drops the message when full (progress updates are droppable).
  void TryPush(v1::EstimateResponse response);
  // Waits up to `timeout`. Returns false on timeout or when closed and drained (see closed()).
  bool Pop(v1::EstimateResponse* response, absl::Duration timeout);
  void Close(absl::Status final_status);
  bool closed_and_empty() const;
  absl::Status final_status() const;
  void Wake();  // wakes a blocked Push so it can see `give_up`

 private:
  const size_t capacity_;
  mutable absl::Mutex mu_;
  std::deque<v1::EstimateResponse> items_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status final_ ABSL_GUARDED_BY(mu_);
  int wake_ ABSL_GUARDED_BY(mu_) = 0;
};

struct Job {
  Job(std::string id, ResolvedJob spec) : id(std::move(id)), spec(std::move(spec)) {}
  ~Job();  // removes the spool file, however the job ended

  void Cancel(const std::string& reason);
  // The upload is no longer needed once decoded, or when the job ends before running.
  void RemoveSpool();
  bool cancelled() const { return cancel_flag.load(); }

  const std::string id;
  const ResolvedJob spec;
  absl::Time admitted_at = absl::Now();
  absl::Time ready_at;

  // Upload: a container file spooled to disk, or decoded frames.
  std::string spool_path;
  int64_t upload_bytes = 0;
  std::vector<cv::Mat> frames;
  double frames_fps = 0.0;
  double upload_seconds = 0.0;

  std::atomic<bool> cancel_flag{false};
  ResponseChannel channel{8};

  // For GetJob.
  mutable absl::Mutex mu;
  v1::JobState state ABSL_GUARDED_BY(mu) = v1::JOB_STATE_UPLOADING;
  v1::Stage stage ABSL_GUARDED_BY(mu) = v1::STAGE_UPLOAD;
  int64_t done ABSL_GUARDED_BY(mu) = 0;
  int64_t total ABSL_GUARDED_BY(mu) = 0;
  int frames_sent ABSL_GUARDED_BY(mu) = 0;
  std::string error ABSL_GUARDED_BY(mu);
  std::string cancel_reason ABSL_GUARDED_BY(mu);
};

}  // namespace depthd::server

#endif  // DEPTHD_SERVER_JOB_H_
