#include "server/memory_budget.h"

#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "absl/strings/str_cat.h"

namespace depthd::server {

int64_t MemoryBudget::DefaultBytes() {
  int64_t physical = static_cast<int64_t>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGE_SIZE);
  // cgroup v2 (containers): memory.max, "max" when unlimited.
  std::ifstream cgroup("/sys/fs/cgroup/memory.max");
  std::string limit;
  if (cgroup >> limit && limit != "max") {
    try {
      physical = std::min<int64_t>(physical, std::stoll(limit));
    } catch (const std::exception&) {
    }
  }
  return std::max<int64_t>(physical / 2, 256LL << 20);
}

int64_t MemoryBudget::in_use() const {
  absl::MutexLock lock(&mu_);
  return used_;
}

bool MemoryBudget::TryReserve(int64_t bytes) {
  absl::MutexLock lock(&mu_);
  if (used_ + bytes > total_) return false;
  used_ += bytes;
  return true;
}

void MemoryBudget::Release(int64_t bytes) {
  absl::MutexLock lock(&mu_);
  used_ -= bytes;
}

absl::Status MemoryReservation::GrowTo(int64_t needed) {
  if (needed <= bytes_) return absl::OkStatus();
  if (!budget_->TryReserve(needed - bytes_)) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the job needs ", needed >> 20, " MiB of memory and the server's budget (--max_memory_bytes ",
        budget_->total() >> 20, " MiB, ", budget_->in_use() >> 20,
        " MiB in use) has no room; use a lower processing resolution, the windowed co-alignment "
        "scope, or fewer frames"));
  }
  bytes_ = needed;
  return absl::OkStatus();
}

}  // namespace depthd::server
