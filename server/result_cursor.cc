#include "server/result_cursor.h"

#include "core/status_macros.h"

namespace depthd::server {

absl::StatusOr<std::optional<v1::EstimateResponse>> ResultCursor::Next() {
  if (summary_sent_) return std::optional<v1::EstimateResponse>();
  DEPTHD_ASSIGN_OR_RETURN(std::optional<JobResult::Item> item, result_->TryRead(next_));
  if (!item) return std::optional<v1::EstimateResponse>();
  v1::EstimateResponse response;
  if (item->frame) {
    *response.mutable_frame() = std::move(*item->frame);
    pending_summary_ = false;
  } else {
    *response.mutable_summary() = std::move(*item->summary);
    pending_summary_ = true;
  }
  return std::optional<v1::EstimateResponse>(std::move(response));
}

void ResultCursor::Sent() {
  if (pending_summary_) {
    summary_sent_ = true;
    return;
  }
  ++next_;
  if (result_->in_memory()) result_->Consumed(next_);
}

}  // namespace depthd::server
