// Procedural renderer of videos with exact per-frame depth, for training, tests and samples.
#ifndef DEPTHD_TOOLS_SYNTH_SYNTH_H_
#define DEPTHD_TOOLS_SYNTH_SYNTH_H_

#include <cstdint>
#include <vector>

#include <opencv2/core.hpp>

#include "absl/status/statusor.h"

namespace depthd::synth {

// kTabletop: a table with things on it seen from above its edge, in a room (chosen only
// explicitly; kAny picks a room or an open scene).
enum class SceneKind { kAny, kRoom, kOutdoor, kTabletop };
enum class Trajectory { kAny, kWalk, kPan, kOrbit, kStatic };

struct SceneOptions {
  uint64_t seed = 0;  // the same seed renders the same video, bit for bit
  int width = 384;
  int height = 216;
  int num_frames = 60;
  double fps = 24.0;
  SceneKind kind = SceneKind::kAny;        // kAny: chosen by the seed
  Trajectory trajectory = Trajectory::kAny;
  bool shake = true;                       // handheld shake on top of the trajectory
  bool moving_objects = true;
  // Variety that breaks the shortcuts a network learns on the base renderer: photographs as
  // textures (from `image_textures`), lighting, exposure, fog and camera light drawn so that
  // brightness says nothing about depth, cloudy, overcast, sunset and night skies, thin
  // structures (poles, wires, fences) and people-like figures. Drawn from a stream of its own,
  // so the base scene of a seed stays what it was; off (the default), a seed renders as it
  // always has.
  bool variety = false;
  const std::vector<cv::Mat>* image_textures = nullptr;  // CV_8UC3 RGB patches, not owned
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

// A pinhole camera: position, orientation (unit forward/right/up) and horizontal field of view.
struct CameraPose {
  double position[3] = {0, 0, 0};
  double forward[3] = {0, 0, 1};
  double up[3] = {0, 1, 0};
  double hfov_degrees = 60.0;
};

// Renders one view of an explicit scene (see scene.h); for tests of exact geometry.
struct Scene;
void RenderView(const Scene& scene, const CameraPose& camera, int width, int height,
                cv::Mat* rgb, cv::Mat* depth, Intrinsics* intrinsics);

}  // namespace depthd::synth

#endif  // DEPTHD_TOOLS_SYNTH_SYNTH_H_
