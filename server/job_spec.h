// Turning a JobSpec into core options, with every bad value refused up front.
#ifndef DEPTHD_SERVER_JOB_SPEC_H_
#define DEPTHD_SERVER_JOB_SPEC_H_

#include "absl/status/statusor.h"
#include "core/model/model_loader.h"
#include "core/pipeline_options.h"
#include "core/media/video_io.h"
#include "depthd/v1/depthd.pb.h"

namespace depthd::server {

struct ServerLimits {
  int64_t max_upload_bytes = 2LL << 30;
  int64_t max_frames = 10000;
  int64_t max_pixels = 4096LL * 4096LL;
  int queue_size = 8;
};

struct ResolvedJob {
  PipelineOptions pipeline;
  VideoReadOptions read;
  v1::DepthEncoding encoding = v1::DEPTH_ENCODING_FLOAT32;
  bool preview = false;
};

// INVALID_ARGUMENT with a message naming the field for anything the server cannot honour,
// including a dtype other than the loaded model's and refinement with a model that cannot refine.
absl::StatusOr<ResolvedJob> ResolveJobSpec(const v1::JobSpec& spec, const ModelInfo& model,
                                           const ServerLimits& limits);

}  // namespace depthd::server

#endif  // DEPTHD_SERVER_JOB_SPEC_H_
