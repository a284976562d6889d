#include "core/media/video_decoder.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <mutex>

#include <opencv2/core.hpp>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
}

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"

namespace depthd {
namespace {

constexpr int kIoBufferBytes = 1 << 16;
constexpr int kProbeBytes = 1 << 20;
constexpr int kMaxStreams = 32;

std::string AvError(int code) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(code, text, sizeof(text));
  return text;
}

// The demuxer asks to open another input (an HLS segment, a concat entry, an external MOV
// reference): always refused.
int RefuseNestedOpen(AVFormatContext*, AVIOContext**, const char*, int, AVDictionary**) {
  return AVERROR(EPERM);
}

struct Reader {
  ByteSource* source;
  int64_t position = 0;
  absl::Status error;  // why the source stopped, when it failed (e.g. the upload was abandoned)
};

int ReadPacket(void* opaque, uint8_t* buffer, int size) {
  auto* reader = static_cast<Reader*>(opaque);
  absl::StatusOr<size_t> got =
      reader->source->ReadAt(reader->position, reinterpret_cast<char*>(buffer), size);
  if (!got.ok()) {
    reader->error = got.status();
    return AVERROR(EIO);
  }
  if (*got == 0) return AVERROR_EOF;
  reader->position += static_cast<int64_t>(*got);
  return static_cast<int>(*got);
}

int64_t SeekTo(void* opaque, int64_t offset, int whence) {
  auto* reader = static_cast<Reader*>(opaque);
  whence &= ~AVSEEK_FORCE;
  if (whence == AVSEEK_SIZE) {
    const int64_t size = reader->source->known_size();
    return size >= 0 ? size : AVERROR(ENOSYS);
  }
  int64_t target = offset;
  if (whence == SEEK_CUR) {
    target = reader->position + offset;
  } else if (whence == SEEK_END) {
    // avio_size() falls back to this when AVSEEK_SIZE fails: while the upload is still arriving
    // its end is unknown, and demuxers then read on as from a stream instead of waiting for it.
    const int64_t size = reader->source->known_size();
    if (size < 0) return AVERROR(ENOSYS);
    target = size + offset;
  } else if (whence != SEEK_SET) {
    return AVERROR(EINVAL);
  }
  if (target < 0) return AVERROR(EINVAL);
  reader->position = target;
  return target;
}

// FFmpeg's log stays silent; the one message that matters, a decoder refusing a frame above
// max_pixels (the size then stays unknown to the caller), is kept for the thread that decodes.
thread_local int64_t refused_width = 0;
thread_local int64_t refused_height = 0;

void CaptureRefusedSize(void* context, int level, const char* format, va_list arguments) {
  if (level > AV_LOG_ERROR) return;
  char line[512];
  int prefix = 0;
  av_log_format_line2(context, level, format, arguments, line, sizeof(line), &prefix);
  const char* size = std::strstr(line, "Picture size ");
  long long width = 0, height = 0;
  if (size != nullptr && std::strstr(line, "max pixel count") != nullptr &&
      std::sscanf(size, "Picture size %lldx%lld", &width, &height) == 2) {
    refused_width = width;
    refused_height = height;
  }
}

void QuietFfmpeg() {
  static std::once_flag once;
  std::call_once(once, [] { av_log_set_callback(CaptureRefusedSize); });
}

bool Allowed(const char* name) {
  const auto& allowed = AllowedContainerFormats();
  return std::find(allowed.begin(), allowed.end(), name) != allowed.end();
}

absl::Status TooLarge(int64_t width, int64_t height, int64_t max_pixels) {
  return absl::ResourceExhaustedError(absl::StrCat(
      "frame of ", width, "x", height, " = ", width * height, " pixels exceeds the limit of ",
      max_pixels, " (--max_pixels)"));
}

// Rotation from the display matrix, as a multiple of 90 degrees clockwise (0..3).
int QuarterTurns(const AVStream* stream) {
  const uint8_t* matrix = av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, nullptr);
  if (matrix == nullptr) return 0;
  const double degrees = -av_display_rotation_get(reinterpret_cast<const int32_t*>(matrix));
  if (!std::isfinite(degrees)) return 0;
  const int quarter = static_cast<int>(std::lround(degrees / 90.0));
  return ((quarter % 4) + 4) % 4;
}

}  // namespace

const std::vector<std::string>& AllowedContainerFormats() {
  static const std::vector<std::string> kFormats = {
      "mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "avi",       "mpegts",    "gif",
      "png_pipe",                "jpeg_pipe",     "bmp_pipe",  "webp_pipe", "tiff_pipe"};
  return kFormats;
}

struct VideoDecoder::State {
  Reader reader;
  std::string what;
  int64_t max_pixels = 0;
  AVIOContext* io = nullptr;
  AVFormatContext* format = nullptr;
  AVCodecContext* codec = nullptr;
  SwsContext* sws = nullptr;
  AVPacket* packet = nullptr;
  AVFrame* frame = nullptr;
  int stream = -1;
  int quarter_turns = 0;
  bool input_done = false;   // the demuxer has no more packets; the decoder is being drained
  bool decoder_done = false;
  int64_t frames = 0;
  int decode_errors = 0;
  ContainerInfo info;

  ~State() {
    sws_freeContext(sws);
    av_frame_free(&frame);
    av_packet_free(&packet);
    avcodec_free_context(&codec);
    avformat_close_input(&format);  // frees a custom-IO context's format, not its AVIOContext
    if (io != nullptr) {
      av_freep(&io->buffer);
      avio_context_free(&io);
    }
  }

  // The source's own failure (an abandoned upload) explains an I/O error better than FFmpeg.
  absl::Status Failure(int code, const std::string& doing) const {
    if (!reader.error.ok()) return reader.error;
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": ", doing, " failed (", AvError(code), "); the file is damaged or cut short"));
  }

  absl::StatusOr<cv::Mat> Convert(const AVFrame* f) {
    if (static_cast<int64_t>(f->width) * f->height > max_pixels) {
      return TooLarge(f->width, f->height, max_pixels);
    }
    sws = sws_getCachedContext(sws, f->width, f->height, static_cast<AVPixelFormat>(f->format),
                               f->width, f->height, AV_PIX_FMT_RGB24, SWS_BICUBIC, nullptr,
                               nullptr, nullptr);
    if (sws == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": frames in pixel format ",
                                                     f->format, " cannot be converted to RGB"));
    }
    // sws_scale's vector code stores whole blocks, past the end of a row whose byte length is
    // not a multiple of the block (a 568- or 360-pixel-wide video overran the heap): convert
    // into rows padded to 64 bytes with a spare row below, then keep the picture.
    const int stride = (f->width * 3 + 63) / 64 * 64;
    cv::Mat padded(f->height + 1, stride, CV_8UC1);
    uint8_t* planes[4] = {padded.data, nullptr, nullptr, nullptr};
    int strides[4] = {stride, 0, 0, 0};
    sws_scale(sws, f->data, f->linesize, 0, f->height, planes, strides);
    cv::Mat rgb = cv::Mat(f->height, f->width, CV_8UC3, padded.data, stride).clone();
    if (quarter_turns == 1) cv::rotate(rgb, rgb, cv::ROTATE_90_CLOCKWISE);
    if (quarter_turns == 2) cv::rotate(rgb, rgb, cv::ROTATE_180);
    if (quarter_turns == 3) cv::rotate(rgb, rgb, cv::ROTATE_90_COUNTERCLOCKWISE);
    return rgb;
  }
};

VideoDecoder::VideoDecoder(std::unique_ptr<State> state) : state_(std::move(state)) {}
VideoDecoder::~VideoDecoder() = default;
const ContainerInfo& VideoDecoder::info() const { return state_->info; }
int64_t VideoDecoder::frames() const { return state_->frames; }

absl::StatusOr<std::unique_ptr<VideoDecoder>> VideoDecoder::Open(ByteSource& source,
                                                                 int64_t max_pixels,
                                                                 std::string what) {
  QuietFfmpeg();
  refused_width = refused_height = 0;
  auto s = std::make_unique<State>();
  s->reader.source = &source;
  s->what = std::move(what);
  s->max_pixels = max_pixels;
  auto* buffer = static_cast<unsigned char*>(av_malloc(kIoBufferBytes));
  if (buffer == nullptr) return absl::ResourceExhaustedError("out of memory opening a decoder");
  s->io = avio_alloc_context(buffer, kIoBufferBytes, 0, &s->reader, ReadPacket, nullptr, SeekTo);
  if (s->io == nullptr) {
    av_free(buffer);
    return absl::ResourceExhaustedError("out of memory opening a decoder");
  }

  // Probe by content, then refuse anything outside the allow-list before the demuxer runs.
  const AVInputFormat* format = nullptr;
  int rc = av_probe_input_buffer2(s->io, &format, nullptr, nullptr, 0, kProbeBytes);
  if (!s->reader.error.ok()) return s->reader.error;
  if (rc < 0 || format == nullptr) {
    if (source.known_size() == 0) return absl::InvalidArgumentError(absl::StrCat(s->what, " is empty"));
    return absl::InvalidArgumentError(absl::StrCat(
        s->what, " is not a video or image format FFmpeg recognises; send MP4/MOV, Matroska/WebM, "
                 "AVI, MPEG-TS, GIF or an image"));
  }
  if (!Allowed(format->name)) {
    return absl::InvalidArgumentError(absl::StrCat(
        s->what, " is ", format->long_name != nullptr ? format->long_name : format->name, " (",
        format->name, "), which depthd does not accept; send MP4/MOV, Matroska/WebM, AVI, "
        "MPEG-TS, GIF or an image"));
  }

  s->format = avformat_alloc_context();
  if (s->format == nullptr) return absl::ResourceExhaustedError("out of memory opening a decoder");
  s->format->pb = s->io;
  s->format->flags |= AVFMT_FLAG_CUSTOM_IO;
  s->format->io_open = RefuseNestedOpen;
  s->format->max_streams = kMaxStreams;
  s->format->format_whitelist = av_strdup(absl::StrJoin(AllowedContainerFormats(), ",").c_str());
  s->format->protocol_whitelist = av_strdup("none");
  // A short analysis: the containers allowed carry their streams' parameters in their headers,
  // and an upload still arriving should not wait for seconds of video before its first frame.
  s->format->probesize = 1 << 20;
  s->format->max_analyze_duration = AV_TIME_BASE / 2;
  // While an MP4 is still arriving, its header is read up to the first media data rather than
  // through every fragment to the end (the fragment index is not needed: frames are read in
  // order), so a fragmented MP4 decodes as it comes.
  if (source.known_size() < 0 && absl::StrContains(format->name, "mp4")) {
    s->format->flags |= AVFMT_FLAG_IGNIDX;
  }
  rc = avformat_open_input(&s->format, nullptr, format, nullptr);
  if (rc < 0) return s->Failure(rc, "reading the container");  // frees s->format on failure

  // Sizes the container declares are checked before anything is decoded; decoders refuse frames
  // above the limit while the streams are analysed, too.
  for (unsigned i = 0; i < s->format->nb_streams; ++i) {
    const AVCodecParameters* par = s->format->streams[i]->codecpar;
    if (par->codec_type == AVMEDIA_TYPE_VIDEO &&
        static_cast<int64_t>(par->width) * par->height > max_pixels) {
      return TooLarge(par->width, par->height, max_pixels);
    }
  }
  const std::string pixel_limit = std::to_string(std::min<int64_t>(max_pixels, INT32_MAX));
  std::vector<AVDictionary*> stream_options(s->format->nb_streams, nullptr);
  for (AVDictionary*& options : stream_options) {
    av_dict_set(&options, "max_pixels", pixel_limit.c_str(), 0);
    av_dict_set(&options, "threads", "1", 0);
  }
  rc = avformat_find_stream_info(s->format, stream_options.data());
  for (AVDictionary*& options : stream_options) av_dict_free(&options);
  if (!s->reader.error.ok()) return s->reader.error;
  if (refused_width > 0) return TooLarge(refused_width, refused_height, max_pixels);
  if (rc < 0) return s->Failure(rc, "reading the streams");

  s->stream = av_find_best_stream(s->format, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (s->stream < 0) {
    return absl::InvalidArgumentError(absl::StrCat(s->what, " (", format->name, ") has no video stream"));
  }
  AVStream* stream = s->format->streams[s->stream];
  const AVCodecParameters* par = stream->codecpar;
  if (static_cast<int64_t>(par->width) * par->height > max_pixels) {
    return TooLarge(par->width, par->height, max_pixels);
  }
  const AVCodec* decoder = avcodec_find_decoder(par->codec_id);
  if (decoder == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        s->what, ": its video codec (", avcodec_get_name(par->codec_id), ") cannot be decoded here"));
  }
  s->codec = avcodec_alloc_context3(decoder);
  if (s->codec == nullptr || avcodec_parameters_to_context(s->codec, par) < 0) {
    return absl::ResourceExhaustedError("out of memory opening a decoder");
  }
  s->codec->thread_count = 1;  // decoding stays on this thread (see CaptureRefusedSize)
  AVDictionary* options = nullptr;
  av_dict_set(&options, "max_pixels", pixel_limit.c_str(), 0);
  rc = avcodec_open2(s->codec, decoder, &options);
  av_dict_free(&options);
  if (rc < 0) return s->Failure(rc, "opening the video decoder");
  s->packet = av_packet_alloc();
  s->frame = av_frame_alloc();
  if (s->packet == nullptr || s->frame == nullptr) {
    return absl::ResourceExhaustedError("out of memory opening a decoder");
  }

  s->quarter_turns = QuarterTurns(stream);
  ContainerInfo& info = s->info;
  info.format = format->name;
  info.codec = avcodec_get_name(par->codec_id);
  const bool sideways = s->quarter_turns % 2 == 1;
  info.width = sideways ? par->height : par->width;
  info.height = sideways ? par->width : par->height;
  const AVRational rate = av_guess_frame_rate(s->format, stream, nullptr);
  if (rate.num > 0 && rate.den > 0) info.fps = av_q2d(rate);
  // A single image has no frame rate (its pipe demuxer reports a nominal 25).
  if (absl::EndsWith(info.format, "_pipe")) info.fps = 0.0;
  info.declared_frames = stream->nb_frames > 0 ? stream->nb_frames : 0;
  return std::unique_ptr<VideoDecoder>(new VideoDecoder(std::move(s)));
}

absl::StatusOr<cv::Mat> VideoDecoder::Next(bool convert) {
  State& s = *state_;
  refused_width = refused_height = 0;
  while (!s.decoder_done) {
    int rc = avcodec_receive_frame(s.codec, s.frame);
    if (rc == 0) {
      ++s.frames;
      absl::StatusOr<cv::Mat> rgb = convert ? s.Convert(s.frame) : cv::Mat(1, 1, CV_8UC3);
      av_frame_unref(s.frame);
      return rgb;
    }
    if (rc == AVERROR_EOF) {
      s.decoder_done = true;
      break;
    }
    if (rc != AVERROR(EAGAIN)) {
      if (refused_width > 0) return TooLarge(refused_width, refused_height, s.max_pixels);
      // A damaged frame: skipped, as players do; the truncation check below still applies.
      if (++s.decode_errors > 1000) return s.Failure(rc, "decoding");
      continue;
    }
    if (s.input_done) {  // drained and still EAGAIN: nothing more will come
      s.decoder_done = true;
      break;
    }
    rc = av_read_frame(s.format, s.packet);
    if (rc < 0) {
      if (!s.reader.error.ok()) return s.reader.error;
      // EOF, or an error at the cut of a truncated file: drain what the decoder holds.
      s.input_done = true;
      avcodec_send_packet(s.codec, nullptr);
      continue;
    }
    if (s.packet->stream_index == s.stream) {
      rc = avcodec_send_packet(s.codec, s.packet);
      if (refused_width > 0) {
        av_packet_unref(s.packet);
        return TooLarge(refused_width, refused_height, s.max_pixels);
      }
      if (rc < 0 && rc != AVERROR(EAGAIN) && ++s.decode_errors > 1000) {
        av_packet_unref(s.packet);
        return s.Failure(rc, "decoding");
      }
    }
    av_packet_unref(s.packet);
  }
  return cv::Mat();
}

}  // namespace depthd
