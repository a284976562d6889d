#include "server/service_context.h"

#include <sys/statvfs.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/job_state.h"

namespace depthd::server {

grpc::Status ToGrpc(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

absl::StatusOr<std::string> ServiceContext::Identify(grpc::CallbackServerContext* context) const {
  if (auth != nullptr) {
    const auto& metadata = context->client_metadata();
    auto it = metadata.find("authorization");
    std::optional<absl::string_view> header;
    if (it != metadata.end()) header = absl::string_view(it->second.data(), it->second.size());
    return auth->Authenticate(header);
  }
  const auto auth_context = context->auth_context();
  if (auth_context && auth_context->IsPeerAuthenticated()) {
    for (const auto& name : auth_context->FindPropertyValues("x509_common_name")) {
      return absl::StrCat("cn:", std::string(name.data(), name.size()));
    }
  }
  return std::string("default");
}

absl::StatusOr<JobRecord> ServiceContext::FindJob(const std::string& tenant, const std::string& id) const {
  const std::optional<JobRecord> record = store->Get(id);
  if (!record || record->tenant != tenant) {
    return absl::NotFoundError(absl::StrCat("no job '", id, "'"));
  }
  return *record;
}

void ServiceContext::FillStatus(const JobRecord& r, v1::JobStatus* out) const {
  out->set_job_id(r.id);
  out->set_state(r.state);
  out->set_stage(r.stage);
  out->set_done(r.done);
  out->set_total(r.total);
  out->set_frames(r.frames_out);
  out->set_error(r.error);
  out->set_error_code(static_cast<int>(r.error_code));
  out->set_queue_position(std::max(0, scheduler->Position(r.id)));
  auto millis = [](absl::Time t) { return t == absl::Time() ? 0 : absl::ToUnixMillis(t); };
  out->set_created_unix_ms(millis(r.created));
  out->set_started_unix_ms(millis(r.started));
  out->set_finished_unix_ms(millis(r.finished));
  out->set_upload_bytes(r.upload_bytes);
  out->set_upload_frames(r.upload_frames);
  out->set_upload_complete(r.upload_complete);
  out->set_result(r.result);
  out->set_result_bytes(r.result_bytes);
  out->set_live(r.live);
  out->set_attempts(r.attempts);
  *out->mutable_spec() = r.spec;
  out->set_replica_address(advertise_address);
}

absl::Status ServiceContext::CheckDisk() const {
  struct statvfs fs;
  if (statvfs(state_dir.c_str(), &fs) != 0) return absl::OkStatus();
  const int64_t free_bytes = static_cast<int64_t>(fs.f_bavail) * fs.f_frsize;
  if (free_bytes < limits.min_free_disk_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the server's disk has ", free_bytes >> 20, " MiB free, below --min_free_disk_bytes (",
        limits.min_free_disk_bytes >> 20, " MiB); retry later"));
  }
  return absl::OkStatus();
}

void ServiceContext::CountRpc(const char* method, const grpc::Status& status) const {
  static const char* kNames[] = {"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT",
                                 "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
                                 "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
                                 "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL",
                                 "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};
  const int code = static_cast<int>(status.error_code());
  metrics->CountRpc(method, code >= 0 && code <= 16 ? kNames[code] : "UNKNOWN");
}

int ServiceContext::Register(std::weak_ptr<Abortable> stream) {
  absl::MutexLock lock(&streams_mu_);
  streams_[next_stream_] = std::move(stream);
  return next_stream_++;
}

void ServiceContext::Unregister(int handle) {
  absl::MutexLock lock(&streams_mu_);
  streams_.erase(handle);
}

void ServiceContext::AbortAll(const grpc::Status& status) {
  std::vector<std::shared_ptr<Abortable>> open;
  {
    absl::MutexLock lock(&streams_mu_);
    for (auto& [handle, weak] : streams_) {
      if (auto stream = weak.lock()) open.push_back(std::move(stream));
    }
  }
  for (auto& stream : open) stream->Abort(status);
}

void ServiceContext::AwaitDeliveries(absl::Time deadline) {
  auto delivering = [this] {
    absl::MutexLock lock(&streams_mu_);
    for (auto& [handle, weak] : streams_) {
      const std::shared_ptr<Abortable> stream = weak.lock();
      if (stream && stream->Delivering()) return true;
    }
    return false;
  };
  // Streams end on the completion queue's threads; a short poll keeps this free of their locks.
  while (delivering() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(20));
}

}  // namespace depthd::server
