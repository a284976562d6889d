// The RollingDepth pipeline: plan -> infer -> co-align -> merge, streaming depth frames out.
#ifndef DEPTHD_CORE_PIPELINE_H_
#define DEPTHD_CORE_PIPELINE_H_

#include <functional>
#include <map>
#include <string>

#include <opencv2/core.hpp>

#include "absl/status/statusor.h"
#include "core/coalign.h"
#include "core/pipeline_options.h"
#include "core/snippet_depths.h"
#include "core/media/video_io.h"

namespace depthd {

class DepthModel;

// Stage names, as in the metrics: upload and decode happen before the pipeline runs.
inline constexpr char kStageInference[] = "inference";
inline constexpr char kStageCoalign[] = "coalign";
inline constexpr char kStageRefine[] = "refine";
inline constexpr char kStageMerge[] = "merge";
inline constexpr char kStageEncodeOutput[] = "encode_output";

struct PipelineCallbacks {
  // stage, units done, units total (snippets for inference, iterations for co-alignment, frames
  // for merge). Called from the pipeline's thread.
  std::function<void(const std::string& stage, int done, int total)> progress;
  // Polled between snippet batches and solver iterations; true stops the run with CANCELLED.
  std::function<bool()> cancelled;
  // Each final depth frame, in order: CV_32FC1 in [0, 1], 0 nearest, at the processing
  // resolution or, with restore_res, the original one. Time spent here counts as encode_output.
  std::function<absl::Status(int frame_index, const cv::Mat& depth)> on_frame;
};

struct PipelineSummary {
  int frames = 0;
  int processing_width = 0, processing_height = 0;
  int output_width = 0, output_height = 0;
  int snippets = 0;
  std::vector<int> dilations;  // after capping
  std::map<std::string, double> stage_seconds;
  CoalignResult coalign;       // scales and shifts, iterations, loss, converged
};

// Runs the whole method on decoded frames. Errors: INVALID_ARGUMENT for options the video or
// the model cannot honour (e.g. refine_step > 0 with a model that cannot refine, too few frames),
// CANCELLED, and INTERNAL for model failures (with the model's message).
absl::StatusOr<PipelineSummary> RunPipeline(DepthModel& model, const VideoFrames& video,
                                            const PipelineOptions& options,
                                            const PipelineCallbacks& callbacks);

// Runs only inference (no alignment) and returns the snippet predictions; for tools and
// benchmarks that compare co-alignment solvers on a model's real output.
absl::StatusOr<SnippetDepths> PredictSnippetDepths(DepthModel& model, const VideoFrames& video,
                                                   const PipelineOptions& options,
                                                   const PipelineCallbacks& callbacks = {});

}  // namespace depthd

#endif  // DEPTHD_CORE_PIPELINE_H_
