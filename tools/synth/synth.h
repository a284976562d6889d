// Procedural renderer of videos with exact per-frame depth, for training, tests and samples.
#ifndef DEPTHD_TOOLS_SYNTH_SYNTH_H_
#define DEPTHD_TOOLS_SYNTH_SYNTH_H_

#include <cstdint>
#include <vector>

#include <opencv2/core.hpp>

#include "absl/status/statusor.h"

namespace depthd::synth {

struct SceneOptions {
  uint64_t seed = 0;  // the same seed renders the same video, bit for bit
  int width = 384;
  int height = 216;
  int num_frames = 60;
  double fps = 24.0;
};

struct Intrinsics {
  double fx = 0, fy = 0, cx = 0, cy = 0;
};

struct RenderedVideo {
  std::vector<cv::Mat> rgb;    // CV_8UC3, RGB order
  std::vector<cv::Mat> depth;  // CV_32FC1, metres along the optical axis (z); 0 = sky/infinity
  Intrinsics intrinsics;
  double fps = 24.0;
};

absl::StatusOr<RenderedVideo> RenderVideo(const SceneOptions& options);

}  // namespace depthd::synth

#endif  // DEPTHD_TOOLS_SYNTH_SYNTH_H_
