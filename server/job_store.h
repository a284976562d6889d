// The JobStore owns every job's record and makes every change to it, through the state machine
// of job_state.h. depthd's store is SQLite on the local disk (sqlite_job_store.h); a database
// shared by replicas can take its place behind this interface.
#ifndef DEPTHD_SERVER_JOB_STORE_H_
#define DEPTHD_SERVER_JOB_STORE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "depthd/v1/depthd.pb.h"

namespace depthd::server {

struct JobRecord {
  std::string id;               // 128 random bits, hex
  std::string tenant;
  int64_t seq = 0;              // admission order, set by Create
  v1::JobSpec spec;
  bool live = false;
  bool frames_upload = false;   // Frame messages (else the bytes of a container)
  v1::JobState state = v1::JOB_STATE_UPLOADING;
  v1::Stage stage = v1::STAGE_UPLOAD;
  int64_t done = 0, total = 0;
  int frames_out = 0;
  absl::Time created, started, finished;
  absl::StatusCode error_code = absl::StatusCode::kOk;
  std::string error;
  int64_t upload_bytes = 0;     // durable
  int upload_frames = 0;        // durable
  bool upload_complete = false;
  v1::ResultState result = v1::RESULT_STATE_NONE;
  int64_t result_bytes = 0;
  int attempts = 0;

  absl::Status status() const {
    return error_code == absl::StatusCode::kOk ? absl::OkStatus() : absl::Status(error_code, error);
  }
};

class JobStore {
 public:
  // Called after each change with the record as it is now and the state it had before.
  using Listener = std::function<void(const JobRecord& now, v1::JobState before)>;

  virtual ~JobStore() = default;

  // Stores a new job (UPLOADING, or RUNNING for a live job) and gives it the next `seq`.
  // RESOURCE_EXHAUSTED when the disk is full.
  virtual absl::StatusOr<JobRecord> Create(JobRecord record) = 0;
  // The upload durable so far (resumable from there).
  virtual absl::Status RecordUpload(const std::string& id, int64_t bytes, int frames) = 0;
  // The whole upload is in and durable: UPLOADING -> QUEUED (or stays RUNNING).
  virtual absl::Status CompleteUpload(const std::string& id, int64_t bytes, int frames) = 0;
  // QUEUED (or UPLOADING, for a job that streams while its upload arrives) -> RUNNING.
  virtual absl::Status Start(const std::string& id) = 0;
  // Stage and counts of a running job: kept in memory, written with the next state change.
  virtual void Progress(const std::string& id, v1::Stage stage, int64_t done, int64_t total,
                        int frames_out) = 0;
  // The end: SUCCEEDED, FAILED or CANCELLED by the status (job_state.h). A job already ended
  // keeps its first end (a cancel racing the last frame does not rewrite a success).
  virtual absl::Status Finish(const std::string& id, const absl::Status& outcome) = 0;
  // RUNNING -> QUEUED: the server stops before the job ended; the next start runs it again.
  virtual absl::Status Requeue(const std::string& id) = 0;
  virtual absl::Status SetResult(const std::string& id, v1::ResultState result, int64_t bytes) = 0;
  virtual absl::Status Delete(const std::string& id) = 0;

  virtual std::optional<JobRecord> Get(const std::string& id) const = 0;
  // A tenant's jobs with seq < `before_seq` (0: from the newest), newest first.
  virtual std::vector<JobRecord> List(const std::string& tenant, int64_t before_seq,
                                      int limit) const = 0;
  // Every job, in admission order (recovery, eviction, metrics).
  virtual std::vector<JobRecord> All() const = 0;

  virtual int AddListener(Listener listener) = 0;
  virtual void RemoveListener(int handle) = 0;
};

}  // namespace depthd::server

#endif  // DEPTHD_SERVER_JOB_STORE_H_
