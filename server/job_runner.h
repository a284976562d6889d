// Runs one job on its own thread: reads its upload (or live frames) as they arrive, decodes,
// feeds the video session, encodes each final depth frame into the job's result, and writes the
// Summary. The device is shared with other running jobs through fair turns (DeviceQueue).
#ifndef DEPTHD_SERVER_JOB_RUNNER_H_
#define DEPTHD_SERVER_JOB_RUNNER_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "core/device_queue.h"
#include "core/model/model_loader.h"
#include "server/active_job.h"
#include "server/job_store.h"
#include "server/memory_budget.h"
#include "server/metrics.h"

namespace depthd {
class DepthModel;
}

namespace depthd::server {

struct RunnerOptions {
  std::string spill_dir;  // GLOBAL-normalised frames wait here (an unnamed file)
  absl::Duration write_stall = absl::Seconds(30);  // live jobs: a reader that stopped
};

class JobRunner {
 public:
  JobRunner(std::shared_ptr<DepthModel> model, ModelInfo info, JobStore* store, Metrics* metrics,
            RunnerOptions options);

  // Runs the job to its end and returns how it ended. No exception leaves it: allocation
  // failures are RESOURCE_EXHAUSTED, anything else INTERNAL, naming the job.
  absl::Status Run(ActiveJob& job, MemoryReservation& reservation);

  // What a job needs in memory before it starts (its window, frames and batch at the processing
  // resolution); a job whose estimate exceeds the whole budget is refused at admission.
  static int64_t EstimateBytes(const ResolvedJob& spec, int64_t max_pixels);

  DeviceQueue& device() { return device_; }

 private:
  absl::Status RunUnguarded(ActiveJob& job, MemoryReservation& reservation);

  std::shared_ptr<DepthModel> model_;
  const ModelInfo info_;
  JobStore* store_;
  Metrics* metrics_;
  const RunnerOptions options_;
  DeviceQueue device_;
};

}  // namespace depthd::server

#endif  // DEPTHD_SERVER_JOB_RUNNER_H_
