// Video input: decode a container file, an image sequence or encoded/raw frames into RGB frames
// resized to the processing resolution. Everything that can go wrong is an absl::Status.
#ifndef DEPTHD_CORE_MEDIA_VIDEO_IO_H_
#define DEPTHD_CORE_MEDIA_VIDEO_IO_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <opencv2/core.hpp>

#include "absl/status/statusor.h"
#include "core/media/byte_source.h"
#include "core/media/resize.h"

namespace depthd {

struct VideoReadOptions {
  int start_frame = 0;   // frames before this are skipped
  int frame_count = 0;   // 0: all frames from start_frame on
  // Longer side of the frames handed back; 0 keeps the decoded size.
  int processing_res = 768;
  Resample resample = Resample::kBilinear;
  // Refuse (RESOURCE_EXHAUSTED) videos beyond these, before decoding all of them.
  int64_t max_frames = 10000;
  int64_t max_pixels = 4096LL * 4096LL;  // per decoded frame (width * height)
};

struct VideoFrames {
  std::vector<cv::Mat> frames;  // CV_8UC3, RGB order, all the same size (processing resolution)
  int original_width = 0;       // decoded size, before resizing
  int original_height = 0;
  double fps = 0.0;             // 0 when the source has none (image sequences, raw frames)

  int num_frames() const { return static_cast<int>(frames.size()); }
  int width() const { return frames.empty() ? 0 : frames.front().cols; }
  int height() const { return frames.empty() ? 0 : frames.front().rows; }
};

// Applies start_frame, frame_count, the limits, the conversion to RGB and the resize of
// `options` to frames that arrive one at a time (a decoder, an upload, a live stream).
class FrameFilter {
 public:
  explicit FrameFilter(const VideoReadOptions& options);
  enum Kind { kSkip, kKeep, kDone };
  struct Result {
    Kind kind;
    cv::Mat rgb;  // kKeep: CV_8UC3 RGB at the processing resolution
  };
  // `frame`: 8- or 16-bit with 1, 3 or 4 channels (BGR order when `is_bgr`). INVALID_ARGUMENT
  // when its size differs from the first kept frame's; RESOURCE_EXHAUSTED past the limits.
  absl::StatusOr<Result> Add(const cv::Mat& frame, bool is_bgr);
  // The next frame would be skipped (before start_frame): a decoder need not convert it.
  bool skips_next() const { return seen_ < options_.start_frame; }
  // frame_count frames were kept: no more are wanted.
  bool done() const { return options_.frame_count > 0 && kept_ >= options_.frame_count; }
  int seen() const { return seen_; }
  int kept() const { return kept_; }
  cv::Size original() const { return original_; }
  cv::Size processing_size() const { return target_; }
  // The error for input that ended before a frame was kept.
  absl::Status Empty(const std::string& what) const;

 private:
  VideoReadOptions options_;
  int seen_ = 0;
  int kept_ = 0;
  cv::Size original_, target_;
};

// Reads a local video file (a container in AllowedContainerFormats(), see video_decoder.h), an
// image, a printf-style image sequence pattern ("frames/%05d.png"), or a directory of images
// (sorted by name). INVALID_ARGUMENT for unreadable, truncated, empty or zero-frame input;
// NOT_FOUND for a missing path; RESOURCE_EXHAUSTED when a limit is exceeded.
absl::StatusOr<VideoFrames> ReadVideo(const std::string& path, const VideoReadOptions& options);

// The frames of ReadVideo's inputs one at a time (RGB at the processing resolution), so a long
// video never sits in memory; `frame` may stop the walk with an error. Returns the source's fps
// (0 when it has none).
absl::StatusOr<double> ForEachFrame(const std::string& path, const VideoReadOptions& options,
                                    const std::function<absl::Status(int, const cv::Mat&)>& frame);

// Decodes a whole container from `source`; `what` names it in messages.
absl::StatusOr<VideoFrames> DecodeVideo(ByteSource& source, const std::string& what,
                                        const VideoReadOptions& options);

// Decodes one encoded image (PNG, JPEG, BMP, GIF, WebP, TIFF) into an RGB frame at its own size.
// The size is read from the header first: RESOURCE_EXHAUSTED above `max_pixels`, before any
// pixel is decoded.
absl::StatusOr<cv::Mat> DecodeImage(std::string_view encoded, int64_t max_pixels);

// Wraps raw interleaved RGB bytes (width * height * 3) as a frame at its own size.
absl::StatusOr<cv::Mat> RawRgbToFrame(std::string_view rgb, int width, int height);

// Builds a VideoFrames from frames at their own size (all must match), applying start_frame,
// frame_count, the limits and the resize of `options`. Used for frames that arrive one by one.
absl::StatusOr<VideoFrames> FramesToVideo(std::vector<cv::Mat> frames, double fps,
                                          const VideoReadOptions& options);

}  // namespace depthd

#endif  // DEPTHD_CORE_MEDIA_VIDEO_IO_H_
