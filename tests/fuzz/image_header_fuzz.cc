// An uploaded Frame's encoded image: its size read from the header (ReadImageHeader, what the
// server checks against --max_pixels before keeping a frame), then the decode (DecodeImage) with
// a small pixel limit. Whatever the bytes, neither crashes, an accepted header declares a
// positive size, and a decoded image is RGB, at the header's size and within the limit.
#include <cstdint>
#include <string_view>

#include <opencv2/core.hpp>

#include "core/media/image_header.h"
#include "core/media/video_io.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

constexpr int64_t kMaxPixels = 128 * 128;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes = depthd::fuzz::Bytes(data, size);
  absl::StatusOr<depthd::ImageHeader> header = depthd::ReadImageHeader(bytes);
  if (header.ok()) {
    FUZZ_CHECK(header->width > 0 && header->height > 0);
    FUZZ_CHECK(!header->format.empty());
  }
  absl::StatusOr<cv::Mat> image = depthd::DecodeImage(bytes, kMaxPixels);
  if (image.ok()) {
    FUZZ_CHECK(header.ok());
    FUZZ_CHECK(image->type() == CV_8UC3);
    FUZZ_CHECK(image->cols == header->width && image->rows == header->height);
    FUZZ_CHECK(static_cast<int64_t>(image->total()) <= kMaxPixels);
  } else if (header.ok() && header->width * header->height > kMaxPixels) {
    // Refused by its header, before any pixel was decoded.
    FUZZ_CHECK(image.status().code() == absl::StatusCode::kResourceExhausted);
  }
  return 0;
}
