// What the RPC handlers share: the job store, scheduler and results, identity, limits, the
// timer thread, and the registry of open streams (ended at shutdown).
#ifndef DEPTHD_SERVER_SERVICE_CONTEXT_H_
#define DEPTHD_SERVER_SERVICE_CONTEXT_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/model/model_loader.h"
#include "server/auth.h"
#include "server/job_spec.h"
#include "server/job_store.h"
#include "server/metrics.h"
#include "server/result_catalog.h"
#include "server/scheduler.h"
#include "server/timers.h"

namespace depthd::server {

struct ServiceLimits {
  ServerLimits job;
  JobDefaults defaults;
  absl::Duration upload_idle_timeout = absl::Seconds(30);
  absl::Duration write_stall_timeout = absl::Seconds(30);
  absl::Duration live_idle_timeout = absl::Seconds(10);
  int64_t min_free_disk_bytes = 256LL << 20;
  int64_t max_memory_bytes = 0;
  int max_active_jobs = 2;
  absl::Duration result_ttl = absl::Hours(24);
  int64_t results_max_bytes = 0;
};

// A stream that can be ended from outside (shutdown).
class Abortable {
 public:
  virtual ~Abortable() = default;
  virtual void Abort(const grpc::Status& status) = 0;
  // Still writing a result that is complete (a drain waits for these).
  virtual bool Delivering() const { return false; }
};

struct ServiceContext {
  ModelInfo model;
  std::string model_sha256;
  ServiceLimits limits;
  std::string state_dir;
  std::string advertise_address;  // named in every JobStatus (replicas: docs/operations.md)
  bool tls = false;
  const TokenAuth* auth = nullptr;  // null: no tokens
  JobStore* store = nullptr;
  Scheduler* scheduler = nullptr;
  ResultCatalog* results = nullptr;
  Metrics* metrics = nullptr;
  Timers* timers = nullptr;
  std::atomic<bool> draining{false};

  // The caller's tenant: from its token (--auth_tokens), else from its client certificate
  // (mutual TLS), else "default". UNAUTHENTICATED without a valid token.
  absl::StatusOr<std::string> Identify(grpc::CallbackServerContext* context) const;
  // The caller's job, or NOT_FOUND (also for another tenant's job: it does not exist for them).
  absl::StatusOr<JobRecord> FindJob(const std::string& tenant, const std::string& id) const;
  // The record as clients see it.
  void FillStatus(const JobRecord& record, v1::JobStatus* out) const;
  // The server has room for an upload: RESOURCE_EXHAUSTED when its disk is nearly full.
  absl::Status CheckDisk() const;
  // Counts a finished call.
  void CountRpc(const char* method, const grpc::Status& status) const;

  // Open streams, ended with UNAVAILABLE at shutdown.
  int Register(std::weak_ptr<Abortable> stream);
  void Unregister(int handle);
  void AbortAll(const grpc::Status& status);
  // Waits until no stream is still writing a complete result, or until `deadline`.
  void AwaitDeliveries(absl::Time deadline);

 private:
  absl::Mutex streams_mu_;
  std::map<int, std::weak_ptr<Abortable>> streams_ ABSL_GUARDED_BY(streams_mu_);
  int next_stream_ ABSL_GUARDED_BY(streams_mu_) = 1;
};

grpc::Status ToGrpc(const absl::Status& status);

}  // namespace depthd::server

#endif  // DEPTHD_SERVER_SERVICE_CONTEXT_H_
