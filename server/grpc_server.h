// The gRPC endpoint: listening address, TLS (optionally mutual), health and reflection, message
// limits and keepalive. Serving beyond loopback without TLS and tokens is refused unless
// --allow_insecure says so, and then warned about.
#ifndef DEPTHD_SERVER_GRPC_SERVER_H_
#define DEPTHD_SERVER_GRPC_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"

namespace depthd::server {

struct GrpcServerOptions {
  std::string listen = "127.0.0.1:50051";
  std::string tls_cert;       // PEM certificate chain; with tls_key turns TLS on
  std::string tls_key;        // PEM private key
  std::string tls_client_ca;  // PEM CA bundle: clients must present a certificate it signed
  bool tokens = false;        // bearer tokens are required (--auth_tokens)
  bool allow_insecure = false;
  int max_receive_bytes = 8 << 20;
  int max_send_bytes = 256 << 20;
};

class GrpcServer {
 public:
  // Binds and starts. INVALID_ARGUMENT for unreadable certificates, FAILED_PRECONDITION for an
  // insecure non-loopback address without --allow_insecure, UNAVAILABLE when the port is taken.
  static absl::StatusOr<std::unique_ptr<GrpcServer>> Create(const GrpcServerOptions& options,
                                                            const std::vector<grpc::Service*>& services);
  ~GrpcServer();

  int port() const { return port_; }
  bool tls() const { return tls_; }
  // Health: SERVING or NOT_SERVING (draining).
  void SetServing(bool serving);
  // Stops accepting calls and waits for those in flight until `deadline`, then cancels them.
  void Shutdown(absl::Time deadline);

 private:
  GrpcServer(std::unique_ptr<grpc::Server> server, int port, bool tls)
      : server_(std::move(server)), port_(port), tls_(tls) {}
  std::unique_ptr<grpc::Server> server_;
  int port_;
  bool tls_;
};

// "127.0.0.1:50051", "[::1]:50051", "localhost:1", "unix:..." are local; anything else is not.
bool IsLoopback(const std::string& address);

}  // namespace depthd::server

#endif  // DEPTHD_SERVER_GRPC_SERVER_H_
