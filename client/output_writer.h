// What depthctl writes for a job, named as RollingDepth's run_video.py names it:
// <name>_pred.npy (float32 [N, H, W], the method's [0, 1], 0 nearest), <name>_Spectral_r.mp4 and
// <name>_rgbd.mp4 (input | depth) at the input's frame rate, and optionally <name>_png16/.
//
// Frames are appended to the .npy as they arrive. Frames in aligned units (normalization
// ALIGNED, which lets frames leave the server early) are mapped onto [0, 1] in place once the
// Summary gives the video's range: the same bytes as the server's GLOBAL normalisation. The
// videos map depth with a robust range (1st..99th percentile over the whole video, clamped) so
// that a few outlier pixels do not flatten the picture; the .npy keeps the method's own range.
#ifndef DEPTHD_CLIENT_OUTPUT_WRITER_H_
#define DEPTHD_CLIENT_OUTPUT_WRITER_H_

#include <optional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "absl/status/statusor.h"
#include "core/media/npy.h"
#include "depthd/v1/depthd.pb.h"

namespace depthd::client {

struct OutputOptions {
  std::string dir = "out";
  std::string name;        // default: the input's file name without extension
  bool colorize = true;    // <name>_Spectral_r.mp4
  bool rgbd = true;        // <name>_rgbd.mp4 (input | depth); needs the input
  bool png16 = false;      // <name>_png16/%05d.png, 0..65535 for depth 0..1
};

// A depth frame from the wire as CV_32FC1.
absl::StatusOr<cv::Mat> DecodeDepthFrame(const v1::DepthFrame& frame);

class OutputWriter {
 public:
  explicit OutputWriter(OutputOptions options) : options_(std::move(options)) {}

  // Takes up a .npy an interrupted fetch left: its frames count as received. Returns how many.
  absl::StatusOr<int> Resume();
  // Frames must arrive in order.
  absl::Status Add(const v1::DepthFrame& frame);
  // After the Summary: normalises aligned frames, writes the videos (re-reading `input` for the
  // side by side; empty skips it) and the PNGs.
  absl::Status Finish(const v1::Summary& summary, const std::string& input, int start_frame,
                      int frame_count);
  const std::vector<std::string>& paths() const { return paths_; }
  int frames() const { return frames_; }
  std::string Path(const std::string& suffix) const;

 private:
  OutputOptions options_;
  std::optional<NpyFrameWriter> npy_;
  std::vector<std::string> paths_;
  int frames_ = 0;
  cv::Size size_;
};

}  // namespace depthd::client

#endif  // DEPTHD_CLIENT_OUTPUT_WRITER_H_
