// Every job's result: created on disk when a job is admitted (in memory for live jobs), kept
// after the job for --result_ttl within --results_max_bytes (oldest evicted first; GetJob then
// shows RESULT_STATE_EVICTED), and found again after a restart.
#ifndef DEPTHD_SERVER_RESULT_CATALOG_H_
#define DEPTHD_SERVER_RESULT_CATALOG_H_

#include <cstdint>
#include <memory>
#include <set>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/job_result.h"
#include "server/job_store.h"
#include "server/metrics.h"

namespace depthd::server {

class ResultCatalog {
 public:
  ResultCatalog(std::string dir, JobStore* store, Metrics* metrics, absl::Duration ttl,
                int64_t max_bytes);

  absl::StatusOr<std::shared_ptr<JobResult>> Create(const JobRecord& job, int live_capacity);
  // The result to read: a running job's, or a finished one's from disk. FAILED_PRECONDITION
  // when it was evicted, NOT_FOUND when the job kept none (a live job, a failed one).
  absl::StatusOr<std::shared_ptr<JobResult>> Find(const JobRecord& job);
  // The job is done with (failed, deleted): its result goes from disk and memory.
  void Remove(const std::string& id, const absl::Status& why);
  // Results past --result_ttl, then the oldest until within --results_max_bytes.
  void Evict();
  // Folders under the results folder that no job in `ids` owns and that depthd named.
  int RemoveOrphans(const std::set<std::string>& ids);
  int64_t bytes() const;

 private:
  std::string Dir(const std::string& id) const { return dir_ + "/" + id; }

  const std::string dir_;
  JobStore* store_;
  Metrics* metrics_;
  const absl::Duration ttl_;
  const int64_t max_bytes_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<JobResult>> open_ ABSL_GUARDED_BY(mu_);
};

// depthd's own names: 32 lower-case hex digits (a job id).
bool IsJobId(const std::string& name);

}  // namespace depthd::server

#endif  // DEPTHD_SERVER_RESULT_CATALOG_H_
