// Container decoding with libavformat / libavcodec over a ByteSource. The demuxer can open
// nothing but those bytes: no protocol, no file, no nested input (an HLS playlist or an ffconcat
// list naming a path is refused), and only the formats in AllowedContainerFormats().
#ifndef DEPTHD_CORE_MEDIA_VIDEO_DECODER_H_
#define DEPTHD_CORE_MEDIA_VIDEO_DECODER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "absl/status/statusor.h"
#include "core/media/byte_source.h"

namespace depthd {

struct ContainerInfo {
  std::string format;            // FFmpeg's demuxer name, e.g. "matroska,webm"
  std::string codec;             // e.g. "h264"
  int width = 0, height = 0;     // as displayed (after the rotation in the metadata)
  double fps = 0.0;              // 0 when the container does not say
  int64_t declared_frames = 0;   // 0 when the container does not say
};

// Demuxers an upload may use, by FFmpeg name: MP4/MOV, Matroska/WebM, AVI, MPEG-TS, GIF, and
// single PNG, JPEG, BMP, WebP or TIFF images.
const std::vector<std::string>& AllowedContainerFormats();

class VideoDecoder {
 public:
  // Probes `source` (which must outlive the decoder) and opens its first video stream.
  // INVALID_ARGUMENT for a format outside the allow-list (naming it), undecodable or empty input;
  // RESOURCE_EXHAUSTED when a frame would exceed `max_pixels`. `what` names the input in
  // messages ("the upload", a file name).
  static absl::StatusOr<std::unique_ptr<VideoDecoder>> Open(ByteSource& source, int64_t max_pixels,
                                                            std::string what);
  ~VideoDecoder();
  VideoDecoder(const VideoDecoder&) = delete;
  VideoDecoder& operator=(const VideoDecoder&) = delete;

  const ContainerInfo& info() const;
  // The next frame: RGB CV_8UC3 at the displayed size; an empty Mat after the last one.
  // `convert` false skips the colour conversion (frames before start_frame) and returns a 1x1
  // placeholder.
  absl::StatusOr<cv::Mat> Next(bool convert = true);
  // Frames handed out so far.
  int64_t frames() const;

 private:
  struct State;
  explicit VideoDecoder(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace depthd

#endif  // DEPTHD_CORE_MEDIA_VIDEO_DECODER_H_
