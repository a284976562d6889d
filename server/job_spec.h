// Turning a JobSpec into core options, with every bad value refused up front.
#ifndef DEPTHD_SERVER_JOB_SPEC_H_
#define DEPTHD_SERVER_JOB_SPEC_H_

#include "absl/status/statusor.h"
#include "core/media/video_io.h"
#include "core/model/model_loader.h"
#include "core/pipeline_options.h"
#include "core/video_session.h"
#include "depthd/v1/depthd.pb.h"

namespace depthd::server {

struct ServerLimits {
  int64_t max_upload_bytes = 2LL << 30;
  int64_t max_frames = 10000;
  int64_t max_pixels = 4096LL * 4096LL;
  int queue_size = 8;
};

// What the server chooses where a job leaves a choice open.
struct JobDefaults {
  CoalignScope scope = CoalignScope::kWindowed;
  int window = 50;
  int solve_every = 10;
  int live_latency_frames = 15;  // live jobs without max_latency_frames
};

struct ResolvedJob {
  SessionOptions session;  // pipeline, scope, window, normalisation; callbacks are the runner's
  VideoReadOptions read;
  v1::DepthEncoding encoding = v1::DEPTH_ENCODING_FLOAT32;
  bool preview = false;
  bool live = false;
  bool skip_frames = false;
  int latency_frames = -1;  // what Accepted reports
};

// INVALID_ARGUMENT with a message naming the field for anything the server cannot honour,
// including a dtype other than the loaded model's, refinement with a model that cannot refine,
// and options that do not go together (PNG16 with ALIGNED, a live job with the global scope).
absl::StatusOr<ResolvedJob> ResolveJobSpec(const v1::JobSpec& spec, const ModelInfo& model,
                                           const ServerLimits& limits, const JobDefaults& defaults);

}  // namespace depthd::server

#endif  // DEPTHD_SERVER_JOB_SPEC_H_
