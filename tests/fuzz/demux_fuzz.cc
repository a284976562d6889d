// An uploaded container (VideoChunk bytes): VideoDecoder::Open over a MemorySource of the bytes
// (probe, allow-list, stream analysis under the pixel limit), then Next() a bounded number of
// times. Whatever the bytes, nothing crashes, and every frame handed out is RGB and within the
// pixel limit, so a small file cannot make the decoder allocate a huge frame.
#include <cstdint>
#include <memory>

#include <opencv2/core.hpp>

#include "core/media/byte_source.h"
#include "core/media/video_decoder.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

constexpr int64_t kMaxPixels = 96 * 96;
constexpr int kMaxFrames = 8;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::unique_ptr<depthd::ByteSource> source =
      depthd::MemorySource(depthd::fuzz::Bytes(data, size));
  absl::StatusOr<std::unique_ptr<depthd::VideoDecoder>> decoder =
      depthd::VideoDecoder::Open(*source, kMaxPixels, "the fuzz input");
  if (!decoder.ok()) return 0;
  const depthd::ContainerInfo& info = (*decoder)->info();
  FUZZ_CHECK(static_cast<int64_t>(info.width) * info.height <= kMaxPixels);
  FUZZ_CHECK(info.fps >= 0.0);
  for (int i = 0; i < kMaxFrames; ++i) {
    // The second frame takes the path of a frame before start_frame (no conversion).
    const bool convert = i != 1;
    absl::StatusOr<cv::Mat> frame = (*decoder)->Next(convert);
    if (!frame.ok()) break;
    if (frame->empty()) {
      // After the last frame the decoder stays at the end.
      absl::StatusOr<cv::Mat> again = (*decoder)->Next(true);
      FUZZ_CHECK(!again.ok() || again->empty());
      break;
    }
    FUZZ_CHECK(frame->type() == CV_8UC3);
    FUZZ_CHECK(static_cast<int64_t>(frame->total()) <= kMaxPixels);
    FUZZ_CHECK((*decoder)->frames() == i + 1);
  }
  return 0;
}
