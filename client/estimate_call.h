// One job through Estimate, from the client's side: streams a video file (or a folder of
// images) up and hands every response to the caller as it arrives. A transient failure
// (UNAVAILABLE: depthd restarting, the network dropping) does not lose the work: during the
// upload the call resumes it from the byte (or frame) the server acknowledged as durable; after
// it, the call re-attaches with FetchResult from the next frame, until --retry_for runs out.
#ifndef DEPTHD_CLIENT_ESTIMATE_CALL_H_
#define DEPTHD_CLIENT_ESTIMATE_CALL_H_

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "depthd/v1/depthd.grpc.pb.h"

namespace depthd::client {

// What goes up: a container file's bytes, or a folder's images as Frame messages.
struct UploadSource {
  std::string path;
  bool folder = false;
  std::vector<std::filesystem::path> images;
  int64_t total_bytes = 0;
};
absl::StatusOr<UploadSource> OpenUpload(const std::string& path);

struct EstimateCallbacks {
  std::function<void(int64_t sent, int64_t total)> uploaded;
  // Every response; false cancels the call. Frames already delivered are not delivered again
  // after a re-attach.
  std::function<bool(const v1::EstimateResponse&)> response;
  // Tells the user about a retry.
  std::function<void(const std::string& what)> retrying;
};

// Runs the job to its end; returns the final status (OK once the Summary arrived).
grpc::Status RunEstimate(v1::DepthService::Stub& stub, const v1::JobSpec& spec,
                         const UploadSource& upload, const EstimateCallbacks& callbacks,
                         absl::Duration retry_for);

// FetchResult from `from_frame`, with the same retries; for `depthctl fetch` and re-attaching.
grpc::Status FetchFrom(v1::DepthService::Stub& stub, const std::string& job_id, int from_frame,
                       const EstimateCallbacks& callbacks, absl::Duration retry_for);

}  // namespace depthd::client

#endif  // DEPTHD_CLIENT_ESTIMATE_CALL_H_
