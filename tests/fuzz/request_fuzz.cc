// The request sequence of Estimate and SubmitJob: the fuzz bytes are varint-delimited
// v1::EstimateRequest messages, as a client streams them. They go through what the server does
// with each, with small limits:
//   - the first message: server::ResolveJobSpec (against a TorchScript-like and a
//     RollingDepth-like model), or the error for anything but a JobSpec;
//   - Frame messages: the size check before a frame is kept (the image header, or the raw size,
//     against max_pixels; server/upload_receiver.cc CheckFrame, mirrored here through the same
//     public pieces because it is file-local there), the decode the job runner does
//     (DecodeImage / RawRgbToFrame), and the job's FrameFilter;
//   - VideoChunk messages: the 1 MiB chunk and upload limits, then the chunks together through
//     the container decoder (VideoDecoder) and the FrameFilter, a few frames.
// Whatever the bytes, nothing crashes, and nothing decoded exceeds the pixel limit.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/util/delimited_message_util.h>
#include <opencv2/core.hpp>

#include "core/media/byte_source.h"
#include "core/media/image_header.h"
#include "core/media/video_decoder.h"
#include "core/media/video_io.h"
#include "depthd/v1/depthd.pb.h"
#include "server/job_spec.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using depthd::server::ResolvedJob;

constexpr int kMaxMessages = 64;
constexpr int64_t kMaxChunkBytes = 1 << 20;  // as upload_receiver.cc
constexpr int kMaxContainerFrames = 4;
// Keeps each input fast: a spec may ask for up to 8192 pixels on the longer side, which only
// makes the resize slower, not the checks different.
constexpr int kMaxProcessingRes = 256;

depthd::server::ServerLimits Limits() {
  depthd::server::ServerLimits limits;
  limits.max_upload_bytes = 1 << 20;
  limits.max_frames = 16;
  limits.max_pixels = 128 * 128;
  limits.queue_size = 2;
  return limits;
}

// The two kinds of model a server loads: the shipped TorchScript network on the CPU, and a
// RollingDepth checkpoint (refines) on a GPU in fp16.
depthd::ModelInfo TorchScriptModel() {
  depthd::ModelInfo model;
  model.contract.name = "tinysnippet";
  model.contract.format = "torchscript";
  model.contract.snippet_length = 3;
  model.contract.size_multiple = 8;
  return model;
}

depthd::ModelInfo RollingDepthModel() {
  depthd::ModelInfo model;
  model.contract.name = "rollingdepth-v1-0";
  model.contract.format = "rollingdepth";
  model.contract.snippet_length = 3;
  model.contract.size_multiple = 64;
  model.contract.supports_refine = true;
  model.device = depthd::DeviceKind::kCuda;
  model.dtype = depthd::DType::kFloat16;
  return model;
}

// upload_receiver.cc's CheckFrame: the size from the header or the raw fields, nothing decoded.
absl::Status CheckFrame(const depthd::v1::Frame& frame, int64_t max_pixels) {
  int64_t pixels = 0;
  if (frame.has_raw_rgb()) {
    const depthd::v1::RawImage& raw = frame.raw_rgb();
    if (raw.width() <= 0 || raw.height() <= 0) return absl::InvalidArgumentError("raw size");
    pixels = static_cast<int64_t>(raw.width()) * raw.height();
    if (static_cast<int64_t>(raw.data().size()) != pixels * 3) {
      return absl::InvalidArgumentError("raw bytes");
    }
  } else if (frame.image_case() == depthd::v1::Frame::kEncoded) {
    absl::StatusOr<depthd::ImageHeader> header = depthd::ReadImageHeader(frame.encoded());
    if (!header.ok()) return header.status();
    pixels = header->width * header->height;
  } else {
    return absl::InvalidArgumentError("no image");
  }
  if (pixels > max_pixels) return absl::ResourceExhaustedError("too many pixels");
  return absl::OkStatus();
}

// job_runner.cc's FrameImage: the frame at its own size.
absl::StatusOr<cv::Mat> FrameImage(const depthd::v1::Frame& frame, int64_t max_pixels) {
  if (frame.has_raw_rgb()) {
    return depthd::RawRgbToFrame(frame.raw_rgb().data(), frame.raw_rgb().width(),
                                 frame.raw_rgb().height());
  }
  return depthd::DecodeImage(frame.encoded(), max_pixels);
}

// A kept frame is RGB at the processing size the filter chose.
void CheckKept(const depthd::FrameFilter& filter, const depthd::FrameFilter::Result& result) {
  if (result.kind != depthd::FrameFilter::kKeep) return;
  FUZZ_CHECK(result.rgb.type() == CV_8UC3);
  FUZZ_CHECK(result.rgb.size() == filter.processing_size());
}

}  // namespace

// Protobuf logs each string field with invalid UTF-8 it parses; the fuzzer makes many.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const depthd::server::ServerLimits limits = Limits();
  static const depthd::server::JobDefaults defaults;
  static const depthd::ModelInfo models[] = {TorchScriptModel(), RollingDepthModel()};

  google::protobuf::io::ArrayInputStream bytes(data, static_cast<int>(size));
  google::protobuf::io::CodedInputStream input(&bytes);
  depthd::v1::EstimateRequest first;
  bool clean_eof = false;
  if (!google::protobuf::util::ParseDelimitedFromCodedStream(&first, &input, &clean_eof)) return 0;
  if (first.payload_case() != depthd::v1::EstimateRequest::kSpec) return 0;

  absl::StatusOr<ResolvedJob> job = absl::UnknownError("no model");
  for (const depthd::ModelInfo& model : models) {
    job = depthd::server::ResolveJobSpec(first.spec(), model, limits, defaults);
    if (!job.ok()) {
      FUZZ_CHECK(job.status().code() == absl::StatusCode::kInvalidArgument);
      continue;
    }
    const depthd::PipelineOptions& pipeline = job->session.pipeline;
    FUZZ_CHECK(!pipeline.snippets.dilations.empty());
    FUZZ_CHECK(pipeline.snippets.snippet_lengths.front() == model.contract.snippet_length);
    FUZZ_CHECK(job->read.start_frame >= 0 && job->read.frame_count >= 0);
    FUZZ_CHECK(job->read.max_pixels == limits.max_pixels);
    FUZZ_CHECK(!job->live || job->latency_frames >= 0);
    break;
  }
  if (!job.ok()) return 0;
  depthd::VideoReadOptions read = job->read;
  read.processing_res = std::min(read.processing_res, kMaxProcessingRes);

  depthd::FrameFilter frames(read);
  std::string container;
  bool any_frames = false;
  for (int i = 1; i < kMaxMessages; ++i) {
    depthd::v1::EstimateRequest message;
    if (!google::protobuf::util::ParseDelimitedFromCodedStream(&message, &input, &clean_eof)) break;
    if (message.payload_case() == depthd::v1::EstimateRequest::kChunk) {
      // VideoChunk: not after frames, not for a live job, within the chunk and upload limits.
      if (any_frames || job->live) break;
      const std::string& chunk = message.chunk().data();
      if (static_cast<int64_t>(chunk.size()) > kMaxChunkBytes) break;
      if (static_cast<int64_t>(container.size() + chunk.size()) > limits.max_upload_bytes) break;
      container += chunk;
      continue;
    }
    if (message.payload_case() != depthd::v1::EstimateRequest::kFrame) break;  // refused
    if (!container.empty()) break;
    any_frames = true;
    const absl::Status checked = CheckFrame(message.frame(), limits.max_pixels);
    if (!checked.ok()) break;
    absl::StatusOr<cv::Mat> image = FrameImage(message.frame(), read.max_pixels);
    if (!image.ok()) break;
    FUZZ_CHECK(static_cast<int64_t>(image->total()) <= limits.max_pixels);
    absl::StatusOr<depthd::FrameFilter::Result> kept = frames.Add(*image, /*is_bgr=*/false);
    if (!kept.ok() || kept->kind == depthd::FrameFilter::kDone) break;
    CheckKept(frames, *kept);
  }
  if (container.empty()) return 0;

  std::unique_ptr<depthd::ByteSource> source = depthd::MemorySource(container);
  absl::StatusOr<std::unique_ptr<depthd::VideoDecoder>> decoder =
      depthd::VideoDecoder::Open(*source, read.max_pixels, "the upload");
  if (!decoder.ok()) return 0;
  for (int i = 0; i < kMaxContainerFrames; ++i) {
    absl::StatusOr<cv::Mat> frame = (*decoder)->Next(!frames.skips_next());
    if (!frame.ok() || frame->empty()) break;
    FUZZ_CHECK(static_cast<int64_t>(frame->total()) <= limits.max_pixels);
    absl::StatusOr<depthd::FrameFilter::Result> kept = frames.Add(*frame, /*is_bgr=*/false);
    if (!kept.ok() || kept->kind == depthd::FrameFilter::kDone) break;
    CheckKept(frames, *kept);
  }
  return 0;
}
