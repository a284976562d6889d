#include "core/media/image_header.h"

#include <cstdint>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace depthd {
namespace {

uint32_t Be16(std::string_view b, size_t at) {
  return (static_cast<uint8_t>(b[at]) << 8) | static_cast<uint8_t>(b[at + 1]);
}
uint32_t Be32(std::string_view b, size_t at) { return (Be16(b, at) << 16) | Be16(b, at + 2); }
uint32_t Le16(std::string_view b, size_t at) {
  return static_cast<uint8_t>(b[at]) | (static_cast<uint8_t>(b[at + 1]) << 8);
}
uint32_t Le32(std::string_view b, size_t at) { return Le16(b, at) | (Le16(b, at + 2) << 16); }
uint32_t Le24(std::string_view b, size_t at) {
  return Le16(b, at) | (static_cast<uint32_t>(static_cast<uint8_t>(b[at + 2])) << 16);
}

absl::Status Damaged(const char* format, const char* what) {
  return absl::InvalidArgumentError(absl::StrCat("a damaged ", format, " image: ", what));
}

absl::StatusOr<ImageHeader> Sized(const char* format, int64_t width, int64_t height) {
  if (width <= 0 || height <= 0) return Damaged(format, "its header declares no pixels");
  // No decoder takes a side beyond 2^31 - 1 (TIFF's LONG fields reach 2^32 - 1), and this keeps
  // width * height, which every caller compares with a pixel limit, inside int64_t.
  if (width > INT32_MAX || height > INT32_MAX) {
    return Damaged(format, "its header declares a side of more than 2^31 - 1 pixels");
  }
  return ImageHeader{format, width, height};
}

absl::StatusOr<ImageHeader> Png(std::string_view b) {
  // Signature, then the IHDR chunk: length, "IHDR", width, height.
  if (b.size() < 24 || b.substr(12, 4) != "IHDR") return Damaged("PNG", "no IHDR chunk");
  return Sized("png", Be32(b, 16), Be32(b, 20));
}

absl::StatusOr<ImageHeader> Jpeg(std::string_view b) {
  // Walk the marker segments to the first start-of-frame (SOF0..SOF15 but DHT, JPG, DAC).
  size_t at = 2;
  while (at + 4 <= b.size()) {
    if (static_cast<uint8_t>(b[at]) != 0xFF) return Damaged("JPEG", "a marker is missing");
    const uint8_t marker = static_cast<uint8_t>(b[at + 1]);
    if (marker == 0xFF) {  // fill byte
      ++at;
      continue;
    }
    if (marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) {
      at += 2;  // markers without a length
      continue;
    }
    const uint32_t length = Be16(b, at + 2);
    if (length < 2) return Damaged("JPEG", "a segment length is below 2");
    const bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 &&
                     marker != 0xCC;
    if (sof) {
      if (at + 9 > b.size()) break;
      return Sized("jpeg", Be16(b, at + 7), Be16(b, at + 5));
    }
    if (marker == 0xD9 || marker == 0xDA) break;  // end of image or scan data before any frame
    at += 2 + length;
  }
  return Damaged("JPEG", "no frame header (SOF) before the image data");
}

absl::StatusOr<ImageHeader> Bmp(std::string_view b) {
  if (b.size() < 26) return Damaged("BMP", "the header is cut short");
  const uint32_t info = Le32(b, 14);
  if (info == 12) return Sized("bmp", Le16(b, 18), Le16(b, 20));  // OS/2 BITMAPCOREHEADER
  const int32_t width = static_cast<int32_t>(Le32(b, 18));
  const int32_t height = static_cast<int32_t>(Le32(b, 22));
  // A negative height means top-down rows.
  const int64_t rows = height == INT32_MIN ? 0 : (height < 0 ? -static_cast<int64_t>(height) : height);
  return Sized("bmp", width, rows);
}

absl::StatusOr<ImageHeader> Gif(std::string_view b) {
  if (b.size() < 10) return Damaged("GIF", "the header is cut short");
  return Sized("gif", Le16(b, 6), Le16(b, 8));
}

absl::StatusOr<ImageHeader> Webp(std::string_view b) {
  if (b.size() < 30) return Damaged("WebP", "the header is cut short");
  const std::string_view chunk = b.substr(12, 4);
  if (chunk == "VP8 ") {
    // Frame tag (3 bytes), start code 9d 01 2a, then 14-bit width and height.
    if (static_cast<uint8_t>(b[23]) != 0x9d || static_cast<uint8_t>(b[24]) != 0x01 ||
        static_cast<uint8_t>(b[25]) != 0x2a) {
      return Damaged("WebP", "no VP8 start code");
    }
    return Sized("webp", Le16(b, 26) & 0x3fff, Le16(b, 28) & 0x3fff);
  }
  if (chunk == "VP8L") {
    if (static_cast<uint8_t>(b[20]) != 0x2f) return Damaged("WebP", "no VP8L signature");
    const uint32_t bits = Le32(b, 21);
    return Sized("webp", (bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1);
  }
  if (chunk == "VP8X") return Sized("webp", Le24(b, 24) + 1, Le24(b, 27) + 1);
  return Damaged("WebP", "an unknown first chunk");
}

absl::StatusOr<ImageHeader> Tiff(std::string_view b) {
  const bool little = b[0] == 'I';
  auto u16 = [&](size_t at) { return little ? Le16(b, at) : Be16(b, at); };
  auto u32 = [&](size_t at) { return little ? Le32(b, at) : Be32(b, at); };
  const uint32_t ifd = u32(4);
  if (ifd < 8 || static_cast<uint64_t>(ifd) + 2 > b.size()) return Damaged("TIFF", "the first IFD is outside the file");
  const uint32_t entries = u16(ifd);
  int64_t width = 0, height = 0;
  for (uint32_t i = 0; i < entries; ++i) {
    const uint64_t at = static_cast<uint64_t>(ifd) + 2 + 12ull * i;
    if (at + 12 > b.size()) return Damaged("TIFF", "the first IFD is cut short");
    const uint32_t tag = u16(at), type = u16(at + 2);
    // SHORT values sit in the first two bytes of the value field, LONG values fill it.
    const int64_t value = type == 3 ? u16(at + 8) : (type == 4 ? u32(at + 8) : -1);
    if (tag == 256) width = value;
    if (tag == 257) height = value;
  }
  return Sized("tiff", width, height);
}

}  // namespace

absl::StatusOr<ImageHeader> ReadImageHeader(std::string_view b) {
  if (b.size() >= 8 && b.substr(0, 8) == std::string_view("\x89PNG\r\n\x1a\n", 8)) return Png(b);
  if (b.size() >= 3 && static_cast<uint8_t>(b[0]) == 0xFF && static_cast<uint8_t>(b[1]) == 0xD8) {
    return Jpeg(b);
  }
  if (b.size() >= 2 && b.substr(0, 2) == "BM") return Bmp(b);
  if (b.size() >= 6 && (b.substr(0, 6) == "GIF87a" || b.substr(0, 6) == "GIF89a")) return Gif(b);
  if (b.size() >= 12 && b.substr(0, 4) == "RIFF" && b.substr(8, 4) == "WEBP") return Webp(b);
  if (b.size() >= 8 && (b.substr(0, 4) == std::string_view("II*\0", 4) ||
                        b.substr(0, 4) == std::string_view("MM\0*", 4))) {
    return Tiff(b);
  }
  if (b.empty()) return absl::InvalidArgumentError("an empty image");
  return absl::InvalidArgumentError(absl::StrCat(
      "a ", b.size(), "-byte frame that is not a PNG, JPEG, BMP, GIF, WebP or TIFF image"));
}

}  // namespace depthd
