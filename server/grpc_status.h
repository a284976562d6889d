// absl::Status -> grpc::Status. The code spaces are identical, so the mapping is one to one.
#ifndef DEPTHD_SERVER_GRPC_STATUS_H_
#define DEPTHD_SERVER_GRPC_STATUS_H_

#include <string>

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace depthd::server {

inline grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

}  // namespace depthd::server

#endif  // DEPTHD_SERVER_GRPC_STATUS_H_
