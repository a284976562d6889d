// Runs one job on the worker thread: decode, the core pipeline, encoding of the depth frames,
// and the job's Summary; everything it produces goes through the job's channel.
#ifndef DEPTHD_SERVER_JOB_RUNNER_H_
#define DEPTHD_SERVER_JOB_RUNNER_H_

#include <memory>

#include "core/model/model_loader.h"
#include "server/job.h"
#include "server/metrics.h"

namespace depthd::server {

class JobRunner {
 public:
  JobRunner(std::shared_ptr<DepthModel> model, ModelInfo info, Metrics* metrics)
      : model_(std::move(model)), info_(std::move(info)), metrics_(metrics) {}

  // Closes the job's channel with the final status, however the job ends.
  void Run(Job& job);

 private:
  std::shared_ptr<DepthModel> model_;
  ModelInfo info_;
  Metrics* metrics_;
};

}  // namespace depthd::server

#endif  // DEPTHD_SERVER_JOB_RUNNER_H_
