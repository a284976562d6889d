// One video's run of the method: frames go in one at a time, in order, and each depth frame is
// handed out as soon as it is final. The session owns everything that belongs to the video (the
// model's per-video state, snippet predictions, alignment, frames waiting to be normalised) and
// frees it all when it is destroyed, however the run ended; the model itself is only read.
//
// Snippets are predicted as soon as their frames have arrived. With the windowed co-alignment
// scope a frame is final once the snippets covering it have left the solver's window; with the
// global scope (and always with refinement) every frame waits for the end of the video, exactly
// as RollingDepth does it.
#ifndef DEPTHD_CORE_VIDEO_SESSION_H_
#define DEPTHD_CORE_VIDEO_SESSION_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <opencv2/core.hpp>

#include "absl/status/statusor.h"
#include "core/coalign_window.h"
#include "core/device_queue.h"
#include "core/merge.h"
#include "core/pipeline_options.h"

namespace depthd {

class DepthModel;

enum class CoalignScope { kGlobal, kWindowed };
absl::StatusOr<CoalignScope> ParseCoalignScope(std::string_view name);  // global | windowed
std::string CoalignScopeName(CoalignScope scope);

// How depth in the video's aligned units becomes [0, 1] (0 = nearest).
enum class Normalization {
  kGlobal,   // min-max over the whole video: frames wait for the end (on disk with spill_dir)
  kAligned,  // not normalised: frames leave as soon as final; the summary has the video's range
  kRunning,  // a robust range that adapts slowly from the first frames (live streams)
};
absl::StatusOr<Normalization> ParseNormalization(std::string_view name);  // global | aligned | running
std::string NormalizationName(Normalization normalization);

// Stage names, as in the metrics: upload and decode happen before the session.
inline constexpr char kStageInference[] = "inference";
inline constexpr char kStageCoalign[] = "coalign";
inline constexpr char kStageRefine[] = "refine";
inline constexpr char kStageMerge[] = "merge";
inline constexpr char kStageEncodeOutput[] = "encode_output";

struct SessionOptions {
  PipelineOptions pipeline;
  CoalignScope scope = CoalignScope::kGlobal;
  int window = 50;       // windowed: frames a snippet stays free after it is predicted
  int solve_every = 10;  // windowed: frames of new predictions between solves
  Normalization normalization = Normalization::kGlobal;
  // GLOBAL normalisation with the windowed scope: final frames wait in an unnamed file here
  // (gone however the run ends). Empty: they wait in memory.
  std::string spill_dir;
  // Non-empty: frames are handed out resized to this size (restore_res).
  cv::Size output_size;
  // Turns on the device shared with other sessions; null: the session calls the model freely.
  DeviceQueue* device = nullptr;
  int device_priority = 0;
  // Polled between network calls and solver iterations; true stops the run with CANCELLED.
  std::function<bool()> cancelled;
  // stage, units done, units total (0 when unknown). Called from the session's caller's thread.
  std::function<void(const std::string& stage, int done, int total)> progress;
  // Each final frame, in order: CV_32FC1, in [0, 1] or (kAligned) in aligned units. Called from
  // PushFrame and Finish; time spent here counts as encode_output.
  std::function<absl::Status(int index, const cv::Mat& depth)> on_frame;
};

struct PipelineSummary {
  int frames = 0;
  int processing_width = 0, processing_height = 0;
  int output_width = 0, output_height = 0;
  int snippets = 0;
  std::vector<int> dilations;  // after capping
  std::map<std::string, double> stage_seconds;
  CoalignResult coalign;  // global scope: scales and shifts; windowed: iterations, loss
  CoalignScope scope = CoalignScope::kGlobal;
  Normalization normalization = Normalization::kGlobal;
  int window = 0, solve_every = 0;
  int solves = 0;
  // The merged video's range in aligned units (what kGlobal maps onto [0, 1]).
  double depth_min = 0.0, depth_max = 0.0;
  int latency_frames = 0;
};

class VideoSession {
 public:
  // INVALID_ARGUMENT for options the model cannot honour (snippet length, refinement) or that do
  // not go together (refinement needs the global scope; PNG-like encodings are the caller's).
  static absl::StatusOr<std::unique_ptr<VideoSession>> Create(DepthModel& model,
                                                              SessionOptions options);
  ~VideoSession();

  // The next frame: RGB CV_8UC3 at the processing resolution, the same size every time.
  absl::Status PushFrame(const cv::Mat& rgb);
  // No more frames: predicts the last snippets, solves, and hands out every remaining frame.
  absl::Status Finish();

  int frames_in() const;
  int frames_out() const;
  // After Finish: the run's figures. Before: what is known so far.
  const PipelineSummary& summary() const;
  // The most frames of input a frame waits before it is handed out (windowed scope; the whole
  // video with the global one, reported as -1).
  int latency_frames() const;
  // Bytes the session holds now: frames, predictions, accumulators (not the model's state).
  int64_t memory_bytes() const;

 private:
  class Impl;
  explicit VideoSession(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace depthd

#endif  // DEPTHD_CORE_VIDEO_SESSION_H_
