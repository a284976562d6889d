#include "server/job_state.h"

namespace depthd::server {

bool IsFinal(v1::JobState state) {
  return state == v1::JOB_STATE_SUCCEEDED || state == v1::JOB_STATE_FAILED ||
         state == v1::JOB_STATE_CANCELLED;
}

bool CanMove(v1::JobState from, v1::JobState to) {
  switch (from) {
    case v1::JOB_STATE_UPLOADING:
      return to == v1::JOB_STATE_QUEUED || to == v1::JOB_STATE_RUNNING ||
             to == v1::JOB_STATE_CANCELLED || to == v1::JOB_STATE_FAILED;
    case v1::JOB_STATE_QUEUED:
      return to == v1::JOB_STATE_RUNNING || to == v1::JOB_STATE_CANCELLED ||
             to == v1::JOB_STATE_FAILED;
    case v1::JOB_STATE_RUNNING:
      return to == v1::JOB_STATE_SUCCEEDED || to == v1::JOB_STATE_FAILED ||
             to == v1::JOB_STATE_CANCELLED || to == v1::JOB_STATE_QUEUED;
    default:
      return false;
  }
}

v1::JobState FinalState(const absl::Status& status) {
  if (status.ok()) return v1::JOB_STATE_SUCCEEDED;
  switch (status.code()) {
    case absl::StatusCode::kCancelled:
    case absl::StatusCode::kDeadlineExceeded:  // the client's deadline or an idle upload
      return v1::JOB_STATE_CANCELLED;
    default:
      return v1::JOB_STATE_FAILED;
  }
}

std::string Outcome(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk: return "succeeded";
    case absl::StatusCode::kCancelled:
    case absl::StatusCode::kDeadlineExceeded: return "cancelled";
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kFailedPrecondition: return "invalid";
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied: return "rejected";
    default: return "failed";
  }
}

}  // namespace depthd::server
