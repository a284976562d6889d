#include "core/video_io.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <utility>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"

namespace depthd {
namespace {

namespace fs = std::filesystem;

absl::Status CheckOptions(const VideoReadOptions& options) {
  if (options.start_frame < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("start_frame must be >= 0, got ", options.start_frame));
  }
  if (options.frame_count < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("frame_count must be >= 0 (0 = all), got ", options.frame_count));
  }
  if (options.processing_res < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("processing_res must be >= 0, got ", options.processing_res));
  }
  return absl::OkStatus();
}

absl::Status CheckPixels(cv::Size size, const VideoReadOptions& options) {
  const int64_t pixels = static_cast<int64_t>(size.width) * size.height;
  if (size.width <= 0 || size.height <= 0) {
    return absl::InvalidArgumentError("decoded a frame of size 0");
  }
  if (pixels > options.max_pixels) {
    return absl::ResourceExhaustedError(
        absl::StrCat("frame of ", size.width, "x", size.height, " = ", pixels,
                     " pixels exceeds the limit of ", options.max_pixels, " (--max_pixels)"));
  }
  return absl::OkStatus();
}

absl::Status TooManyFrames(const VideoReadOptions& options) {
  return absl::ResourceExhaustedError(absl::StrCat(
      "the video has more than ", options.max_frames,
      " frames (--max_frames); send fewer with frame_count or split it"));
}

// Collects frames one at a time, applying start/count, limits and the resize.
class FrameCollector {
 public:
  explicit FrameCollector(const VideoReadOptions& options) : options_(options) {}

  // Returns false when no more frames are wanted.
  absl::StatusOr<bool> Add(const cv::Mat& bgr_or_rgb, bool is_bgr) {
    const int index = seen_++;
    if (index < options_.start_frame) return true;
    if (options_.frame_count > 0 && kept() >= options_.frame_count) return false;
    if (kept() >= options_.max_frames) return TooManyFrames(options_);
    if (frames_.empty()) {
      DEPTHD_RETURN_IF_ERROR(CheckPixels(bgr_or_rgb.size(), options_));
      original_ = bgr_or_rgb.size();
      target_ = ProcessingSize(original_, options_.processing_res);
    } else if (bgr_or_rgb.size() != original_) {
      return absl::InvalidArgumentError(absl::StrCat(
          "frame ", index, " is ", bgr_or_rgb.cols, "x", bgr_or_rgb.rows, " but frame ",
          options_.start_frame, " was ", original_.width, "x", original_.height,
          "; all frames must have the same size"));
    }
    cv::Mat rgb;
    if (bgr_or_rgb.channels() == 1) {
      cv::cvtColor(bgr_or_rgb, rgb, cv::COLOR_GRAY2RGB);
    } else if (bgr_or_rgb.channels() == 4) {
      cv::cvtColor(bgr_or_rgb, rgb, is_bgr ? cv::COLOR_BGRA2RGB : cv::COLOR_RGBA2RGB);
    } else if (is_bgr) {
      cv::cvtColor(bgr_or_rgb, rgb, cv::COLOR_BGR2RGB);
    } else {
      rgb = bgr_or_rgb;
    }
    if (rgb.depth() != CV_8U) {
      cv::Mat eight;
      rgb.convertTo(eight, CV_8U, rgb.depth() == CV_16U ? 1.0 / 257.0 : 1.0);
      rgb = eight;
    }
    frames_.push_back(ResizeTo(rgb, target_, options_.resample).clone());
    return options_.frame_count == 0 || kept() < options_.frame_count;
  }

  int seen() const { return seen_; }
  int kept() const { return static_cast<int>(frames_.size()); }

  absl::StatusOr<VideoFrames> Finish(double fps, const std::string& what) {
    if (frames_.empty()) {
      if (seen_ == 0) {
        return absl::InvalidArgumentError(absl::StrCat(what, ": no frames could be decoded"));
      }
      return absl::InvalidArgumentError(absl::StrCat(
          what, " has ", seen_, " frame(s); start_frame ", options_.start_frame,
          " is past the end"));
    }
    VideoFrames video;
    video.frames = std::move(frames_);
    video.original_width = original_.width;
    video.original_height = original_.height;
    video.fps = std::isfinite(fps) && fps > 0 ? fps : 0.0;
    return video;
  }

 private:
  VideoReadOptions options_;
  int seen_ = 0;
  cv::Size original_, target_;
  std::vector<cv::Mat> frames_;
};

bool IsImageFile(const fs::path& path) {
  static const std::set<std::string> kExtensions = {".png", ".jpg", ".jpeg", ".bmp",
                                                    ".tif", ".tiff", ".webp"};
  return kExtensions.count(absl::AsciiStrToLower(path.extension().string())) > 0;
}

absl::StatusOr<VideoFrames> ReadImageDirectory(const fs::path& dir,
                                               const VideoReadOptions& options) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_regular_file() && IsImageFile(entry.path())) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("directory ", dir.string(), " holds no images (png, jpg, bmp, tif, webp)"));
  }
  FrameCollector collector(options);
  for (const fs::path& file : files) {
    if (collector.seen() < options.start_frame) {  // skip without decoding
      DEPTHD_ASSIGN_OR_RETURN(bool more, collector.Add(cv::Mat(1, 1, CV_8UC3), false));
      (void)more;
      continue;
    }
    cv::Mat image = cv::imread(file.string(), cv::IMREAD_COLOR);
    if (image.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("cannot decode image ", file.string()));
    }
    DEPTHD_ASSIGN_OR_RETURN(bool more, collector.Add(image, /*is_bgr=*/true));
    if (!more) break;
  }
  return collector.Finish(0.0, dir.string());
}

absl::StatusOr<VideoFrames> ReadContainer(const std::string& path,
                                          const VideoReadOptions& options) {
  cv::VideoCapture capture;
  const bool is_pattern = path.find('%') != std::string::npos;
  if (!capture.open(path, is_pattern ? cv::CAP_IMAGES : cv::CAP_FFMPEG) || !capture.isOpened()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot open ", path,
        " as a video: not a container/codec the FFmpeg backend reads, or the file is damaged"));
  }
  const double fps = capture.get(cv::CAP_PROP_FPS);
  const double reported = capture.get(cv::CAP_PROP_FRAME_COUNT);
  const cv::Size declared(static_cast<int>(capture.get(cv::CAP_PROP_FRAME_WIDTH)),
                          static_cast<int>(capture.get(cv::CAP_PROP_FRAME_HEIGHT)));
  if (declared.width > 0 && declared.height > 0) {
    DEPTHD_RETURN_IF_ERROR(CheckPixels(declared, options));
  }
  FrameCollector collector(options);
  cv::Mat frame;
  bool stopped_early = false;
  while (true) {
    if (!capture.read(frame) || frame.empty()) break;
    DEPTHD_ASSIGN_OR_RETURN(bool more, collector.Add(frame, /*is_bgr=*/true));
    if (!more) {
      stopped_early = true;
      break;
    }
  }
  // A container that announces many more frames than it yields was cut short.
  if (!stopped_early && !is_pattern && reported > 0 && collector.seen() > 0 &&
      collector.seen() < 0.9 * reported - 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, " is truncated: decoded ", collector.seen(), " of ",
                     static_cast<int64_t>(reported), " frames"));
  }
  return collector.Finish(fps, path);
}

}  // namespace

absl::StatusOr<VideoFrames> ReadVideo(const std::string& path, const VideoReadOptions& options) {
  DEPTHD_RETURN_IF_ERROR(CheckOptions(options));
  try {
    const bool is_pattern = path.find('%') != std::string::npos;
    std::error_code error;
    if (!is_pattern && !fs::exists(path, error)) {
      return absl::NotFoundError(absl::StrCat("no such file or directory: ", path));
    }
    if (!is_pattern && fs::is_directory(path, error)) {
      return ReadImageDirectory(path, options);
    }
    if (!is_pattern && fs::is_regular_file(path, error) && fs::file_size(path, error) == 0) {
      return absl::InvalidArgumentError(absl::StrCat(path, " is empty"));
    }
    if (!is_pattern && IsImageFile(path)) {
      cv::Mat image = cv::imread(path, cv::IMREAD_COLOR);
      if (image.empty()) return absl::InvalidArgumentError(absl::StrCat("cannot decode ", path));
      FrameCollector collector(options);
      DEPTHD_ASSIGN_OR_RETURN(bool more, collector.Add(image, true));
      (void)more;
      return collector.Finish(0.0, path);
    }
    return ReadContainer(path, options);
  } catch (const cv::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("cannot decode ", path, ": ", e.what()));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("cannot read ", path, ": ", e.what()));
  }
}

absl::StatusOr<cv::Mat> DecodeImage(std::string_view encoded) {
  if (encoded.empty()) return absl::InvalidArgumentError("empty image");
  try {
    cv::Mat buffer(1, static_cast<int>(encoded.size()), CV_8UC1,
                   const_cast<char*>(encoded.data()));
    cv::Mat image = cv::imdecode(buffer, cv::IMREAD_COLOR);
    if (image.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot decode a ", encoded.size(), "-byte image (PNG, JPEG, ... expected)"));
    }
    cv::Mat rgb;
    cv::cvtColor(image, rgb, cv::COLOR_BGR2RGB);
    return rgb;
  } catch (const cv::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("cannot decode image: ", e.what()));
  }
}

absl::StatusOr<cv::Mat> RawRgbToFrame(std::string_view rgb, int width, int height) {
  if (width <= 0 || height <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("raw frame size ", width, "x", height, " must be positive"));
  }
  const int64_t expected = static_cast<int64_t>(width) * height * 3;
  if (static_cast<int64_t>(rgb.size()) != expected) {
    return absl::InvalidArgumentError(absl::StrCat("raw frame has ", rgb.size(),
                                                   " bytes, expected ", width, "*", height,
                                                   "*3 = ", expected));
  }
  cv::Mat frame(height, width, CV_8UC3);
  std::copy(rgb.begin(), rgb.end(), frame.ptr<char>());
  return frame;
}

absl::StatusOr<VideoFrames> FramesToVideo(std::vector<cv::Mat> frames, double fps,
                                          const VideoReadOptions& options) {
  DEPTHD_RETURN_IF_ERROR(CheckOptions(options));
  FrameCollector collector(options);
  for (cv::Mat& frame : frames) {
    DEPTHD_ASSIGN_OR_RETURN(bool more, collector.Add(frame, /*is_bgr=*/false));
    frame.release();
    if (!more) break;
  }
  return collector.Finish(fps, "the uploaded frames");
}

}  // namespace depthd
