// How depthctl reaches depthd: the channel (plaintext, TLS, or mutual TLS) and, per call, the
// deadline and the bearer token.
#ifndef DEPTHD_CLIENT_CONNECTION_H_
#define DEPTHD_CLIENT_CONNECTION_H_

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "depthd/v1/depthd.grpc.pb.h"

namespace depthd::client {

// The channel from --server, --tls_ca / --tls_cert / --tls_key / --tls_server_name.
absl::StatusOr<std::shared_ptr<grpc::Channel>> Connect();
absl::StatusOr<std::unique_ptr<v1::DepthService::Stub>> ConnectService();

// --timeout as the deadline (none when 0) and the token from --token_file or $DEPTHD_TOKEN.
void Prepare(grpc::ClientContext& context, bool with_timeout = true);

// "DEADLINE_EXCEEDED: message" on stderr; returns the exit code (1).
int Fail(const grpc::Status& status);
int Fail(const absl::Status& status);
std::string CodeName(grpc::StatusCode code);
// A failure worth retrying on the same job (the server restarted, the network dropped).
bool Transient(const grpc::Status& status);

}  // namespace depthd::client

#endif  // DEPTHD_CLIENT_CONNECTION_H_
