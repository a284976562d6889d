#include "server/metrics.h"

#include <prometheus/text_serializer.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace depthd::server {
namespace {

prometheus::Histogram::BucketBoundaries SecondsBuckets() {
  // 5 ms .. ~10 min, roughly x2.5 per bucket.
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 600};
}

}  // namespace

Metrics::Metrics(const std::string& model, const std::string& device, const std::string& dtype)
    : registry_(std::make_shared<prometheus::Registry>()),
      stage_family_(prometheus::BuildHistogram()
                        .Name("depthd_stage_duration_seconds")
                        .Help("Time spent in each stage of a job")
                        .Register(*registry_)),
      job_duration_(prometheus::BuildHistogram()
                        .Name("depthd_job_duration_seconds")
                        .Help("Time from a job's start to its end")
                        .Register(*registry_)
                        .Add({}, SecondsBuckets())),
      queue_wait_(prometheus::BuildHistogram()
                      .Name("depthd_queue_wait_seconds")
                      .Help("Time a job waited in the queue after its upload")
                      .Register(*registry_)
                      .Add({}, SecondsBuckets())),
      jobs_family_(prometheus::BuildCounter()
                       .Name("depthd_jobs_total")
                       .Help("Jobs that ended, and calls refused before they became a job, by outcome")
                       .Register(*registry_)),
      rpc_family_(prometheus::BuildCounter()
                      .Name("depthd_rpcs_total")
                      .Help("Calls by method and gRPC status code")
                      .Register(*registry_)),
      frames_(prometheus::BuildCounter()
                  .Name("depthd_frames_total")
                  .Help("Depth frames produced")
                  .Register(*registry_)
                  .Add({})),
      frames_skipped_(prometheus::BuildCounter()
                          .Name("depthd_frames_skipped_total")
                          .Help("Live input frames skipped because the device fell behind")
                          .Register(*registry_)
                          .Add({})),
      queue_depth_(prometheus::BuildGauge()
                       .Name("depthd_queue_depth")
                       .Help("Jobs admitted and not yet running (uploading or waiting)")
                       .Register(*registry_)
                       .Add({})),
      jobs_running_(prometheus::BuildGauge()
                        .Name("depthd_jobs_running")
                        .Help("Jobs running (sharing the device batch by batch)")
                        .Register(*registry_)
                        .Add({})),
      coalign_iterations_(prometheus::BuildHistogram()
                              .Name("depthd_coalign_iterations")
                              .Help("Co-alignment iterations per job")
                              .Register(*registry_)
                              .Add({}, prometheus::Histogram::BucketBoundaries{
                                           5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000})),
      coalign_early_stops_(prometheus::BuildCounter()
                               .Name("depthd_coalign_early_stops_total")
                               .Help("Co-alignments that converged before max_iterations")
                               .Register(*registry_)
                               .Add({})),
      jobs_stored_(prometheus::BuildGauge()
                       .Name("depthd_jobs_stored")
                       .Help("Job records in the job store")
                       .Register(*registry_)
                       .Add({})),
      results_bytes_(prometheus::BuildGauge()
                         .Name("depthd_results_bytes")
                         .Help("Bytes of job results kept on disk")
                         .Register(*registry_)
                         .Add({})),
      results_evicted_(prometheus::BuildCounter()
                           .Name("depthd_results_evicted_total")
                           .Help("Job results removed by --result_ttl or --results_max_bytes")
                           .Register(*registry_)
                           .Add({})),
      jobs_recovered_(prometheus::BuildCounter()
                          .Name("depthd_jobs_recovered_total")
                          .Help("Jobs taken up again from the job store at start-up")
                          .Register(*registry_)
                          .Add({})),
      memory_in_use_(prometheus::BuildGauge()
                         .Name("depthd_memory_reserved_bytes")
                         .Help("Memory reserved by running jobs")
                         .Register(*registry_)
                         .Add({})),
      memory_budget_(prometheus::BuildGauge()
                         .Name("depthd_memory_budget_bytes")
                         .Help("The memory budget for running jobs (--max_memory_bytes)")
                         .Register(*registry_)
                         .Add({})),
      device_memory_(prometheus::BuildGauge()
                         .Name("depthd_device_memory_bytes")
                         .Help("Memory allocated on the model's device (CUDA; 0 elsewhere)")
                         .Register(*registry_)
                         .Add({})),
      live_latency_(prometheus::BuildHistogram()
                        .Name("depthd_live_latency_frames")
                        .Help("Input frames a live depth frame waited before it left")
                        .Register(*registry_)
                        .Add({}, prometheus::Histogram::BucketBoundaries{
                                     1, 2, 4, 6, 8, 10, 15, 20, 30, 50, 100})) {
  for (const char* stage :
       {"upload", "decode", "inference", "coalign", "refine", "merge", "encode_output"}) {
    stages_[stage] = &stage_family_.Add({{"stage", stage}}, SecondsBuckets());
  }
  for (const char* outcome : {"succeeded", "invalid", "failed", "cancelled", "rejected"}) {
    jobs_family_.Add({{"outcome", outcome}});
  }
  prometheus::BuildGauge()
      .Name("depthd_build_info")
      .Help("Build of this depthd")
      .Register(*registry_)
      .Add({{"version", DEPTHD_VERSION}})
      .Set(1);
  prometheus::BuildGauge()
      .Name("depthd_model_info")
      .Help("The model this depthd serves")
      .Register(*registry_)
      .Add({{"version", DEPTHD_VERSION}, {"model", model}, {"device", device}, {"dtype", dtype}})
      .Set(1);
}

Metrics::~Metrics() = default;

absl::Status Metrics::Expose(const std::string& address) {
  if (address.empty()) return absl::OkStatus();
  auto server = MetricsHttpServer::Start(address, [this] { return Render(); });
  if (!server.ok()) return server.status();
  http_ = *std::move(server);
  return absl::OkStatus();
}

std::string Metrics::Render() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

void Metrics::ObserveStage(const std::string& stage, double seconds) {
  auto it = stages_.find(stage);
  if (it != stages_.end()) it->second->Observe(seconds);
}

void Metrics::CountJob(const std::string& outcome) { jobs_family_.Add({{"outcome", outcome}}).Increment(); }

void Metrics::CountRpc(const std::string& method, const std::string& code) {
  rpc_family_.Add({{"method", method}, {"code", code}}).Increment();
}

void Metrics::ObserveCoalign(int iterations, bool converged_early) {
  coalign_iterations_.Observe(iterations);
  if (converged_early) coalign_early_stops_.Increment();
}

void Metrics::SetMemoryBytes(int64_t in_use, int64_t budget) {
  memory_in_use_.Set(static_cast<double>(in_use));
  memory_budget_.Set(static_cast<double>(budget));
}

}  // namespace depthd::server
