// Fair turns on the one device that every video session of a server shares. A session takes a
// turn for each network call (one snippet batch) and gives it back at once, so sessions
// interleave batch by batch in the order they asked; a higher priority (live streams) goes
// ahead of lower ones that are waiting, but never interrupts a call in progress.
#ifndef DEPTHD_CORE_DEVICE_QUEUE_H_
#define DEPTHD_CORE_DEVICE_QUEUE_H_

#include <cstdint>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace depthd {

class DeviceQueue {
 public:
  class Turn {
   public:
    Turn(Turn&& other) noexcept : queue_(other.queue_) { other.queue_ = nullptr; }
    Turn(const Turn&) = delete;
    ~Turn() {
      if (queue_ != nullptr) queue_->Release();
    }

   private:
    friend class DeviceQueue;
    explicit Turn(DeviceQueue* queue) : queue_(queue) {}
    DeviceQueue* queue_;
  };

  // Blocks until the device is free and no waiter of a higher priority, or of the same priority
  // that asked earlier, is ahead.
  Turn Acquire(int priority = 0);
  // Calls waiting or running now (for metrics).
  int waiting() const;

 private:
  void Release();

  mutable absl::Mutex mu_;
  bool busy_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t next_ticket_ ABSL_GUARDED_BY(mu_) = 0;
  // Waiters by (priority, ticket); the front is served next.
  struct Waiter {
    int priority;
    uint64_t ticket;
  };
  std::vector<Waiter> waiters_ ABSL_GUARDED_BY(mu_);
};

}  // namespace depthd

#endif  // DEPTHD_CORE_DEVICE_QUEUE_H_
