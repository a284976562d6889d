// depthd's Prometheus metrics (prometheus-cpp's registry), served at /metrics on their own
// address (metrics_http.h explains why not by prometheus-cpp's Exposer).
#ifndef DEPTHD_SERVER_METRICS_H_
#define DEPTHD_SERVER_METRICS_H_

#include <map>
#include <memory>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "absl/status/status.h"
#include "server/metrics_http.h"


namespace depthd::server {

class Metrics {
 public:
  Metrics(const std::string& model, const std::string& device, const std::string& dtype);
  ~Metrics();

  // Serves /metrics on `address` ("host:port"); empty disables.
  absl::Status Expose(const std::string& address);
  // The exposition text, as /metrics serves it.
  std::string Render() const;

  void ObserveStage(const std::string& stage, double seconds);
  void ObserveJob(double seconds) { job_duration_.Observe(seconds); }
  void ObserveQueueWait(double seconds) { queue_wait_.Observe(seconds); }
  // succeeded | invalid | failed | cancelled | rejected (job_state.h)
  void CountJob(const std::string& outcome);
  // Every call, by method and gRPC status code name.
  void CountRpc(const std::string& method, const std::string& code);
  void CountFrames(int frames) { frames_.Increment(frames); }
  void CountFramesSkipped(int frames) { frames_skipped_.Increment(frames); }
  void SetQueueDepth(int depth) { queue_depth_.Set(depth); }
  void SetJobsRunning(int running) { jobs_running_.Set(running); }
  void ObserveCoalign(int iterations, bool converged_early);
  void SetJobsStored(int64_t jobs) { jobs_stored_.Set(static_cast<double>(jobs)); }
  void SetResultsBytes(int64_t bytes) { results_bytes_.Set(static_cast<double>(bytes)); }
  void CountResultsEvicted(int jobs) { results_evicted_.Increment(jobs); }
  void CountJobsRecovered(int jobs) { jobs_recovered_.Increment(jobs); }
  void SetMemoryBytes(int64_t in_use, int64_t budget);
  void SetDeviceMemoryBytes(int64_t bytes) { device_memory_.Set(static_cast<double>(bytes)); }
  void ObserveLiveLatency(double frames) { live_latency_.Observe(frames); }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<MetricsHttpServer> http_;
  prometheus::Family<prometheus::Histogram>& stage_family_;
  std::map<std::string, prometheus::Histogram*> stages_;
  prometheus::Histogram& job_duration_;
  prometheus::Histogram& queue_wait_;
  prometheus::Family<prometheus::Counter>& jobs_family_;
  prometheus::Family<prometheus::Counter>& rpc_family_;
  prometheus::Counter& frames_;
  prometheus::Counter& frames_skipped_;
  prometheus::Gauge& queue_depth_;
  prometheus::Gauge& jobs_running_;
  prometheus::Histogram& coalign_iterations_;
  prometheus::Counter& coalign_early_stops_;
  prometheus::Gauge& jobs_stored_;
  prometheus::Gauge& results_bytes_;
  prometheus::Counter& results_evicted_;
  prometheus::Counter& jobs_recovered_;
  prometheus::Gauge& memory_in_use_;
  prometheus::Gauge& memory_budget_;
  prometheus::Gauge& device_memory_;
  prometheus::Histogram& live_latency_;
};

}  // namespace depthd::server

#endif  // DEPTHD_SERVER_METRICS_H_
