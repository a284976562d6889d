#include "server/sqlite_job_store.h"

#include <sqlite3.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/status_macros.h"
#include "server/job_state.h"

namespace depthd::server {
namespace {

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY,
  seq INTEGER NOT NULL UNIQUE,
  tenant TEXT NOT NULL,
  spec BLOB NOT NULL,
  live INTEGER NOT NULL,
  frames_upload INTEGER NOT NULL,
  state INTEGER NOT NULL,
  stage INTEGER NOT NULL,
  done INTEGER NOT NULL,
  total INTEGER NOT NULL,
  frames_out INTEGER NOT NULL,
  created_us INTEGER NOT NULL,
  started_us INTEGER NOT NULL,
  finished_us INTEGER NOT NULL,
  error_code INTEGER NOT NULL,
  error TEXT NOT NULL,
  upload_bytes INTEGER NOT NULL,
  upload_frames INTEGER NOT NULL,
  upload_complete INTEGER NOT NULL,
  result INTEGER NOT NULL,
  result_bytes INTEGER NOT NULL,
  attempts INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS depthd (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO depthd VALUES ('schema', '1');
)sql";

int64_t Micros(absl::Time t) { return t == absl::Time() ? 0 : absl::ToUnixMicros(t); }
absl::Time FromMicros(int64_t us) { return us == 0 ? absl::Time() : absl::FromUnixMicros(us); }

// SQLite's result codes as Status: a full disk is RESOURCE_EXHAUSTED (retry later, free space),
// a damaged file FAILED_PRECONDITION (an operator must act).
absl::Status SqliteError(sqlite3* db, int rc, const std::string& doing) {
  const std::string message = absl::StrCat(doing, ": ", sqlite3_errmsg(db), " (SQLite ", rc, ")");
  switch (rc & 0xff) {
    case SQLITE_FULL:
      return absl::ResourceExhaustedError(absl::StrCat("the job database's disk is full; ", message));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::FailedPreconditionError(message);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::UnavailableError(message);
    default:
      return absl::InternalError(message);
  }
}

class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  int rc() const { return rc_; }
  sqlite3_stmt* get() { return stmt_; }
  void Bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void Bind(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void BindBlob(int i, const std::string& v) {
    sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

absl::Status Exec(sqlite3* db, const char* sql, const std::string& doing) {
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &error);
  sqlite3_free(error);
  if (rc != SQLITE_OK) return SqliteError(db, rc, doing);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteJobStore>> SqliteJobStore::Open(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    absl::Status status = SqliteError(db, rc, absl::StrCat("cannot open the job database ", path));
    sqlite3_close(db);
    return status;
  }
  sqlite3_busy_timeout(db, 5000);
  std::unique_ptr<SqliteJobStore> store(new SqliteJobStore(db));
  auto damaged = [&](const std::string& what) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the job database ", path, " is damaged (", what,
        "). Stop depthd, move the file (and its -wal and -shm files) aside to start with no jobs, "
        "or restore it from a backup"));
  };
  absl::Status status = Exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", "opening");
  if (status.ok()) {
    const std::string check = store->IntegrityCheck();
    if (check != "ok") return damaged(check);
    status = Exec(db, kSchema, "creating the schema");
  }
  if (status.ok()) status = store->Load();
  if (absl::IsFailedPrecondition(status) || absl::IsInternal(status)) {
    return damaged(std::string(status.message()));
  }
  if (!status.ok()) return status;
  return store;
}

SqliteJobStore::SqliteJobStore(sqlite3* db) : db_(db) {}

SqliteJobStore::~SqliteJobStore() { sqlite3_close(db_); }

std::string SqliteJobStore::IntegrityCheck() const {
  Statement check(db_, "PRAGMA integrity_check");
  if (check.rc() != SQLITE_OK) return sqlite3_errmsg(db_);
  std::string result;
  while (sqlite3_step(check.get()) == SQLITE_ROW) {
    const unsigned char* text = sqlite3_column_text(check.get(), 0);
    if (!result.empty()) result += "; ";
    result += text != nullptr ? reinterpret_cast<const char*>(text) : "";
  }
  return result.empty() ? std::string(sqlite3_errmsg(db_)) : result;
}

absl::Status SqliteJobStore::Load() {
  Statement select(db_, "SELECT * FROM jobs ORDER BY seq");
  if (select.rc() != SQLITE_OK) return SqliteError(db_, select.rc(), "reading the jobs");
  absl::MutexLock lock(&mu_);
  int rc;
  while ((rc = sqlite3_step(select.get())) == SQLITE_ROW) {
    sqlite3_stmt* s = select.get();
    JobRecord r;
    int c = 0;
    r.id = reinterpret_cast<const char*>(sqlite3_column_text(s, c++));
    r.seq = sqlite3_column_int64(s, c++);
    r.tenant = reinterpret_cast<const char*>(sqlite3_column_text(s, c++));
    const void* spec = sqlite3_column_blob(s, c);
    if (!r.spec.ParseFromArray(spec, sqlite3_column_bytes(s, c++))) {
      return absl::FailedPreconditionError(absl::StrCat("job ", r.id, " has an unreadable spec"));
    }
    r.live = sqlite3_column_int(s, c++) != 0;
    r.frames_upload = sqlite3_column_int(s, c++) != 0;
    r.state = static_cast<v1::JobState>(sqlite3_column_int(s, c++));
    r.stage = static_cast<v1::Stage>(sqlite3_column_int(s, c++));
    r.done = sqlite3_column_int64(s, c++);
    r.total = sqlite3_column_int64(s, c++);
    r.frames_out = sqlite3_column_int(s, c++);
    r.created = FromMicros(sqlite3_column_int64(s, c++));
    r.started = FromMicros(sqlite3_column_int64(s, c++));
    r.finished = FromMicros(sqlite3_column_int64(s, c++));
    r.error_code = static_cast<absl::StatusCode>(sqlite3_column_int(s, c++));
    r.error = reinterpret_cast<const char*>(sqlite3_column_text(s, c++));
    r.upload_bytes = sqlite3_column_int64(s, c++);
    r.upload_frames = sqlite3_column_int(s, c++);
    r.upload_complete = sqlite3_column_int(s, c++) != 0;
    r.result = static_cast<v1::ResultState>(sqlite3_column_int(s, c++));
    r.result_bytes = sqlite3_column_int64(s, c++);
    r.attempts = sqlite3_column_int(s, c++);
    next_seq_ = std::max(next_seq_, r.seq + 1);
    jobs_[r.id] = std::move(r);
  }
  if (rc != SQLITE_DONE) return SqliteError(db_, rc, "reading the jobs");
  return absl::OkStatus();
}

absl::Status SqliteJobStore::Persist(const JobRecord& r) {
  Statement insert(db_,
                   "INSERT OR REPLACE INTO jobs VALUES "
                   "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  if (insert.rc() != SQLITE_OK) return SqliteError(db_, insert.rc(), "saving a job");
  int c = 1;
  insert.Bind(c++, r.id);
  insert.Bind(c++, r.seq);
  insert.Bind(c++, r.tenant);
  insert.BindBlob(c++, r.spec.SerializeAsString());
  insert.Bind(c++, r.live ? 1 : 0);
  insert.Bind(c++, r.frames_upload ? 1 : 0);
  insert.Bind(c++, static_cast<int64_t>(r.state));
  insert.Bind(c++, static_cast<int64_t>(r.stage));
  insert.Bind(c++, r.done);
  insert.Bind(c++, r.total);
  insert.Bind(c++, static_cast<int64_t>(r.frames_out));
  insert.Bind(c++, Micros(r.created));
  insert.Bind(c++, Micros(r.started));
  insert.Bind(c++, Micros(r.finished));
  insert.Bind(c++, static_cast<int64_t>(r.error_code));
  insert.Bind(c++, r.error);
  insert.Bind(c++, r.upload_bytes);
  insert.Bind(c++, static_cast<int64_t>(r.upload_frames));
  insert.Bind(c++, r.upload_complete ? 1 : 0);
  insert.Bind(c++, static_cast<int64_t>(r.result));
  insert.Bind(c++, r.result_bytes);
  insert.Bind(c++, static_cast<int64_t>(r.attempts));
  const int rc = sqlite3_step(insert.get());
  if (rc != SQLITE_DONE) return SqliteError(db_, rc, absl::StrCat("saving job ", r.id));
  return absl::OkStatus();
}

absl::StatusOr<JobRecord> SqliteJobStore::Create(JobRecord record) {
  {
    absl::MutexLock lock(&mu_);
    if (jobs_.contains(record.id)) return absl::AlreadyExistsError("job id in use");
    record.seq = next_seq_;
    record.created = absl::Now();
    record.state = record.live ? v1::JOB_STATE_RUNNING : v1::JOB_STATE_UPLOADING;
    if (record.live) {
      record.started = record.created;
      record.attempts = 1;
    }
    DEPTHD_RETURN_IF_ERROR(Persist(record));
    ++next_seq_;
    jobs_[record.id] = record;
  }
  Notify(record, v1::JOB_STATE_UNSPECIFIED);
  return record;
}

absl::Status SqliteJobStore::Change(const std::string& id, v1::JobState to,
                                    const std::function<void(JobRecord&)>& change) {
  JobRecord now;
  v1::JobState before;
  {
    absl::MutexLock lock(&mu_);
    auto it = jobs_.find(id);
    if (it == jobs_.end()) return absl::NotFoundError(absl::StrCat("no job ", id));
    before = it->second.state;
    if (to != v1::JOB_STATE_UNSPECIFIED && to != before && !CanMove(before, to)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "job ", id, " is ", v1::JobState_Name(before), " and cannot become ", v1::JobState_Name(to)));
    }
    JobRecord updated = it->second;
    if (to != v1::JOB_STATE_UNSPECIFIED) updated.state = to;
    change(updated);
    DEPTHD_RETURN_IF_ERROR(Persist(updated));
    it->second = updated;
    now = std::move(updated);
  }
  Notify(now, before);
  return absl::OkStatus();
}

absl::Status SqliteJobStore::RecordUpload(const std::string& id, int64_t bytes, int frames) {
  return Change(id, v1::JOB_STATE_UNSPECIFIED, [&](JobRecord& r) {
    r.upload_bytes = bytes;
    r.upload_frames = frames;
  });
}

absl::Status SqliteJobStore::CompleteUpload(const std::string& id, int64_t bytes, int frames) {
  v1::JobState to = v1::JOB_STATE_QUEUED;
  {
    absl::MutexLock lock(&mu_);
    auto it = jobs_.find(id);
    if (it != jobs_.end() && it->second.state == v1::JOB_STATE_RUNNING) to = v1::JOB_STATE_RUNNING;
  }
  return Change(id, to, [&](JobRecord& r) {
    r.upload_bytes = bytes;
    r.upload_frames = frames;
    r.upload_complete = true;
    if (r.state == v1::JOB_STATE_QUEUED) r.stage = v1::STAGE_QUEUED;
  });
}

absl::Status SqliteJobStore::Start(const std::string& id) {
  return Change(id, v1::JOB_STATE_RUNNING, [&](JobRecord& r) {
    r.started = absl::Now();
    r.stage = v1::STAGE_DECODE;
    r.done = r.total = 0;
    r.frames_out = 0;
    ++r.attempts;
  });
}

void SqliteJobStore::Progress(const std::string& id, v1::Stage stage, int64_t done,
                              int64_t total, int frames_out) {
  JobRecord now;
  {
    absl::MutexLock lock(&mu_);
    auto it = jobs_.find(id);
    if (it == jobs_.end() || IsFinal(it->second.state)) return;
    it->second.stage = stage;
    it->second.done = done;
    it->second.total = total;
    it->second.frames_out = frames_out;
    now = it->second;
  }
  Notify(now, now.state);
}

absl::Status SqliteJobStore::Finish(const std::string& id, const absl::Status& outcome) {
  {
    absl::MutexLock lock(&mu_);
    auto it = jobs_.find(id);
    if (it == jobs_.end()) return absl::NotFoundError(absl::StrCat("no job ", id));
    if (IsFinal(it->second.state)) return absl::OkStatus();  // the first end stands
  }
  return Change(id, FinalState(outcome), [&](JobRecord& r) {
    r.finished = absl::Now();
    r.error_code = outcome.code();
    r.error = std::string(outcome.message());
  });
}

absl::Status SqliteJobStore::Requeue(const std::string& id) {
  return Change(id, v1::JOB_STATE_QUEUED, [&](JobRecord& r) {
    r.stage = v1::STAGE_QUEUED;
    r.done = r.total = 0;
    r.frames_out = 0;
  });
}

absl::Status SqliteJobStore::SetResult(const std::string& id, v1::ResultState result,
                                       int64_t bytes) {
  return Change(id, v1::JOB_STATE_UNSPECIFIED, [&](JobRecord& r) {
    r.result = result;
    r.result_bytes = bytes;
  });
}

absl::Status SqliteJobStore::Delete(const std::string& id) {
  absl::MutexLock lock(&mu_);
  Statement remove(db_, "DELETE FROM jobs WHERE id = ?");
  remove.Bind(1, id);
  const int rc = sqlite3_step(remove.get());
  if (rc != SQLITE_DONE) return SqliteError(db_, rc, absl::StrCat("deleting job ", id));
  jobs_.erase(id);
  return absl::OkStatus();
}

std::optional<JobRecord> SqliteJobStore::Get(const std::string& id) const {
  absl::MutexLock lock(&mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return std::nullopt;
  return it->second;
}

std::vector<JobRecord> SqliteJobStore::List(const std::string& tenant, int64_t before_seq,
                                            int limit) const {
  std::vector<JobRecord> out;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, r] : jobs_) {
      if (r.tenant == tenant && (before_seq <= 0 || r.seq < before_seq)) out.push_back(r);
    }
  }
  std::sort(out.begin(), out.end(), [](const JobRecord& a, const JobRecord& b) { return a.seq > b.seq; });
  if (static_cast<int>(out.size()) > limit) out.resize(limit);
  return out;
}

std::vector<JobRecord> SqliteJobStore::All() const {
  std::vector<JobRecord> out;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, r] : jobs_) out.push_back(r);
  }
  std::sort(out.begin(), out.end(), [](const JobRecord& a, const JobRecord& b) { return a.seq < b.seq; });
  return out;
}

int SqliteJobStore::AddListener(Listener listener) {
  absl::MutexLock lock(&listeners_mu_);
  listeners_.emplace_back(next_listener_, std::move(listener));
  return next_listener_++;
}

void SqliteJobStore::RemoveListener(int handle) {
  absl::MutexLock lock(&listeners_mu_);
  listeners_.erase(std::remove_if(listeners_.begin(), listeners_.end(),
                                  [&](const auto& entry) { return entry.first == handle; }),
                   listeners_.end());
}

void SqliteJobStore::Notify(const JobRecord& now, v1::JobState before) {
  absl::ReaderMutexLock lock(&listeners_mu_);
  for (const auto& [handle, listener] : listeners_) listener(now, before);
}

}  // namespace depthd::server
