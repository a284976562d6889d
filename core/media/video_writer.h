// MP4 outputs: the colourised depth video and the side-by-side RGB | depth video, with even
// width and height so that every H.264 player accepts them.
#ifndef DEPTHD_CORE_MEDIA_VIDEO_WRITER_H_
#define DEPTHD_CORE_MEDIA_VIDEO_WRITER_H_

#include <memory>
#include <string>

#include <opencv2/core.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace depthd {

class Mp4Writer {
 public:
  // size: frame size before evening (odd sizes are padded by one pixel). fps <= 0 means 24.
  static absl::StatusOr<std::unique_ptr<Mp4Writer>> Open(const std::string& path, cv::Size size,
                                                         double fps);
  virtual ~Mp4Writer() = default;
  // frame: CV_8UC3 RGB of the size given to Open.
  virtual absl::Status Write(const cv::Mat& rgb) = 0;
  virtual absl::Status Close() = 0;
};

// Colourised depth (Spectral_r) of a CV_32FC1 [0, 1] frame, ready for Mp4Writer.
cv::Mat DepthPreview(const cv::Mat& depth);
// RGB | colourised depth side by side; the depth is resized to the RGB frame's height and
// coloured over [lo, hi] (clamped).
cv::Mat SideBySide(const cv::Mat& rgb, const cv::Mat& depth, double lo = 0.0, double hi = 1.0);

}  // namespace depthd

#endif  // DEPTHD_CORE_MEDIA_VIDEO_WRITER_H_
