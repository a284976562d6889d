#include "core/media/depth_image.h"

#include <filesystem>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

namespace depthd {
namespace {

TEST(DepthImageTest, Png16ValuesRoundTrip) {
  cv::Mat depth(1, 4, CV_32FC1);
  depth.at<float>(0) = 0.0f;
  depth.at<float>(1) = 1.0f;
  depth.at<float>(2) = 0.5f;
  depth.at<float>(3) = 1.7f;  // clamped
  const std::string path = std::filesystem::temp_directory_path() / "depth16.png";
  ASSERT_TRUE(WritePng16(path, depth).ok());
  const cv::Mat raw = cv::imread(path, cv::IMREAD_UNCHANGED);
  ASSERT_EQ(raw.type(), CV_16UC1);
  EXPECT_EQ(raw.at<uint16_t>(0), 0);
  EXPECT_EQ(raw.at<uint16_t>(1), 65535);
  EXPECT_NEAR(raw.at<uint16_t>(2), 32768, 1);
  EXPECT_EQ(raw.at<uint16_t>(3), 65535);
  auto back = ReadPng16(path);
  ASSERT_TRUE(back.ok());
  EXPECT_NEAR(back->at<float>(2), 0.5f, 1.0f / 65535);
  auto encoded = EncodePng16(depth);
  ASSERT_TRUE(encoded.ok());
  EXPECT_NEAR(DecodePng16(*encoded)->at<float>(2), 0.5f, 1.0f / 65535);
  std::filesystem::remove(path);
}

// A PNG16 frame from a server is decoded only as PNG: anything else (here a DICOM preamble, which
// imdecode would hand to GDCM) is an error, not a decode by whatever decoder claims it.
TEST(DepthImageTest, DecodePng16TakesOnlyPng) {
  std::string dicom(200, '\0');
  dicom.replace(128, 4, "DICM");
  auto decoded = DecodePng16(dicom);
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(DecodePng16("").ok());
}

TEST(DepthImageTest, SpectralRMatchesMatplotlibAnchors) {
  cv::Mat depth(1, 3, CV_32FC1);
  depth.at<float>(0) = 0.0f;
  depth.at<float>(1) = 0.5f;
  depth.at<float>(2) = 1.0f;
  const cv::Mat rgb = ColorizeSpectralR(depth);
  // Spectral_r(0) is Spectral's last anchor (94, 79, 162); Spectral_r(1) its first (158, 1, 66);
  // the middle is the central anchor (255, 255, 191).
  EXPECT_EQ(rgb.at<cv::Vec3b>(0), cv::Vec3b(94, 79, 162));
  EXPECT_EQ(rgb.at<cv::Vec3b>(2), cv::Vec3b(158, 1, 66));
  const cv::Vec3b mid = rgb.at<cv::Vec3b>(1);
  EXPECT_NEAR(mid[0], 255, 3);
  EXPECT_NEAR(mid[1], 255, 3);
  EXPECT_NEAR(mid[2], 191, 6);
}

TEST(DepthImageTest, FloatEncodingsRoundTrip) {
  cv::Mat depth(3, 5, CV_32FC1);
  cv::randu(depth, 0.0, 1.0);
  auto f32 = Float32BytesToDepth(DepthToFloat32Bytes(depth), 5, 3);
  ASSERT_TRUE(f32.ok());
  EXPECT_EQ(cv::norm(*f32, depth, cv::NORM_INF), 0.0);
  auto f16 = Float16BytesToDepth(DepthToFloat16Bytes(depth), 5, 3);
  ASSERT_TRUE(f16.ok());
  EXPECT_LT(cv::norm(*f16, depth, cv::NORM_INF), 1e-3);
  EXPECT_FALSE(Float32BytesToDepth("abc", 5, 3).ok());
}

}  // namespace
}  // namespace depthd
