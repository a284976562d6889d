// The depthd.v1.DepthService RPCs on gRPC's callback API, mapped onto the job store, the
// scheduler and the results. Streams are reactors (reactors.h); unary calls answer at once.
#ifndef DEPTHD_SERVER_DEPTH_SERVICE_H_
#define DEPTHD_SERVER_DEPTH_SERVICE_H_

#include "depthd/v1/depthd.grpc.pb.h"
#include "server/service_context.h"
#include "server/upload_receiver.h"

namespace depthd::server {

class DepthService final : public v1::DepthService::CallbackService {
 public:
  explicit DepthService(ServiceContext* context) : context_(context), tracker_(context) {}

  // New calls are refused with UNAVAILABLE from now on.
  void StartDraining() { context_->draining = true; }

  grpc::ServerBidiReactor<v1::EstimateRequest, v1::EstimateResponse>* Estimate(
      grpc::CallbackServerContext* context) override;
  grpc::ServerReadReactor<v1::EstimateRequest>* SubmitJob(grpc::CallbackServerContext* context,
                                                          v1::JobStatus* response) override;
  grpc::ServerWriteReactor<v1::JobStatus>* WatchJob(grpc::CallbackServerContext* context,
                                                    const v1::WatchJobRequest* request) override;
  grpc::ServerWriteReactor<v1::EstimateResponse>* FetchResult(
      grpc::CallbackServerContext* context, const v1::FetchResultRequest* request) override;
  grpc::ServerUnaryReactor* ListJobs(grpc::CallbackServerContext* context,
                                     const v1::ListJobsRequest* request,
                                     v1::ListJobsResponse* response) override;
  grpc::ServerUnaryReactor* DeleteJob(grpc::CallbackServerContext* context,
                                      const v1::DeleteJobRequest* request,
                                      v1::JobStatus* response) override;
  grpc::ServerUnaryReactor* GetServerInfo(grpc::CallbackServerContext* context,
                                          const v1::GetServerInfoRequest* request,
                                          v1::ServerInfo* response) override;
  grpc::ServerUnaryReactor* GetJob(grpc::CallbackServerContext* context,
                                   const v1::GetJobRequest* request,
                                   v1::JobStatus* response) override;
  grpc::ServerUnaryReactor* CancelJob(grpc::CallbackServerContext* context,
                                      const v1::CancelJobRequest* request,
                                      v1::JobStatus* response) override;

 private:
  grpc::ServerUnaryReactor* Answer(grpc::CallbackServerContext* context, const char* method,
                                   const absl::Status& status);

  ServiceContext* context_;
  UploadTracker tracker_;
};

}  // namespace depthd::server

#endif  // DEPTHD_SERVER_DEPTH_SERVICE_H_
