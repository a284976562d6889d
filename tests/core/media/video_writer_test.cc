#include "core/media/video_writer.h"

#include <filesystem>

#include <gtest/gtest.h>
#include <opencv2/videoio.hpp>

namespace depthd {
namespace {

TEST(VideoWriterTest, OddSizesAreEvenedAndFramesReadBack) {
  const std::string path = std::filesystem::temp_directory_path() / "writer_test.mp4";
  auto writer = Mp4Writer::Open(path, cv::Size(33, 21), 12.0);
  ASSERT_TRUE(writer.ok()) << writer.status();
  for (int i = 0; i < 9; ++i) {
    ASSERT_TRUE((*writer)->Write(cv::Mat(21, 33, CV_8UC3, cv::Scalar(i * 20, 100, 50))).ok());
  }
  EXPECT_FALSE((*writer)->Write(cv::Mat(10, 10, CV_8UC3)).ok());
  ASSERT_TRUE((*writer)->Close().ok());
  cv::VideoCapture capture(path);
  ASSERT_TRUE(capture.isOpened());
  EXPECT_EQ(static_cast<int>(capture.get(cv::CAP_PROP_FRAME_WIDTH)), 34);
  EXPECT_EQ(static_cast<int>(capture.get(cv::CAP_PROP_FRAME_HEIGHT)), 22);
  int frames = 0;
  cv::Mat frame;
  while (capture.read(frame)) ++frames;
  EXPECT_EQ(frames, 9);
  std::filesystem::remove(path);
}

TEST(VideoWriterTest, SideBySideIsRgbThenDepthAtTheSameHeight) {
  cv::Mat rgb(40, 60, CV_8UC3, cv::Scalar(1, 2, 3));
  cv::Mat depth(20, 30, CV_32FC1, cv::Scalar(0.0f));
  const cv::Mat pair = SideBySide(rgb, depth);
  EXPECT_EQ(pair.rows, 40);
  EXPECT_EQ(pair.cols, 120);
  EXPECT_EQ(pair.at<cv::Vec3b>(0, 0), cv::Vec3b(1, 2, 3));
  EXPECT_EQ(pair.at<cv::Vec3b>(0, 100), cv::Vec3b(94, 79, 162));
}

}  // namespace
}  // namespace depthd
