#include "core/device_queue.h"

#include <algorithm>

namespace depthd {

DeviceQueue::Turn DeviceQueue::Acquire(int priority) {
  absl::MutexLock lock(&mu_);
  const uint64_t ticket = next_ticket_++;
  waiters_.push_back({priority, ticket});
  // Served next: the highest priority, then the earliest ticket.
  auto first = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return std::min_element(waiters_.begin(), waiters_.end(), [](const Waiter& a, const Waiter& b) {
      return a.priority != b.priority ? a.priority > b.priority : a.ticket < b.ticket;
    });
  };
  auto my_turn = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return !busy_ && first()->ticket == ticket;
  };
  mu_.Await(absl::Condition(&my_turn));
  waiters_.erase(first());
  busy_ = true;
  return Turn(this);
}

void DeviceQueue::Release() {
  absl::MutexLock lock(&mu_);
  busy_ = false;
}

int DeviceQueue::waiting() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(waiters_.size()) + (busy_ ? 1 : 0);
}

}  // namespace depthd
