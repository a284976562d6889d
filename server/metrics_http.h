// A minimal HTTP/1.1 endpoint for GET /metrics (Prometheus text format). prometheus-cpp's
// civetweb Exposer fails to start inside depthd's process (mg_start returns null after a
// successful bind), so depthd serves the scrape itself; only the registry comes from
// prometheus-cpp.
#ifndef DEPTHD_SERVER_METRICS_HTTP_H_
#define DEPTHD_SERVER_METRICS_HTTP_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

namespace depthd::server {

class MetricsHttpServer {
 public:
  // address: "host:port". `render` returns the exposition text.
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(const std::string& address,
                                                                   std::function<std::string()> render);
  ~MetricsHttpServer();

 private:
  MetricsHttpServer(int fd, std::function<std::string()> render);
  void Serve();

  int fd_;
  std::function<std::string()> render_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace depthd::server

#endif  // DEPTHD_SERVER_METRICS_HTTP_H_
