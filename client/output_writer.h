// What `depthctl run` writes, named as RollingDepth's run_video.py names it:
// <name>_pred.npy, <name>_Spectral_r.mp4, <name>_rgbd.mp4, and optionally <name>_png16/.
#ifndef DEPTHD_CLIENT_OUTPUT_WRITER_H_
#define DEPTHD_CLIENT_OUTPUT_WRITER_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "absl/status/statusor.h"
#include "core/media/npy.h"
#include "core/media/video_writer.h"
#include "depthd/v1/depthd.pb.h"

namespace depthd::client {

struct OutputOptions {
  std::string dir = "out";
  std::string name;          // default: the input's file name without extension
  bool colorize = true;      // <name>_Spectral_r.mp4
  bool rgbd = true;          // <name>_rgbd.mp4 (input | depth)
  bool png16 = false;        // <name>_png16/%05d.png
  double fps = 24.0;
};

// A depth frame from the wire as CV_32FC1 in [0, 1].
absl::StatusOr<cv::Mat> DecodeDepthFrame(const v1::DepthFrame& frame);

class OutputWriter {
 public:
  explicit OutputWriter(OutputOptions options) : options_(std::move(options)) {}

  // Frames must arrive in order; outputs are opened on the first one.
  absl::Status Add(const v1::DepthFrame& frame);
  // Closes the files; with rgbd, reads the input again (start_frame / frame_count as sent) and
  // writes the side-by-side video.
  absl::Status Finish(const std::string& input, int start_frame, int frame_count);
  const std::vector<std::string>& paths() const { return paths_; }
  int frames() const { return frames_; }

 private:
  std::string Path(const std::string& suffix) const;

  OutputOptions options_;
  std::optional<NpyFrameWriter> npy_;
  std::unique_ptr<Mp4Writer> colour_;
  std::vector<std::string> paths_;
  int frames_ = 0;
  cv::Size size_;
};

}  // namespace depthd::client

#endif  // DEPTHD_CLIENT_OUTPUT_WRITER_H_
