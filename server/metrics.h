// depthd's Prometheus metrics (prometheus-cpp), exposed on their own address at /metrics.
#ifndef DEPTHD_SERVER_METRICS_H_
#define DEPTHD_SERVER_METRICS_H_

#include <map>
#include <memory>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "absl/status/statusor.h"
#include "server/metrics_http.h"

namespace depthd::server {

class Metrics {
 public:
  Metrics(const std::string& model, const std::string& device, const std::string& dtype);

  // Serves /metrics on `address` ("host:port"); empty disables.
  absl::Status Expose(const std::string& address);

  void ObserveStage(const std::string& stage, double seconds);
  void ObserveJob(double seconds) { job_duration_.Observe(seconds); }
  void ObserveQueueWait(double seconds) { queue_wait_.Observe(seconds); }
  void CountJob(const std::string& outcome);  // succeeded | failed | cancelled | rejected
  void CountFrames(int frames) { frames_.Increment(frames); }
  void SetQueueDepth(int depth) { queue_depth_.Set(depth); }
  void SetJobsRunning(int running) { jobs_running_.Set(running); }
  void ObserveCoalign(int iterations, bool converged_early);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<MetricsHttpServer> http_;
  prometheus::Family<prometheus::Histogram>& stage_family_;
  std::map<std::string, prometheus::Histogram*> stages_;
  prometheus::Histogram& job_duration_;
  prometheus::Histogram& queue_wait_;
  prometheus::Family<prometheus::Counter>& jobs_family_;
  prometheus::Counter& frames_;
  prometheus::Gauge& queue_depth_;
  prometheus::Gauge& jobs_running_;
  prometheus::Histogram& coalign_iterations_;
  prometheus::Counter& coalign_early_stops_;
};

}  // namespace depthd::server

#endif  // DEPTHD_SERVER_METRICS_H_
