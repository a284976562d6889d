#include "core/media/video_writer.h"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/media/depth_image.h"

namespace depthd {
namespace {

cv::Size EvenSize(cv::Size size) { return cv::Size(size.width + size.width % 2, size.height + size.height % 2); }

class OpenCvMp4Writer : public Mp4Writer {
 public:
  OpenCvMp4Writer(cv::VideoWriter writer, cv::Size size, std::string path)
      : writer_(std::move(writer)), size_(size), path_(std::move(path)) {}
  ~OpenCvMp4Writer() override { (void)Close(); }

  absl::Status Write(const cv::Mat& rgb) override {
    if (!writer_.isOpened()) return absl::FailedPreconditionError("video writer is closed");
    if (rgb.size() != size_ || rgb.type() != CV_8UC3) {
      return absl::InvalidArgumentError(absl::StrCat("frame is ", rgb.cols, "x", rgb.rows,
                                                     ", the video is ", size_.width, "x",
                                                     size_.height, " 8-bit RGB"));
    }
    cv::Mat bgr;
    cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
    const cv::Size even = EvenSize(size_);
    if (even != size_) {
      cv::copyMakeBorder(bgr, bgr, 0, even.height - size_.height, 0, even.width - size_.width,
                         cv::BORDER_REPLICATE);
    }
    try {
      writer_.write(bgr);
    } catch (const cv::Exception& e) {
      return absl::InternalError(absl::StrCat("writing ", path_, ": ", e.what()));
    }
    return absl::OkStatus();
  }

  absl::Status Close() override {
    if (writer_.isOpened()) writer_.release();
    return absl::OkStatus();
  }

 private:
  cv::VideoWriter writer_;
  cv::Size size_;
  std::string path_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Mp4Writer>> Mp4Writer::Open(const std::string& path, cv::Size size,
                                                           double fps) {
  if (size.width <= 0 || size.height <= 0) {
    return absl::InvalidArgumentError("video size must be positive");
  }
  if (!(fps > 0)) fps = 24.0;
  const cv::Size even = EvenSize(size);
  // H.264 when the FFmpeg build has an encoder for it, MPEG-4 Part 2 otherwise; both play in
  // ffmpeg-based players and read back with OpenCV.
  for (const char* fourcc : {"avc1", "mp4v"}) {
    try {
      cv::VideoWriter writer;
      writer.open(path, cv::CAP_FFMPEG,
                  cv::VideoWriter::fourcc(fourcc[0], fourcc[1], fourcc[2], fourcc[3]), fps, even,
                  true);
      if (writer.isOpened()) {
        return std::unique_ptr<Mp4Writer>(new OpenCvMp4Writer(std::move(writer), size, path));
      }
    } catch (const cv::Exception&) {
      // try the next codec
    }
  }
  return absl::UnavailableError(absl::StrCat("cannot open ", path,
                                             " for writing MP4 (no H.264 or MPEG-4 encoder in "
                                             "this OpenCV/FFmpeg build, or the folder is not "
                                             "writable)"));
}

cv::Mat DepthPreview(const cv::Mat& depth) { return ColorizeSpectralR(depth); }

cv::Mat SideBySide(const cv::Mat& rgb, const cv::Mat& depth, double lo, double hi) {
  cv::Mat colour = ColorizeRange(depth, lo, hi);
  if (colour.rows != rgb.rows) {
    const int width = std::max(1, static_cast<int>(std::lround(
                                      static_cast<double>(colour.cols) * rgb.rows / colour.rows)));
    cv::resize(colour, colour, cv::Size(width, rgb.rows), 0, 0, cv::INTER_LINEAR);
  }
  cv::Mat out;
  cv::hconcat(rgb, colour, out);
  return out;
}

}  // namespace depthd
