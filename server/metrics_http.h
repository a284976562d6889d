// GET /metrics over HTTP/1.1 with GNU libmicrohttpd (event-driven, a small thread pool, idle
// connections closed after 10 s), so a scraper that trickles bytes cannot hold up others.
//
// Why not prometheus-cpp's Exposer: Debian builds its civetweb with 100 KiB thread stacks, and
// in a process that loads LibTorch the static TLS of OpenBLAS (60 KiB), glog (30 KiB) and
// LibTorch (10 KiB) leaves no room in them: pthread_create fails with EINVAL and mg_start
// returns null ("null context when constructing CivetServer"). A standalone program without
// those libraries starts it fine. libmicrohttpd's threads use the default stack size.
#ifndef DEPTHD_SERVER_METRICS_HTTP_H_
#define DEPTHD_SERVER_METRICS_HTTP_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

struct MHD_Daemon;

namespace depthd::server {

class MetricsHttpServer {
 public:
  // address: "host:port" (IPv4, "localhost", or "[v6]:port"). `render` gives the exposition.
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(
      const std::string& address, std::function<std::string()> render);
  ~MetricsHttpServer();
  int port() const { return port_; }

 private:
  MetricsHttpServer() = default;
  std::function<std::string()> render_;
  MHD_Daemon* daemon_ = nullptr;
  int port_ = 0;
  friend struct MetricsHttpHandler;
};

}  // namespace depthd::server

#endif  // DEPTHD_SERVER_METRICS_HTTP_H_
