// Walks a job's result for a stream: frame after frame from a start index, then the Summary.
#ifndef DEPTHD_SERVER_RESULT_CURSOR_H_
#define DEPTHD_SERVER_RESULT_CURSOR_H_

#include <memory>
#include <optional>

#include "absl/status/statusor.h"
#include "depthd/v1/depthd.pb.h"
#include "server/job_result.h"

namespace depthd::server {

class ResultCursor {
 public:
  ResultCursor(std::shared_ptr<JobResult> result, int from) : result_(std::move(result)), next_(from) {}

  // What to send next: a DepthFrame, then the Summary; nullopt when nothing new exists yet or
  // the Summary was sent; the job's status when it ended without a result.
  absl::StatusOr<std::optional<v1::EstimateResponse>> Next();
  // The response Next returned was written.
  void Sent();
  bool finished() const { return summary_sent_; }
  int next_frame() const { return next_; }
  const std::shared_ptr<JobResult>& result() const { return result_; }

 private:
  std::shared_ptr<JobResult> result_;
  int next_;
  bool pending_summary_ = false;
  bool summary_sent_ = false;
};

}  // namespace depthd::server

#endif  // DEPTHD_SERVER_RESULT_CURSOR_H_
