#include "core/media/video_decoder.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/synchronization/mutex.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include "core/media/video_io.h"

namespace depthd {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

class VideoDecoderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("video_decoder_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A test pattern encoded by the ffmpeg command-line tool (Debian's ffmpeg package).
  std::string Encode(const std::string& name, const std::string& output_args, int frames = 12,
                     const std::string& size = "64x48") {
    const fs::path path = dir_ / name;
    const std::string command = "ffmpeg -nostdin -loglevel error -y -f lavfi -i testsrc=size=" +
                                size + ":rate=10 -frames:v " + std::to_string(frames) + " " +
                                output_args + " " + path.string();
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
    return ReadAll(path);
  }

  absl::StatusOr<VideoFrames> Decode(const std::string& bytes, int64_t max_pixels = 1 << 24) {
    auto source = MemorySource(bytes);
    VideoReadOptions options;
    options.processing_res = 0;
    options.max_pixels = max_pixels;
    return DecodeVideo(*source, "the upload", options);
  }

  fs::path dir_;
};

TEST_F(VideoDecoderTest, DecodesEveryAllowedContainer) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"a.mp4", "-c:v mpeg4"},
      {"b.mp4", "-c:v mpeg4 -movflags frag_keyframe+empty_moov"},  // fragmented
      {"c.mkv", "-c:v mjpeg"},
      {"d.webm", "-c:v libvpx -b:v 200k"},
      {"e.avi", "-c:v mjpeg"},
      {"f.ts", "-c:v mpeg2video"},
      {"g.gif", ""},
  };
  for (const auto& [name, args] : cases) {
    auto video = Decode(Encode(name, args));
    ASSERT_TRUE(video.ok()) << name << ": " << video.status();
    EXPECT_EQ(video->num_frames(), 12) << name;
    EXPECT_EQ(video->width(), 64) << name;
    EXPECT_EQ(video->height(), 48) << name;
    EXPECT_NEAR(video->fps, 10.0, 0.05) << name;
  }
}

TEST_F(VideoDecoderTest, DecodesASingleImage) {
  std::vector<uchar> png;
  cv::imencode(".png", cv::Mat(30, 40, CV_8UC3, cv::Scalar(255, 0, 0)), png);  // BGR blue
  auto video = Decode(std::string(png.begin(), png.end()));
  ASSERT_TRUE(video.ok()) << video.status();
  EXPECT_EQ(video->num_frames(), 1);
  EXPECT_EQ(video->frames[0].at<cv::Vec3b>(5, 5)[2], 255);  // RGB order: blue is channel 2
  EXPECT_EQ(video->fps, 0.0);
}

// A playlist or concat list that names a file on the server must read nothing of it, and the
// answer must not depend on whether the file exists (no existence oracle).
TEST_F(VideoDecoderTest, PlaylistsAndConcatListsAreRefused) {
  const std::string victim = Encode("victim.ts", "-c:v mpeg2video");
  (void)victim;
  const std::string real = (dir_ / "victim.ts").string();
  const std::string missing = (dir_ / "missing.ts").string();
  for (const std::string& path : {real, missing}) {
    const std::string hls = "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.0,\nfile://" + path +
                            "\n#EXT-X-ENDLIST\n";
    auto h = Decode(hls);
    EXPECT_EQ(h.status().code(), absl::StatusCode::kInvalidArgument) << h.status();
    EXPECT_THAT(h.status().message(), HasSubstr("hls"));
    EXPECT_THAT(h.status().message(), ::testing::Not(HasSubstr(path)));

    const std::string concat = "ffconcat version 1.0\nfile '" + path + "'\n";
    auto c = Decode(concat);
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument) << c.status();
    EXPECT_THAT(c.status().message(), HasSubstr("concat"));
  }
  // The same message whether the named file exists or not.
  const auto hls_for = [&](const std::string& path) -> std::string {
    return std::string(Decode("#EXTM3U\n#EXTINF:10.0,\nfile://" + path + "\n#EXT-X-ENDLIST\n").status().message());
  };
  EXPECT_EQ(hls_for(real), hls_for(missing));
}

TEST_F(VideoDecoderTest, FormatsOutsideTheAllowListAreNamed) {
  // A raw H.264 elementary stream and a WAV file are real formats, but not accepted.
  auto h264 = Decode(Encode("x.h264", "-c:v libx264 -f h264"));
  EXPECT_EQ(h264.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(h264.status().message(), HasSubstr("h264"));
  EXPECT_THAT(h264.status().message(), HasSubstr("does not accept"));
  auto garbage = Decode(std::string(5000, 'z'));
  EXPECT_EQ(garbage.status().code(), absl::StatusCode::kInvalidArgument);
  auto empty = Decode("");
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(empty.status().message(), HasSubstr("empty"));
}

TEST_F(VideoDecoderTest, PixelLimitIsCheckedBeforeDecoding) {
  auto big = Decode(Encode("big.mkv", "-c:v mjpeg", 3, "640x480"), /*max_pixels=*/640 * 480 - 1);
  EXPECT_EQ(big.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(big.status().message(), HasSubstr("--max_pixels"));
}

TEST_F(VideoDecoderTest, RotationMetadataIsApplied) {
  const std::string plain = Encode("plain.mp4", "-c:v mpeg4");
  // FFmpeg 5.1 writes the display matrix from the legacy "rotate" stream tag.
  const std::string command = "ffmpeg -nostdin -loglevel error -y -i " +
                              (dir_ / "plain.mp4").string() + " -c copy -metadata:s:v:0 rotate=90 " +
                              (dir_ / "rotated.mp4").string();
  ASSERT_EQ(std::system(command.c_str()), 0);
  auto video = Decode(ReadAll(dir_ / "rotated.mp4"));
  ASSERT_TRUE(video.ok()) << video.status();
  EXPECT_EQ(video->width(), 48);
  EXPECT_EQ(video->height(), 64);
}

TEST_F(VideoDecoderTest, TruncatedFilesAreErrors) {
  const std::string full = Encode("full.mkv", "-c:v mjpeg", 40, "160x96");
  auto cut = Decode(full.substr(0, full.size() / 2));
  // Matroska without its end still yields the frames before the cut; a cut MP4 loses its index.
  const std::string mp4 = Encode("full.mp4", "-c:v mpeg4", 40, "160x96");
  auto cut_mp4 = Decode(mp4.substr(0, mp4.size() / 2));
  EXPECT_FALSE(cut_mp4.ok());
  if (cut.ok()) {
    EXPECT_LT(cut->num_frames(), 40);
  }
}

}  // namespace
}  // namespace depthd

namespace depthd {
namespace {

// Bytes that arrive over time: reads past what has arrived wait, as the server's spool does.
class ArrivingBytes : public ByteSource {
 public:
  explicit ArrivingBytes(std::string bytes) : bytes_(std::move(bytes)) {}
  void Release(size_t n) {
    absl::MutexLock lock(&mu_);
    available_ = std::min(bytes_.size(), n);
  }
  absl::StatusOr<size_t> ReadAt(int64_t offset, char* dst, size_t n) override {
    absl::MutexLock lock(&mu_);
    auto ready = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return static_cast<size_t>(offset) < available_ || available_ == bytes_.size();
    };
    mu_.Await(absl::Condition(&ready));
    if (static_cast<size_t>(offset) >= available_) return 0;
    const size_t count = std::min(n, available_ - static_cast<size_t>(offset));
    std::memcpy(dst, bytes_.data() + offset, count);
    return count;
  }
  absl::StatusOr<int64_t> Size() override {
    absl::MutexLock lock(&mu_);
    auto whole = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return available_ == bytes_.size(); };
    mu_.Await(absl::Condition(&whole));
    return static_cast<int64_t>(bytes_.size());
  }
  int64_t known_size() const override {
    absl::MutexLock lock(&mu_);
    return available_ == bytes_.size() ? static_cast<int64_t>(bytes_.size()) : -1;
  }

 private:
  const std::string bytes_;
  mutable absl::Mutex mu_;
  size_t available_ ABSL_GUARDED_BY(mu_) = 0;
};

// Matroska, MPEG-TS and fragmented MP4 give their first frames while most of the file has not
// arrived; an MP4 with its index at the end gives them all once it has.
TEST_F(VideoDecoderTest, ProgressiveContainersDecodeAsBytesArrive) {
  struct Case {
    std::string name, args;
    bool progressive;
  };
  const std::vector<Case> cases = {
      {"p.mkv", "-c:v mjpeg", true},
      {"p.ts", "-c:v mpeg2video", true},
      {"p.mp4", "-c:v mpeg4 -movflags frag_keyframe+empty_moov", true},
      {"q.mp4", "-c:v mpeg4", false},
  };
  for (const Case& c : cases) {
    ArrivingBytes source(Encode(c.name, c.args, 200, "64x48"));
    const size_t total = fs::file_size(dir_ / c.name);
    source.Release(total / 3);
    absl::Mutex mu;
    int frames = 0;
    bool done = false;
    absl::Status status;
    std::thread decoder([&] {
      auto opened = VideoDecoder::Open(source, 1 << 20, c.name);
      absl::Status result = opened.status();
      while (result.ok()) {
        auto frame = (*opened)->Next();
        if (!frame.ok()) result = frame.status();
        if (!frame.ok() || frame->empty()) break;
        absl::MutexLock lock(&mu);
        ++frames;
      }
      absl::MutexLock lock(&mu);
      status = result;
      done = true;
    });
    bool early = false;
    {
      absl::MutexLock lock(&mu);
      auto some = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu) { return frames > 0 || done; };
      early = mu.AwaitWithTimeout(absl::Condition(&some), absl::Seconds(c.progressive ? 20 : 1)) && frames > 0;
    }
    EXPECT_EQ(early, c.progressive) << c.name;
    source.Release(total);
    decoder.join();
    EXPECT_TRUE(status.ok()) << c.name << ": " << status;
    EXPECT_EQ(frames, 200) << c.name;
  }
}

}  // namespace
}  // namespace depthd
