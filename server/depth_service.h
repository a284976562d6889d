// The depthd.v1.DepthService RPCs, mapped onto the job queue and core/.
#ifndef DEPTHD_SERVER_DEPTH_SERVICE_H_
#define DEPTHD_SERVER_DEPTH_SERVICE_H_

#include <atomic>
#include <string>

#include "core/model/model_loader.h"
#include "depthd/v1/depthd.grpc.pb.h"
#include "server/job_queue.h"
#include "server/job_spec.h"
#include "server/metrics.h"

namespace depthd::server {

class DepthService final : public v1::DepthService::Service {
 public:
  DepthService(ModelInfo model, std::string model_path, ServerLimits limits,
               std::string spool_dir, JobQueue* queue, Metrics* metrics)
      : model_(std::move(model)), model_path_(std::move(model_path)), limits_(limits),
        spool_dir_(std::move(spool_dir)), queue_(queue), metrics_(metrics) {}

  // New Estimate calls are refused with UNAVAILABLE from now on.
  void StartDraining() { draining_ = true; }

  grpc::Status Estimate(grpc::ServerContext* context,
                        grpc::ServerReaderWriter<v1::EstimateResponse, v1::EstimateRequest>* stream) override;
  grpc::Status GetServerInfo(grpc::ServerContext* context, const v1::GetServerInfoRequest* request,
                             v1::ServerInfo* response) override;
  grpc::Status GetJob(grpc::ServerContext* context, const v1::GetJobRequest* request,
                      v1::JobStatus* response) override;
  grpc::Status CancelJob(grpc::ServerContext* context, const v1::CancelJobRequest* request,
                         v1::JobStatus* response) override;

 private:
  // Reads the video after the spec, spooling chunks to disk or decoding frames.
  absl::Status ReceiveUpload(grpc::ServerContext* context,
                             grpc::ServerReaderWriter<v1::EstimateResponse, v1::EstimateRequest>* stream,
                             Job& job);
  void FillStatus(const Job& job, v1::JobStatus* out) const;

  const ModelInfo model_;
  const std::string model_path_;
  const ServerLimits limits_;
  const std::string spool_dir_;
  JobQueue* queue_;
  Metrics* metrics_;
  std::atomic<bool> draining_{false};
};

}  // namespace depthd::server

#endif  // DEPTHD_SERVER_DEPTH_SERVICE_H_
