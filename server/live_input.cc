#include "server/live_input.h"

namespace depthd::server {

bool LiveInput::Push(int input_index, v1::Frame frame, std::function<void()> on_space) {
  absl::MutexLock lock(&mu_);
  items_.push_back({input_index, std::move(frame)});
  if (static_cast<int>(items_.size()) < capacity_) return true;
  on_space_ = std::move(on_space);
  return false;
}

bool LiveInput::full() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(items_.size()) >= capacity_;
}

void LiveInput::Close() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
}

void LiveInput::Abandon(const absl::Status& why) {
  absl::MutexLock lock(&mu_);
  if (abandoned_.ok()) abandoned_ = why;
}

void LiveInput::Wake() {
  absl::MutexLock lock(&mu_);
  ++wakes_;
}

absl::StatusOr<std::optional<LiveInput::Item>> LiveInput::Pop(const std::atomic<bool>* cancelled) {
  std::function<void()> notify;
  std::optional<Item> item;
  {
    absl::MutexLock lock(&mu_);
    while (true) {
      if (cancelled != nullptr && cancelled->load()) return absl::CancelledError("job cancelled");
      if (!abandoned_.ok()) return abandoned_;
      if (!items_.empty() || closed_) break;
      const int seen = wakes_;
      auto changed = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
        return !items_.empty() || closed_ || !abandoned_.ok() || wakes_ != seen;
      };
      mu_.Await(absl::Condition(&changed));
    }
    if (items_.empty()) return std::optional<Item>();
    item = std::move(items_.front());
    items_.pop_front();
    if (static_cast<int>(items_.size()) < capacity_) {
      notify = std::move(on_space_);
      on_space_ = nullptr;
    }
  }
  if (notify) notify();
  return item;
}

}  // namespace depthd::server
