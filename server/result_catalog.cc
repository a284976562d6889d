#include "server/result_catalog.h"

#include <algorithm>
#include <filesystem>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/job_state.h"

namespace depthd::server {

namespace fs = std::filesystem;

bool IsJobId(const std::string& name) {
  return name.size() == 32 && std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

ResultCatalog::ResultCatalog(std::string dir, JobStore* store, Metrics* metrics,
                             absl::Duration ttl, int64_t max_bytes)
    : dir_(std::move(dir)), store_(store), metrics_(metrics), ttl_(ttl), max_bytes_(max_bytes) {}

absl::StatusOr<std::shared_ptr<JobResult>> ResultCatalog::Create(const JobRecord& job,
                                                                 int live_capacity) {
  std::shared_ptr<JobResult> result;
  if (job.live) {
    result = JobResult::InMemory(live_capacity);
  } else {
    auto created = JobResult::CreateOnDisk(Dir(job.id));
    if (!created.ok()) return created.status();
    result = *std::move(created);
  }
  absl::MutexLock lock(&mu_);
  open_[job.id] = result;
  return result;
}

absl::StatusOr<std::shared_ptr<JobResult>> ResultCatalog::Find(const JobRecord& job) {
  {
    absl::MutexLock lock(&mu_);
    auto it = open_.find(job.id);
    if (it != open_.end()) return it->second;
  }
  if (job.result == v1::RESULT_STATE_EVICTED) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the results of job ", job.id, " were removed (--result_ttl or --results_max_bytes); run it again"));
  }
  if (job.state != v1::JOB_STATE_SUCCEEDED) {
    if (IsFinal(job.state)) {
      return job.status().ok() ? absl::NotFoundError(absl::StrCat("job ", job.id, " kept no result"))
                               : job.status();
    }
    return absl::UnavailableError(absl::StrCat("job ", job.id, " has no result yet"));
  }
  auto opened = JobResult::OpenOnDisk(Dir(job.id));
  if (!opened.ok()) return opened.status();
  absl::MutexLock lock(&mu_);
  open_[job.id] = *opened;
  return *std::move(opened);
}

void ResultCatalog::Remove(const std::string& id, const absl::Status& why) {
  std::shared_ptr<JobResult> result;
  {
    absl::MutexLock lock(&mu_);
    auto it = open_.find(id);
    if (it != open_.end()) {
      result = it->second;
      open_.erase(it);
    }
  }
  if (result) {
    result->Remove(why);
  } else {
    std::error_code error;
    fs::remove_all(Dir(id), error);
  }
}

void ResultCatalog::Evict() {
  std::vector<JobRecord> kept;
  int64_t total = 0;
  for (const JobRecord& job : store_->All()) {
    if (job.result == v1::RESULT_STATE_COMPLETE || job.result == v1::RESULT_STATE_PARTIAL) {
      total += job.result_bytes;
      // A result is marked complete just before its job's end is recorded: until then it has
      // no `finished` time to age from, and a reader may be about to open it.
      if (job.result == v1::RESULT_STATE_COMPLETE && IsFinal(job.state)) kept.push_back(job);
    }
  }
  std::sort(kept.begin(), kept.end(),
            [](const JobRecord& a, const JobRecord& b) { return a.finished < b.finished; });
  const absl::Time now = absl::Now();
  int evicted = 0;
  for (const JobRecord& job : kept) {
    const bool expired = job.finished + ttl_ < now;
    if (!expired && total <= max_bytes_) break;
    Remove(job.id, absl::FailedPreconditionError(absl::StrCat(
                       "the results of job ", job.id, " were removed (",
                       expired ? "--result_ttl" : "--results_max_bytes", "); run it again")));
    (void)store_->SetResult(job.id, v1::RESULT_STATE_EVICTED, 0);
    total -= job.result_bytes;
    ++evicted;
  }
  if (evicted > 0 && metrics_ != nullptr) metrics_->CountResultsEvicted(evicted);
  if (metrics_ != nullptr) metrics_->SetResultsBytes(total);
}

int ResultCatalog::RemoveOrphans(const std::set<std::string>& ids) {
  int removed = 0;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(dir_, error)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_directory() || !IsJobId(name) || ids.count(name) > 0) continue;
    fs::remove_all(entry.path(), error);
    ++removed;
  }
  return removed;
}

int64_t ResultCatalog::bytes() const {
  int64_t total = 0;
  for (const JobRecord& job : store_->All()) {
    if (job.result == v1::RESULT_STATE_COMPLETE || job.result == v1::RESULT_STATE_PARTIAL) {
      total += job.result_bytes;
    }
  }
  return total;
}

}  // namespace depthd::server
