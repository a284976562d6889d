#include "core/media/video_io.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <utility>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/media/image_header.h"
#include "core/media/video_decoder.h"
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

// Collects the frames a FrameFilter keeps.
class FrameCollector {
 public:
  explicit FrameCollector(const VideoReadOptions& options) : filter_(options) {}

  // Returns false when no more frames are wanted.
  absl::StatusOr<bool> Add(const cv::Mat& frame, bool is_bgr) {
    DEPTHD_ASSIGN_OR_RETURN(FrameFilter::Result result, filter_.Add(frame, is_bgr));
    if (result.kind == FrameFilter::kDone) return false;
    if (result.kind == FrameFilter::kKeep) frames_.push_back(std::move(result.rgb));
    return !filter_.done();
  }

  int seen() const { return filter_.seen(); }
  int kept() const { return filter_.kept(); }

  absl::StatusOr<VideoFrames> Finish(double fps, const std::string& what) {
    if (frames_.empty()) return filter_.Empty(what);
    VideoFrames video;
    video.frames = std::move(frames_);
    video.original_width = filter_.original().width;
    video.original_height = filter_.original().height;
    video.fps = std::isfinite(fps) && fps > 0 ? fps : 0.0;
    return video;
  }

 private:
  FrameFilter filter_;
  std::vector<cv::Mat> frames_;
};

bool IsImageFile(const fs::path& path) {
  static const std::set<std::string> kExtensions = {".png", ".jpg", ".jpeg", ".bmp",
                                                    ".tif", ".tiff", ".webp", ".gif"};
  return kExtensions.count(absl::AsciiStrToLower(path.extension().string())) > 0;
}

absl::StatusOr<std::string> ReadWholeFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path.string()));
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

absl::StatusOr<VideoFrames> ReadImageFiles(const std::vector<fs::path>& files,
                                           const std::string& what,
                                           const VideoReadOptions& options) {
  FrameCollector collector(options);
  for (const fs::path& file : files) {
    if (collector.seen() < options.start_frame) {  // skipped without decoding
      DEPTHD_ASSIGN_OR_RETURN(bool more, collector.Add(cv::Mat(1, 1, CV_8UC3), false));
      (void)more;
      continue;
    }
    DEPTHD_ASSIGN_OR_RETURN(std::string bytes, ReadWholeFile(file));
    absl::StatusOr<cv::Mat> image = DecodeImage(bytes, options.max_pixels);
    if (!image.ok()) {
      return absl::Status(image.status().code(),
                          absl::StrCat(file.filename().string(), ": ", image.status().message()));
    }
    DEPTHD_ASSIGN_OR_RETURN(bool more, collector.Add(*image, /*is_bgr=*/false));
    if (!more) break;
  }
  return collector.Finish(0.0, what);
}

absl::StatusOr<VideoFrames> ReadImageDirectory(const fs::path& dir,
                                               const VideoReadOptions& options) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_regular_file() && IsImageFile(entry.path())) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "directory ", dir.string(), " holds no images (png, jpg, bmp, gif, tif, webp)"));
  }
  return ReadImageFiles(files, dir.string(), options);
}

// A printf-style pattern ("frames/%05d.png"): the sequence starts at index 0 or 1 and ends at
// the first missing file.
absl::StatusOr<VideoFrames> ReadImagePattern(const std::string& pattern,
                                             const VideoReadOptions& options) {
  std::vector<fs::path> files;
  char name[4096];
  for (int i = 0;; ++i) {
    if (std::snprintf(name, sizeof(name), pattern.c_str(), i) <= 0) break;
    std::error_code error;
    if (!fs::is_regular_file(name, error)) {
      if (files.empty() && i == 0) continue;
      break;
    }
    files.emplace_back(name);
  }
  if (files.empty()) return absl::NotFoundError(absl::StrCat("no files match ", pattern));
  return ReadImageFiles(files, pattern, options);
}

// The pattern must hold exactly one integer conversion and nothing else printf would read.
bool IsFramePattern(const std::string& path) {
  static const std::regex kPattern(R"(^[^%]*%0?[0-9]*d[^%]*$)");
  return std::regex_match(path, kPattern);
}

}  // namespace

FrameFilter::FrameFilter(const VideoReadOptions& options) : options_(options) {}

absl::StatusOr<FrameFilter::Result> FrameFilter::Add(const cv::Mat& frame, bool is_bgr) {
  const int index = seen_++;
  if (index < options_.start_frame) return Result{kSkip, {}};
  if (done()) return Result{kDone, {}};
  if (kept_ >= options_.max_frames) return TooManyFrames(options_);
  if (kept_ == 0) {
    DEPTHD_RETURN_IF_ERROR(CheckPixels(frame.size(), options_));
    original_ = frame.size();
    target_ = ProcessingSize(original_, options_.processing_res);
  } else if (frame.size() != original_) {
    return absl::InvalidArgumentError(absl::StrCat(
        "frame ", index, " is ", frame.cols, "x", frame.rows, " but frame ", options_.start_frame,
        " was ", original_.width, "x", original_.height, "; all frames must have the same size"));
  }
  cv::Mat rgb;
  if (frame.channels() == 1) {
    cv::cvtColor(frame, rgb, cv::COLOR_GRAY2RGB);
  } else if (frame.channels() == 4) {
    cv::cvtColor(frame, rgb, is_bgr ? cv::COLOR_BGRA2RGB : cv::COLOR_RGBA2RGB);
  } else if (is_bgr) {
    cv::cvtColor(frame, rgb, cv::COLOR_BGR2RGB);
  } else {
    rgb = frame;
  }
  if (rgb.depth() != CV_8U) {
    cv::Mat eight;
    rgb.convertTo(eight, CV_8U, rgb.depth() == CV_16U ? 1.0 / 257.0 : 1.0);
    rgb = eight;
  }
  ++kept_;
  return Result{kKeep, ResizeTo(rgb, target_, options_.resample).clone()};
}

absl::Status FrameFilter::Empty(const std::string& what) const {
  if (seen_ == 0) return absl::InvalidArgumentError(absl::StrCat(what, ": no frames could be decoded"));
  return absl::InvalidArgumentError(absl::StrCat(what, " has ", seen_, " frame(s); start_frame ",
                                                 options_.start_frame, " is past the end"));
}


absl::StatusOr<double> ForEachFrame(const std::string& path, const VideoReadOptions& options,
                                    const std::function<absl::Status(int, const cv::Mat&)>& frame) {
  DEPTHD_RETURN_IF_ERROR(CheckOptions(options));
  std::error_code error;
  const bool container = fs::is_regular_file(path, error) &&
                         (!IsImageFile(path) || absl::EndsWith(absl::AsciiStrToLower(path), ".gif"));
  if (!container) {
    // Images: few enough per job to decode as a whole, as ReadVideo does.
    DEPTHD_ASSIGN_OR_RETURN(VideoFrames video, ReadVideo(path, options));
    for (int i = 0; i < video.num_frames(); ++i) DEPTHD_RETURN_IF_ERROR(frame(i, video.frames[i]));
    return video.fps;
  }
  DEPTHD_ASSIGN_OR_RETURN(std::unique_ptr<ByteSource> source, FileSource(path));
  DEPTHD_ASSIGN_OR_RETURN(std::unique_ptr<VideoDecoder> decoder,
                          VideoDecoder::Open(*source, options.max_pixels, path));
  FrameFilter filter(options);
  while (true) {
    DEPTHD_ASSIGN_OR_RETURN(cv::Mat decoded, decoder->Next(!filter.skips_next()));
    if (decoded.empty()) break;
    DEPTHD_ASSIGN_OR_RETURN(FrameFilter::Result kept, filter.Add(decoded, /*is_bgr=*/false));
    if (kept.kind == FrameFilter::kDone) break;
    if (kept.kind == FrameFilter::kKeep) DEPTHD_RETURN_IF_ERROR(frame(filter.kept() - 1, kept.rgb));
  }
  if (filter.kept() == 0) return filter.Empty(path);
  return decoder->info().fps;
}

absl::StatusOr<VideoFrames> DecodeVideo(ByteSource& source, const std::string& what,
                                        const VideoReadOptions& options) {
  DEPTHD_RETURN_IF_ERROR(CheckOptions(options));
  DEPTHD_ASSIGN_OR_RETURN(std::unique_ptr<VideoDecoder> decoder,
                          VideoDecoder::Open(source, options.max_pixels, what));
  FrameCollector collector(options);
  bool stopped_early = false;
  while (true) {
    const bool wanted = collector.seen() >= options.start_frame;
    DEPTHD_ASSIGN_OR_RETURN(cv::Mat frame, decoder->Next(wanted));
    if (frame.empty()) break;
    DEPTHD_ASSIGN_OR_RETURN(bool more, collector.Add(frame, /*is_bgr=*/false));
    if (!more) {
      stopped_early = true;
      break;
    }
  }
  // A container that announces many more frames than it yields was cut short.
  const int64_t declared = decoder->info().declared_frames;
  if (!stopped_early && declared > 0 && collector.seen() > 0 &&
      collector.seen() < 0.9 * declared - 1) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is truncated: decoded ",
                                                   collector.seen(), " of ", declared, " frames"));
  }
  return collector.Finish(decoder->info().fps, what);
}

absl::StatusOr<VideoFrames> ReadVideo(const std::string& path, const VideoReadOptions& options) {
  DEPTHD_RETURN_IF_ERROR(CheckOptions(options));
  try {
    std::error_code error;
    if (fs::is_directory(path, error)) return ReadImageDirectory(path, options);
    if (!fs::exists(path, error)) {
      if (IsFramePattern(path)) return ReadImagePattern(path, options);
      return absl::NotFoundError(absl::StrCat("no such file or directory: ", path));
    }
    if (IsImageFile(path) && !absl::EndsWith(absl::AsciiStrToLower(path), ".gif")) {
      return ReadImageFiles({fs::path(path)}, path, options);
    }
    DEPTHD_ASSIGN_OR_RETURN(std::unique_ptr<ByteSource> source, FileSource(path));
    return DecodeVideo(*source, fs::path(path).filename().string(), options);
  } catch (const cv::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("cannot decode ", path, ": ", e.what()));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("cannot read ", path, ": ", e.what()));
  }
}

absl::StatusOr<cv::Mat> DecodeImage(std::string_view encoded, int64_t max_pixels) {
  DEPTHD_ASSIGN_OR_RETURN(ImageHeader header, ReadImageHeader(encoded));
  if (header.width * header.height > max_pixels) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "a ", header.format, " frame of ", header.width, "x", header.height, " = ",
        header.width * header.height, " pixels exceeds the limit of ", max_pixels,
        " (--max_pixels)"));
  }
  // imdecode does not take the format read above: it gives the bytes to the first of its decoders
  // whose signature check passes. Every signature but one sits at byte 0, where it cannot also
  // match the header's (PNG, JPEG, BMP, WebP, TIFF, and those we refuse: HDR, PxM, Sun raster,
  // JPEG 2000, EXR), so a header that its own decoder disowns (libwebp reads more of a WebP
  // header than we do) decodes as nothing. The one at byte 128, "DICM", hands any image to GDCM,
  // whose reader aborts the process on malformed input (image_header fuzzer, a WebP header).
  // DICOM is not an accepted format.
  if (encoded.size() >= 132 && encoded.substr(128, 4) == "DICM") {
    return absl::InvalidArgumentError(absl::StrCat(
        "a ", header.format, " image that also carries a DICOM signature; DICOM is not accepted"));
  }
  try {
    cv::Mat buffer(1, static_cast<int>(encoded.size()), CV_8UC1,
                   const_cast<char*>(encoded.data()));
    cv::Mat image = cv::imdecode(buffer, cv::IMREAD_COLOR);
    if (image.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("cannot decode a ", encoded.size(), "-byte ",
                                                     header.format, " image"));
    }
    if (image.cols != header.width || image.rows != header.height) {
      return absl::InvalidArgumentError(absl::StrCat(
          "a ", header.format, " image whose header says ", header.width, "x", header.height,
          " decoded as ", image.cols, "x", image.rows));
    }
    cv::Mat rgb;
    cv::cvtColor(image, rgb, cv::COLOR_BGR2RGB);
    return rgb;
  } catch (const cv::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("cannot decode a ", header.format, " image: ", e.what()));
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
