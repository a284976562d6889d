// The size of an encoded image, read from its header without decoding a pixel, so that a frame
// can be refused before it is inflated (a 0.05 MB PNG can declare 4096 x 4096 pixels).
#ifndef DEPTHD_CORE_MEDIA_IMAGE_HEADER_H_
#define DEPTHD_CORE_MEDIA_IMAGE_HEADER_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace depthd {

struct ImageHeader {
  std::string format;  // png | jpeg | bmp | gif | webp | tiff
  int64_t width = 0;
  int64_t height = 0;
};

// INVALID_ARGUMENT for anything that is not one of those formats with a readable, positive size.
absl::StatusOr<ImageHeader> ReadImageHeader(std::string_view bytes);

}  // namespace depthd

#endif  // DEPTHD_CORE_MEDIA_IMAGE_HEADER_H_
