#include "server/depth_service.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/coalign.h"
#include "core/pipeline_options.h"
#include "core/status_macros.h"
#include "server/job_state.h"
#include "server/reactors.h"

namespace depthd::server {
namespace {

absl::Status Unavailable() {
  return absl::UnavailableError("depthd is shutting down; retry on another server");
}

}  // namespace

grpc::ServerUnaryReactor* DepthService::Answer(grpc::CallbackServerContext* context,
                                               const char* method, const absl::Status& status) {
  const grpc::Status grpc_status = ToGrpc(status);
  context_->CountRpc(method, grpc_status);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc_status);
  return reactor;
}

grpc::ServerBidiReactor<v1::EstimateRequest, v1::EstimateResponse>* DepthService::Estimate(
    grpc::CallbackServerContext* context) {
  return StartEstimate(context_, &tracker_, context);
}

grpc::ServerReadReactor<v1::EstimateRequest>* DepthService::SubmitJob(
    grpc::CallbackServerContext* context, v1::JobStatus* response) {
  return StartSubmit(context_, &tracker_, context, response);
}

grpc::ServerWriteReactor<v1::JobStatus>* DepthService::WatchJob(grpc::CallbackServerContext* context,
                                                                const v1::WatchJobRequest* request) {
  return StartWatch(context_, context, request);
}

grpc::ServerWriteReactor<v1::EstimateResponse>* DepthService::FetchResult(
    grpc::CallbackServerContext* context, const v1::FetchResultRequest* request) {
  return StartFetch(context_, context, request);
}

grpc::ServerUnaryReactor* DepthService::ListJobs(grpc::CallbackServerContext* context,
                                                 const v1::ListJobsRequest* request,
                                                 v1::ListJobsResponse* response) {
  absl::Status status = [&]() -> absl::Status {
    DEPTHD_ASSIGN_OR_RETURN(std::string tenant, context_->Identify(context));
    const int size = request->page_size() <= 0 ? 50 : std::min(request->page_size(), 1000);
    int64_t before = 0;
    if (!request->page_token().empty() && !absl::SimpleAtoi(request->page_token(), &before)) {
      return absl::InvalidArgumentError("page_token is not one this server gave");
    }
    std::vector<JobRecord> jobs = context_->store->List(tenant, before, size + 1);
    for (int i = 0; i < static_cast<int>(jobs.size()) && i < size; ++i) {
      v1::JobStatus* status = response->add_jobs();
      context_->FillStatus(jobs[i], status);
      status->clear_spec();
    }
    if (static_cast<int>(jobs.size()) > size) response->set_next_page_token(absl::StrCat(jobs[size - 1].seq));
    return absl::OkStatus();
  }();
  return Answer(context, "ListJobs", status);
}

grpc::ServerUnaryReactor* DepthService::DeleteJob(grpc::CallbackServerContext* context,
                                                  const v1::DeleteJobRequest* request,
                                                  v1::JobStatus* response) {
  absl::Status status = [&]() -> absl::Status {
    DEPTHD_ASSIGN_OR_RETURN(std::string tenant, context_->Identify(context));
    DEPTHD_ASSIGN_OR_RETURN(JobRecord record, context_->FindJob(tenant, request->job_id()));
    if (!IsFinal(record.state)) {
      DEPTHD_RETURN_IF_ERROR(context_->scheduler->Cancel(
          record.id, absl::CancelledError("the job was deleted (DeleteJob)")));
      if (auto updated = context_->store->Get(record.id)) record = *updated;
    }
    if (!IsFinal(record.state)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "job ", record.id, " is stopping; delete it again once it has ended"));
    }
    context_->FillStatus(record, response);
    context_->results->Remove(record.id, absl::NotFoundError(absl::StrCat("job ", record.id, " was deleted")));
    return context_->store->Delete(record.id);
  }();
  return Answer(context, "DeleteJob", status);
}

grpc::ServerUnaryReactor* DepthService::GetServerInfo(grpc::CallbackServerContext* context,
                                                      const v1::GetServerInfoRequest*,
                                                      v1::ServerInfo* response) {
  absl::Status status = context_->Identify(context).status();
  if (status.ok()) {
    const ModelInfo& model = context_->model;
    response->set_version(DEPTHD_VERSION);
    v1::ModelDescription* m = response->mutable_model();
    m->set_name(model.contract.name);
    m->set_sha256(context_->model_sha256);
    m->set_snippet_length(model.contract.snippet_length);
    m->set_size_multiple(model.contract.size_multiple);
    m->set_output(model.contract.output);
    m->set_supports_refine(model.contract.supports_refine);
    m->set_contract_json(model.contract.sidecar_json);
    response->set_device(DeviceName(model.device));
    response->set_dtype(DTypeName(model.dtype));
    for (const std::string& preset : PresetNames()) response->add_presets(preset);
    for (CoalignSolver solver : {CoalignSolver::kFast, CoalignSolver::kEarlyStop, CoalignSolver::kReference}) {
      response->add_coalign_solvers(CoalignSolverName(solver));
    }
    const ServiceLimits& l = context_->limits;
    v1::Limits* limits = response->mutable_limits();
    limits->set_max_upload_bytes(l.job.max_upload_bytes);
    limits->set_max_frames(l.job.max_frames);
    limits->set_max_pixels(l.job.max_pixels);
    limits->set_queue_size(l.job.queue_size);
    limits->set_max_chunk_bytes(1 << 20);
    limits->set_max_memory_bytes(l.max_memory_bytes);
    limits->set_upload_idle_timeout_seconds(absl::ToDoubleSeconds(l.upload_idle_timeout));
    limits->set_write_stall_timeout_seconds(absl::ToDoubleSeconds(l.write_stall_timeout));
    limits->set_max_active_jobs(l.max_active_jobs);
    limits->set_result_ttl_seconds(absl::ToDoubleSeconds(l.result_ttl));
    limits->set_results_max_bytes(l.results_max_bytes);
    response->set_queue_depth(context_->scheduler->waiting());
    response->set_jobs_running(context_->scheduler->running());
    response->set_default_coalign_scope(CoalignScopeName(l.defaults.scope));
    response->set_tls(context_->tls);
    response->set_authentication(context_->auth != nullptr);
    response->set_replica_address(context_->advertise_address);
  }
  return Answer(context, "GetServerInfo", status);
}

grpc::ServerUnaryReactor* DepthService::GetJob(grpc::CallbackServerContext* context,
                                               const v1::GetJobRequest* request,
                                               v1::JobStatus* response) {
  absl::Status status = [&]() -> absl::Status {
    DEPTHD_ASSIGN_OR_RETURN(std::string tenant, context_->Identify(context));
    DEPTHD_ASSIGN_OR_RETURN(JobRecord record, context_->FindJob(tenant, request->job_id()));
    context_->FillStatus(record, response);
    return absl::OkStatus();
  }();
  return Answer(context, "GetJob", status);
}

grpc::ServerUnaryReactor* DepthService::CancelJob(grpc::CallbackServerContext* context,
                                                  const v1::CancelJobRequest* request,
                                                  v1::JobStatus* response) {
  absl::Status status = [&]() -> absl::Status {
    DEPTHD_ASSIGN_OR_RETURN(std::string tenant, context_->Identify(context));
    DEPTHD_ASSIGN_OR_RETURN(JobRecord record, context_->FindJob(tenant, request->job_id()));
    if (context_->draining) return Unavailable();
    DEPTHD_RETURN_IF_ERROR(context_->scheduler->Cancel(
        record.id, absl::CancelledError("cancelled by CancelJob")));
    if (auto updated = context_->store->Get(record.id)) record = *updated;
    context_->FillStatus(record, response);
    return absl::OkStatus();
  }();
  return Answer(context, "CancelJob", status);
}

}  // namespace depthd::server
