// The server-wide budget for what running jobs hold in memory (decoded frames, snippet
// predictions, accumulators), so that many or large jobs queue or are refused instead of
// exhausting the machine. Jobs reserve an estimate before they start and grow it if their
// session holds more; a job that could never fit is refused with RESOURCE_EXHAUSTED.
#ifndef DEPTHD_SERVER_MEMORY_BUDGET_H_
#define DEPTHD_SERVER_MEMORY_BUDGET_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace depthd::server {

class MemoryBudget {
 public:
  explicit MemoryBudget(int64_t total_bytes) : total_(total_bytes) {}

  // Half of the machine's memory (or of its cgroup limit, when lower).
  static int64_t DefaultBytes();

  int64_t total() const { return total_; }
  int64_t in_use() const;
  // True and reserved when `bytes` more fit now.
  bool TryReserve(int64_t bytes);
  void Release(int64_t bytes);

 private:
  const int64_t total_;
  mutable absl::Mutex mu_;
  int64_t used_ ABSL_GUARDED_BY(mu_) = 0;
};

// One job's share, released when it goes. Grow fails when the budget has no room.
class MemoryReservation {
 public:
  MemoryReservation(MemoryBudget* budget, int64_t bytes) : budget_(budget), bytes_(bytes) {}
  MemoryReservation(const MemoryReservation&) = delete;
  ~MemoryReservation() {
    if (budget_ != nullptr) budget_->Release(bytes_);
  }
  int64_t bytes() const { return bytes_; }
  // RESOURCE_EXHAUSTED naming the limit when `needed` does not fit.
  absl::Status GrowTo(int64_t needed);

 private:
  MemoryBudget* budget_;
  int64_t bytes_;
};

}  // namespace depthd::server

#endif  // DEPTHD_SERVER_MEMORY_BUDGET_H_
