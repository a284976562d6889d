#include "server/timers.h"

#include "absl/time/clock.h"

namespace depthd::server {

Timers::Timers() : thread_([this] { Loop(); }) {}

Timers::~Timers() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  thread_.join();
}

uint64_t Timers::At(absl::Time deadline, std::function<void()> callback) {
  absl::MutexLock lock(&mu_);
  const uint64_t id = next_++;
  timers_[id] = {deadline, std::move(callback)};
  by_time_.emplace(deadline, id);
  return id;
}

void Timers::Cancel(uint64_t id) {
  absl::MutexLock lock(&mu_);
  RemoveLocked(id);
  auto done = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return running_ != id; };
  mu_.Await(absl::Condition(&done));
}

void Timers::Drop(uint64_t id) {
  absl::MutexLock lock(&mu_);
  RemoveLocked(id);
}

void Timers::RemoveLocked(uint64_t id) {
  auto it = timers_.find(id);
  if (it != timers_.end()) {
    auto range = by_time_.equal_range(it->second.first);
    for (auto t = range.first; t != range.second; ++t) {
      if (t->second == id) {
        by_time_.erase(t);
        break;
      }
    }
    timers_.erase(it);
  }
}

void Timers::Loop() {
  absl::MutexLock lock(&mu_);
  while (!stop_) {
    const absl::Time next = by_time_.empty() ? absl::InfiniteFuture() : by_time_.begin()->first;
    if (next > absl::Now()) {
      // Woken by a new earlier timer (the mutex is released by At), or by the deadline.
      const size_t count = by_time_.size();
      const absl::Time first = next;
      auto changed = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
        return stop_ || by_time_.size() != count ||
               (!by_time_.empty() && by_time_.begin()->first < first);
      };
      mu_.AwaitWithDeadline(absl::Condition(&changed), std::min(next, absl::Now() + absl::Seconds(1)));
      continue;
    }
    const uint64_t id = by_time_.begin()->second;
    by_time_.erase(by_time_.begin());
    std::function<void()> callback = std::move(timers_[id].second);
    timers_.erase(id);
    running_ = id;
    mu_.Unlock();
    callback();
    mu_.Lock();
    running_ = 0;
  }
}

}  // namespace depthd::server
