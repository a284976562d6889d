#include "server/job.h"

#include <cstdio>

namespace depthd::server {

bool ResponseChannel::Push(v1::EstimateResponse response, const std::atomic<bool>& give_up) {
  absl::MutexLock lock(&mu_);
  auto room = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return closed_ || items_.size() < capacity_ || give_up.load() || wake_ > 0;
  };
  while (!room()) mu_.AwaitWithTimeout(absl::Condition(&room), absl::Milliseconds(200));
  if (closed_ || give_up.load()) return false;
  items_.push_back(std::move(response));
  return true;
}

void ResponseChannel::TryPush(v1::EstimateResponse response) {
  absl::MutexLock lock(&mu_);
  if (!closed_ && items_.size() < capacity_) items_.push_back(std::move(response));
}

bool ResponseChannel::Pop(v1::EstimateResponse* response, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto ready = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return !items_.empty() || closed_; };
  mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
  if (items_.empty()) return false;
  *response = std::move(items_.front());
  items_.pop_front();
  return true;
}

void ResponseChannel::Close(absl::Status final_status) {
  absl::MutexLock lock(&mu_);
  if (closed_) return;
  closed_ = true;
  final_ = std::move(final_status);
}

bool ResponseChannel::closed_and_empty() const {
  absl::MutexLock lock(&mu_);
  return closed_ && items_.empty();
}

absl::Status ResponseChannel::final_status() const {
  absl::MutexLock lock(&mu_);
  return final_;
}

void ResponseChannel::Wake() {
  absl::MutexLock lock(&mu_);
  ++wake_;
}

Job::~Job() { RemoveSpool(); }

void Job::RemoveSpool() {
  if (!spool_path.empty()) std::remove(spool_path.c_str());
}

void Job::Cancel(const std::string& reason) {
  {
    absl::MutexLock lock(&mu);
    if (cancel_reason.empty()) cancel_reason = reason;
  }
  cancel_flag = true;
  channel.Wake();
}

}  // namespace depthd::server
