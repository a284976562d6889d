#include "core/media/image_header.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include "core/media/video_io.h"

namespace depthd {
namespace {

using ::testing::HasSubstr;

std::string Encoded(const std::string& extension, int width, int height) {
  std::vector<uchar> bytes;
  cv::imencode(extension, cv::Mat(height, width, CV_8UC3, cv::Scalar(10, 200, 30)), bytes);
  return std::string(bytes.begin(), bytes.end());
}

TEST(ImageHeaderTest, ReadsTheSizeOfEveryFormat) {
  for (const char* ext : {".png", ".jpg", ".bmp", ".webp", ".tiff"}) {
    auto header = ReadImageHeader(Encoded(ext, 37, 21));
    ASSERT_TRUE(header.ok()) << ext << ": " << header.status();
    EXPECT_EQ(header->width, 37) << ext;
    EXPECT_EQ(header->height, 21) << ext;
  }
  // GIF: the logical screen size, little-endian, right after the signature.
  const std::string gif = std::string("GIF89a") + std::string("\x25\x00\x15\x00", 4) + "rest";
  auto header = ReadImageHeader(gif);
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(header->format, "gif");
  EXPECT_EQ(header->width, 37);
  EXPECT_EQ(header->height, 21);
}

TEST(ImageHeaderTest, DamagedAndUnknownInputIsAnError) {
  EXPECT_FALSE(ReadImageHeader("").ok());
  EXPECT_FALSE(ReadImageHeader("hello, world").ok());
  for (const char* ext : {".png", ".jpg", ".bmp", ".webp", ".tiff"}) {
    const std::string bytes = Encoded(ext, 8, 8);
    for (size_t cut : {size_t{3}, size_t{11}, size_t{17}}) {
      auto header = ReadImageHeader(bytes.substr(0, cut));
      EXPECT_FALSE(header.ok() && (header->width != 8 || header->height != 8)) << ext << " " << cut;
    }
  }
}

// A 0.05 MB image can declare billions of pixels: refused from the header, before inflating.
TEST(ImageHeaderTest, DecodeImageRefusesOversizedFramesFromTheHeader) {
  std::string png = Encoded(".png", 16, 16);
  // IHDR width and height are big-endian at bytes 16 and 20; the CRC no longer matches, which
  // does not matter since nothing is decoded.
  png[16] = 0; png[17] = 1; png[18] = 0; png[19] = 0;  // 65536
  png[20] = 0; png[21] = 1; png[22] = 0; png[23] = 0;
  auto header = ReadImageHeader(png);
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(header->width, 65536);
  auto image = DecodeImage(png, 4096LL * 4096LL);
  EXPECT_EQ(image.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(image.status().message(), HasSubstr("--max_pixels"));
  auto ok = DecodeImage(Encoded(".jpg", 16, 8), 4096LL * 4096LL);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->cols, 16);
}

// imdecode chooses its decoder by signature; "DICM" at byte 128 is the one signature that can sit
// beside any header's and it would route the image to GDCM, which aborts on malformed input.
TEST(ImageHeaderTest, DecodeImageRefusesEveryFormatCarryingADicomSignature) {
  for (const char* ext : {".png", ".jpg", ".bmp", ".webp", ".tiff"}) {
    cv::Mat noise(64, 64, CV_8UC3);
    cv::randu(noise, 0, 255);  // so that no format compresses the image below 132 bytes
    std::vector<uchar> encoded;
    ASSERT_TRUE(cv::imencode(ext, noise, encoded)) << ext;
    std::string bytes(encoded.begin(), encoded.end());
    ASSERT_GE(bytes.size(), 132u) << ext;
    ASSERT_TRUE(DecodeImage(bytes, 4096).ok()) << ext;
    bytes.replace(128, 4, "DICM");
    auto image = DecodeImage(bytes, 4096);
    EXPECT_EQ(image.status().code(), absl::StatusCode::kInvalidArgument) << ext;
    EXPECT_THAT(image.status().message(), HasSubstr("DICOM is not accepted")) << ext;
  }
  std::string gif =
      std::string("GIF89a") + std::string("\x40\x00\x40\x00", 4) + std::string(140, '\0');
  gif.replace(128, 4, "DICM");
  EXPECT_THAT(DecodeImage(gif, 4096).status().message(), HasSubstr("DICOM is not accepted"));
}

}  // namespace
}  // namespace depthd
