// The RollingDepth pipeline on a whole decoded video: a loop over a VideoSession (plan -> infer
// -> co-align -> merge), streaming depth frames out.
#ifndef DEPTHD_CORE_PIPELINE_H_
#define DEPTHD_CORE_PIPELINE_H_

#include <functional>
#include <string>

#include <opencv2/core.hpp>

#include "absl/status/statusor.h"
#include "core/media/video_io.h"
#include "core/pipeline_options.h"
#include "core/snippet_depths.h"
#include "core/video_session.h"

namespace depthd {

class DepthModel;

struct PipelineCallbacks {
  // stage, units done, units total (0 when unknown). Called from the pipeline's thread.
  std::function<void(const std::string& stage, int done, int total)> progress;
  // Polled between snippet batches and solver iterations; true stops the run with CANCELLED.
  std::function<bool()> cancelled;
  // Each final depth frame, in order: CV_32FC1 in [0, 1], 0 nearest, at the processing
  // resolution or, with restore_res, the original one. Time spent here counts as encode_output.
  std::function<absl::Status(int frame_index, const cv::Mat& depth)> on_frame;
};

// Runs the whole method on decoded frames with the global co-alignment scope and normalisation,
// as RollingDepth does. Errors: INVALID_ARGUMENT for options the video or the model cannot
// honour (e.g. refine_step > 0 with a model that cannot refine, too few frames), CANCELLED, and
// INTERNAL for model failures (with the model's message).
absl::StatusOr<PipelineSummary> RunPipeline(DepthModel& model, const VideoFrames& video,
                                            const PipelineOptions& options,
                                            const PipelineCallbacks& callbacks);

// The same with any session options (scope, normalisation, window); `session.pipeline` and the
// callbacks in it are used as given.
absl::StatusOr<PipelineSummary> RunSession(DepthModel& model, const VideoFrames& video,
                                           SessionOptions session);

// Runs only inference (no alignment) and returns the snippet predictions; for tools and
// benchmarks that compare co-alignment solvers on a model's real output.
absl::StatusOr<SnippetDepths> PredictSnippetDepths(DepthModel& model, const VideoFrames& video,
                                                   const PipelineOptions& options,
                                                   const PipelineCallbacks& callbacks = {});

}  // namespace depthd

#endif  // DEPTHD_CORE_PIPELINE_H_
