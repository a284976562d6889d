// One Estimate call from the client side: streams a video file (or a folder of images) up and
// hands every response to the caller as it arrives.
#ifndef DEPTHD_CLIENT_ESTIMATE_CALL_H_
#define DEPTHD_CLIENT_ESTIMATE_CALL_H_

#include <functional>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "depthd/v1/depthd.grpc.pb.h"

namespace depthd::client {

struct EstimateCallbacks {
  std::function<void(int64_t sent, int64_t total)> uploaded;
  // Returning false cancels the call.
  std::function<bool(const v1::EstimateResponse&)> response;
};

// Sends `spec`, then the file at `path` in chunks of at most 1 MiB, or, when `path` is a folder,
// each image in it (sorted by name) as a Frame. Returns the call's final status.
grpc::Status RunEstimate(v1::DepthService::Stub& stub, grpc::ClientContext& context,
                         const v1::JobSpec& spec, const std::string& path,
                         const EstimateCallbacks& callbacks);

}  // namespace depthd::client

#endif  // DEPTHD_CLIENT_ESTIMATE_CALL_H_
