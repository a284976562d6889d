// Real footage for self-supervised training: clips decoded to the training size, and the camera
// motion between frame pairs estimated from tracked corners (an essential matrix with assumed
// intrinsics), kept only where the motion has enough translation to show depth.
#ifndef DEPTHD_TOOLS_TRAIN_REAL_CLIPS_H_
#define DEPTHD_TOOLS_TRAIN_REAL_CLIPS_H_

#include <optional>
#include <string>
#include <vector>

#include <torch/torch.h>
#include <opencv2/core.hpp>

#include "absl/status/statusor.h"

namespace depthd::train {

struct RealClip {
  std::string name;
  torch::Tensor rgb;  // [N, 3, H, W] uint8 at the training size (scaled to cover it, centre crop)
  cv::Matx33d K;      // assumed pinhole intrinsics at that size; pixel centres at integers
};

struct RealClipOptions {
  int width = 384;
  int height = 224;
  // The focal length is not known: it is taken as that of a camera whose view spans this many
  // degrees across the longer side of the original frame.
  double assumed_fov_degrees = 60.0;
};

// Decodes every video of a folder (sorted by name), or the videos of a comma-separated list.
absl::StatusOr<std::vector<RealClip>> LoadRealClips(const std::string& where,
                                                    const RealClipOptions& options);

// The motion from frame a to frame b: a point X in a's camera is R X + t in b's (|t| = 1, the
// scale is unknown), and corners seen in both with their depth in each camera (in units of the
// baseline |t|).
struct PairMotion {
  cv::Matx33d R;
  cv::Vec3d t;
  std::vector<cv::Point2f> points_a, points_b;
  std::vector<float> depth_a, depth_b;
  double parallax = 0;  // median displacement left once the rotation is taken out, pixels
};

struct PoseOptions {
  int max_corners = 400;
  double min_parallax = 1.5;      // pixels; less: the pair shows rotation only, no depth
  double min_inlier_share = 0.6;  // of the tracked corners: a static scene must dominate
  int min_points = 30;            // triangulated corners
  int min_cells = 3;              // of the 3 x 3 cells of the frame, with 2 or more of them
};

// Estimates the motion between two grey frames (CV_8UC1) seen with intrinsics K, or returns
// nothing when the pair does not show depth: too few corners tracked both ways, a motion the
// corners do not agree on (or that only a few cells of the frame agree on: one thing moving
// before a static camera), rotation without translation.
std::optional<PairMotion> EstimateMotion(const cv::Mat& grey_a, const cv::Mat& grey_b,
                                         const cv::Matx33d& K, const PoseOptions& options);

// A snippet [centre - dilation, centre, centre + dilation] of a real clip whose two outer frames
// both have a motion from the centre.
struct RealSnippet {
  int clip = 0, centre = 0, dilation = 0;
  PairMotion to_prev, to_next;  // a = the centre frame, b = the outer frame
};

// Every snippet with centres at even frames and dilations in `dilations` (even) whose outer
// frames both show depth. `per_clip` receives how many each clip gave.
std::vector<RealSnippet> FindRealSnippets(const std::vector<RealClip>& clips,
                                          const std::vector<int>& dilations,
                                          const PoseOptions& options, std::vector<int>* per_clip);

}  // namespace depthd::train

#endif  // DEPTHD_TOOLS_TRAIN_REAL_CLIPS_H_
