#include "core/media/video_io.h"

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/videoio.hpp>

namespace depthd {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

class VideoIoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("video_io_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Frames whose red channel is high: checks RGB order after decoding.
  std::string Write(const std::string& name, int fourcc, int frames, int w = 96, int h = 64) {
    const std::string path = (dir_ / name).string();
    cv::VideoWriter writer(path, cv::CAP_FFMPEG, fourcc, 24.0, cv::Size(w, h));
    for (int f = 0; f < frames; ++f) writer.write(cv::Mat(h, w, CV_8UC3, cv::Scalar(20, 30, 220)));  // BGR
    writer.release();
    return path;
  }
  fs::path dir_;
};

TEST_F(VideoIoTest, ReadsMp4AndAviResizedToTheProcessingResolution) {
  for (auto [name, fourcc] : {std::pair{"a.mp4", cv::VideoWriter::fourcc('m', 'p', '4', 'v')},
                              std::pair{"b.avi", cv::VideoWriter::fourcc('M', 'J', 'P', 'G')},
                              std::pair{"c.mkv", cv::VideoWriter::fourcc('M', 'J', 'P', 'G')}}) {
    VideoReadOptions options;
    options.processing_res = 48;
    auto video = ReadVideo(Write(name, fourcc, 7), options);
    ASSERT_TRUE(video.ok()) << name << ": " << video.status();
    EXPECT_EQ(video->num_frames(), 7) << name;
    EXPECT_EQ(video->width(), 48);
    EXPECT_EQ(video->height(), 32);
    EXPECT_EQ(video->original_width, 96);
    EXPECT_NEAR(video->fps, 24.0, 0.01);
    const cv::Vec3b pixel = video->frames[0].at<cv::Vec3b>(10, 10);
    EXPECT_GT(pixel[0], 180) << "channel 0 must be red";
    EXPECT_LT(pixel[2], 60);
  }
}

TEST_F(VideoIoTest, StartFrameAndFrameCount) {
  const std::string path = Write("d.mp4", cv::VideoWriter::fourcc('m', 'p', '4', 'v'), 10);
  VideoReadOptions options;
  options.start_frame = 3;
  options.frame_count = 4;
  auto video = ReadVideo(path, options);
  ASSERT_TRUE(video.ok()) << video.status();
  EXPECT_EQ(video->num_frames(), 4);
  options.start_frame = 50;
  auto past = ReadVideo(path, options);
  ASSERT_FALSE(past.ok());
  EXPECT_THAT(past.status().message(), HasSubstr("start_frame"));
}

TEST_F(VideoIoTest, ImageSequenceDirectoryAndPattern) {
  fs::create_directories(dir_ / "seq");
  for (int i = 0; i < 5; ++i) {
    cv::imwrite((dir_ / "seq" / ("f" + std::to_string(i) + ".png")).string(),
                cv::Mat(20, 30, CV_8UC3, cv::Scalar(i * 40, 0, 0)));
  }
  VideoReadOptions options;
  options.processing_res = 0;
  auto video = ReadVideo((dir_ / "seq").string(), options);
  ASSERT_TRUE(video.ok()) << video.status();
  EXPECT_EQ(video->num_frames(), 5);
  EXPECT_EQ(video->frames[4].at<cv::Vec3b>(0, 0)[2], 160);  // blue 160 in BGR -> channel 2 in RGB
  auto pattern = ReadVideo((dir_ / "seq" / "f%d.png").string(), options);
  ASSERT_TRUE(pattern.ok()) << pattern.status();
  EXPECT_EQ(pattern->num_frames(), 5);
}

TEST_F(VideoIoTest, BadInputIsAnErrorNotACrash) {
  EXPECT_EQ(ReadVideo((dir_ / "missing.mp4").string(), {}).status().code(), absl::StatusCode::kNotFound);
  std::ofstream((dir_ / "empty.mp4").string());
  EXPECT_EQ(ReadVideo((dir_ / "empty.mp4").string(), {}).status().code(), absl::StatusCode::kInvalidArgument);
  std::ofstream((dir_ / "garbage.mp4").string()) << std::string(10000, 'z');
  auto garbage = ReadVideo((dir_ / "garbage.mp4").string(), {});
  EXPECT_EQ(garbage.status().code(), absl::StatusCode::kInvalidArgument);
  // Half of a real file: the index (moov) may be gone, or frames are missing; both are errors.
  const std::string full = Write("full.mp4", cv::VideoWriter::fourcc('m', 'p', '4', 'v'), 40, 160, 96);
  std::ifstream in(full, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ofstream((dir_ / "cut.mp4").string(), std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  auto cut = ReadVideo((dir_ / "cut.mp4").string(), {});
  EXPECT_FALSE(cut.ok());
  EXPECT_FALSE(cut.status().message().empty());
  VideoReadOptions negative;
  negative.start_frame = -1;
  EXPECT_EQ(ReadVideo(full, negative).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(VideoIoTest, LimitsAreResourceExhausted) {
  const std::string path = Write("e.mp4", cv::VideoWriter::fourcc('m', 'p', '4', 'v'), 12);
  VideoReadOptions frames;
  frames.max_frames = 5;
  auto many = ReadVideo(path, frames);
  EXPECT_EQ(many.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(many.status().message(), HasSubstr("--max_frames"));
  VideoReadOptions pixels;
  pixels.max_pixels = 100;
  auto big = ReadVideo(path, pixels);
  EXPECT_EQ(big.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(big.status().message(), HasSubstr("--max_pixels"));
}

TEST(FramesTest, DecodeImageRawFramesAndFramesToVideo) {
  std::vector<uchar> png;
  cv::imencode(".png", cv::Mat(8, 12, CV_8UC3, cv::Scalar(255, 0, 0)), png);  // BGR blue
  auto image = DecodeImage(std::string(png.begin(), png.end()), 1 << 30);
  ASSERT_TRUE(image.ok());
  EXPECT_EQ(image->at<cv::Vec3b>(0, 0)[2], 255);
  EXPECT_FALSE(DecodeImage("not an image", 1 << 30).ok());
  EXPECT_THAT(RawRgbToFrame(std::string(10, 'a'), 2, 2).status().message(), HasSubstr("expected"));
  auto raw = RawRgbToFrame(std::string(12, 'a'), 2, 2);
  ASSERT_TRUE(raw.ok());
  VideoReadOptions options;
  options.processing_res = 6;
  auto video = FramesToVideo({*image, *image, *image}, 10.0, options);
  ASSERT_TRUE(video.ok());
  EXPECT_EQ(video->width(), 6);
  EXPECT_EQ(video->height(), 4);
  EXPECT_FALSE(FramesToVideo({*image, *raw}, 0, options).ok());  // sizes differ
}

}  // namespace
}  // namespace depthd
