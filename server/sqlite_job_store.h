// The JobStore on SQLite (WAL mode, synchronous FULL) in `<state_dir>/jobs.db`: every state
// change is a committed transaction before it is acknowledged, so a kill -9 loses nothing that
// a client was told. Records are cached in memory for reads.
#ifndef DEPTHD_SERVER_SQLITE_JOB_STORE_H_
#define DEPTHD_SERVER_SQLITE_JOB_STORE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "server/job_store.h"

struct sqlite3;

namespace depthd::server {

class SqliteJobStore final : public JobStore {
 public:
  // Opens (or creates) the database at `path`. FAILED_PRECONDITION with what to do when the file
  // is damaged or not a depthd database; RESOURCE_EXHAUSTED when the disk is full.
  static absl::StatusOr<std::unique_ptr<SqliteJobStore>> Open(const std::string& path);
  ~SqliteJobStore() override;

  absl::StatusOr<JobRecord> Create(JobRecord record) override;
  absl::Status RecordUpload(const std::string& id, int64_t bytes, int frames) override;
  absl::Status CompleteUpload(const std::string& id, int64_t bytes, int frames) override;
  absl::Status Start(const std::string& id) override;
  void Progress(const std::string& id, v1::Stage stage, int64_t done, int64_t total,
                int frames_out) override;
  absl::Status Finish(const std::string& id, const absl::Status& outcome) override;
  absl::Status Requeue(const std::string& id) override;
  absl::Status SetResult(const std::string& id, v1::ResultState result, int64_t bytes) override;
  absl::Status Delete(const std::string& id) override;
  std::optional<JobRecord> Get(const std::string& id) const override;
  std::vector<JobRecord> List(const std::string& tenant, int64_t before_seq,
                              int limit) const override;
  std::vector<JobRecord> All() const override;
  int AddListener(Listener listener) override;
  void RemoveListener(int handle) override;

  // PRAGMA integrity_check: "ok" or what it found (tests, the crash loop).
  std::string IntegrityCheck() const;

 private:
  explicit SqliteJobStore(sqlite3* db);
  absl::Status Load();
  // Writes `record` in one transaction; the cache changes only if it committed.
  absl::Status Persist(const JobRecord& record) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Applies `change` to the record under the state machine, persists it and tells listeners.
  absl::Status Change(const std::string& id, v1::JobState to,
                      const std::function<void(JobRecord&)>& change);
  void Notify(const JobRecord& now, v1::JobState before);

  sqlite3* db_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, JobRecord> jobs_ ABSL_GUARDED_BY(mu_);
  int64_t next_seq_ ABSL_GUARDED_BY(mu_) = 1;
  absl::Mutex listeners_mu_;
  std::vector<std::pair<int, Listener>> listeners_ ABSL_GUARDED_BY(listeners_mu_);
  int next_listener_ ABSL_GUARDED_BY(listeners_mu_) = 1;
};

}  // namespace depthd::server

#endif  // DEPTHD_SERVER_SQLITE_JOB_STORE_H_
