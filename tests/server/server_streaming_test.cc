// Streaming over gRPC: with the windowed scope and ALIGNED normalisation, depth frames leave
// while the upload is still arriving; a live job's frames arrive within the latency it states;
// a live stream that goes quiet ends.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include <opencv2/imgcodecs.hpp>

#include "core/media/depth_image.h"
#include "tests/server/e2e_support.h"

namespace depthd {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

class StreamingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TempDir("streaming");
    server_ = std::make_unique<testing::DepthdProcess>(std::vector<std::string>{
        "--model", testing::WriteFixtureModel(dir_, 0), "--live_idle_timeout", "1s"});
    ASSERT_TRUE(server_->WaitServing()) << server_->log();
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }
  std::string dir_;
  std::unique_ptr<testing::DepthdProcess> server_;
};

// Matroska can be decoded as it arrives: the first depth frames come back while the second half
// of the file has not been sent.
TEST_F(StreamingTest, FramesLeaveBeforeTheUploadEnds) {
  const std::string path = dir_ + "/long.mkv";
  const std::string command = "ffmpeg -nostdin -loglevel error -y -f lavfi -i testsrc=size=64x48:rate=24 "
                              "-frames:v 240 -c:v mjpeg " + path;
  ASSERT_EQ(std::system(command.c_str()), 0);
  const std::string video = testing::ReadFile(path);
  v1::JobSpec spec = testing::SmallJobSpec();
  spec.set_normalization(v1::NORMALIZATION_ALIGNED);
  spec.set_coalign_scope("windowed");
  spec.set_coalign_window(10);
  auto stub = server_->Stub();
  grpc::ClientContext context;
  auto stream = stub->Estimate(&context);
  v1::EstimateRequest first;
  *first.mutable_spec() = spec;
  ASSERT_TRUE(stream->Write(first));
  const size_t half = video.size() / 2;
  for (size_t offset = 0; offset < half; offset += 16 << 10) {
    v1::EstimateRequest chunk;
    chunk.mutable_chunk()->set_data(video.substr(offset, std::min<size_t>(16 << 10, half - offset)));
    ASSERT_TRUE(stream->Write(chunk));
  }
  // Nothing more is sent until a depth frame has come back.
  v1::EstimateResponse response;
  int latency = -1;
  while (stream->Read(&response) && !response.has_frame()) {
    if (response.has_accepted()) latency = response.accepted().latency_frames();
  }
  ASSERT_TRUE(response.has_frame()) << "no depth frame while the upload was half done\n" << server_->log();
  EXPECT_EQ(response.frame().index(), 0);
  EXPECT_GT(latency, 0);
  EXPECT_LT(latency, 120);
  v1::EstimateRequest rest;
  rest.mutable_chunk()->set_data(video.substr(half));
  ASSERT_TRUE(stream->Write(rest));
  stream->WritesDone();
  int frames = 1;
  v1::Summary summary;
  while (stream->Read(&response)) {
    frames += response.has_frame();
    if (response.has_summary()) summary = response.summary();
  }
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(frames, 240);
  EXPECT_EQ(summary.normalization(), v1::NORMALIZATION_ALIGNED);
  EXPECT_LT(summary.depth_min(), summary.depth_max());
  EXPECT_EQ(summary.coalign_scope(), "windowed");
}

// Frame k is sent only once frame k - latency has come back: if the server ever needed more
// input than it stated, this would stop (and the call's deadline would fail the test).
TEST_F(StreamingTest, LiveFramesArriveWithinTheStatedLatency) {
  v1::JobSpec spec = testing::SmallJobSpec();
  spec.set_live(true);
  spec.set_max_latency_frames(8);
  auto stub = server_->Stub();
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  auto stream = stub->Estimate(&context);
  v1::EstimateRequest first;
  *first.mutable_spec() = spec;
  ASSERT_TRUE(stream->Write(first));
  int latency = -1, received = 0;
  v1::EstimateResponse response;
  const int frames = 60;
  for (int k = 0; k < frames; ++k) {
    cv::Mat bgr(48, 64, CV_8UC3, cv::Scalar(k * 3, 100, 200 - k * 2));
    std::vector<uchar> jpeg;
    cv::imencode(".jpg", bgr, jpeg);
    v1::EstimateRequest message;
    message.mutable_frame()->set_encoded(std::string(jpeg.begin(), jpeg.end()));
    ASSERT_TRUE(stream->Write(message));
    while (latency < 0 || received < k + 1 - latency) {
      ASSERT_TRUE(stream->Read(&response)) << "the stream ended waiting for frame " << received;
      if (response.has_accepted()) {
        latency = response.accepted().latency_frames();
        EXPECT_LE(latency, 8);
        EXPECT_EQ(response.accepted().normalization(), v1::NORMALIZATION_RUNNING);
      }
      if (response.has_frame()) {
        EXPECT_EQ(response.frame().index(), received);
        auto depth = Float32BytesToDepth(response.frame().data(), response.frame().width(),
                                         response.frame().height());
        ASSERT_TRUE(depth.ok());
        double lo, hi;
        cv::minMaxLoc(*depth, &lo, &hi);
        EXPECT_GE(lo, 0.0);
        EXPECT_LE(hi, 1.0);
        ++received;
      }
    }
  }
  stream->WritesDone();
  v1::Summary summary;
  while (stream->Read(&response)) {
    received += response.has_frame();
    if (response.has_summary()) summary = response.summary();
  }
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(received, frames);
  EXPECT_EQ(summary.frames(), frames);
  EXPECT_EQ(summary.latency_frames(), latency);
  EXPECT_EQ(summary.dilations_size(), 2);
}

TEST_F(StreamingTest, ALiveStreamThatGoesQuietEnds) {
  v1::JobSpec spec = testing::SmallJobSpec();
  spec.set_live(true);
  auto stub = server_->Stub();
  grpc::ClientContext context;
  auto stream = stub->Estimate(&context);
  v1::EstimateRequest first;
  *first.mutable_spec() = spec;
  ASSERT_TRUE(stream->Write(first));
  std::vector<uchar> png;
  cv::imencode(".png", cv::Mat(48, 64, CV_8UC3, cv::Scalar(1, 2, 3)), png);
  v1::EstimateRequest frame;
  frame.mutable_frame()->set_encoded(std::string(png.begin(), png.end()));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(stream->Write(frame));
  v1::EstimateResponse response;
  while (stream->Read(&response)) {
  }
  const grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_THAT(status.error_message(), HasSubstr("--live_idle_timeout"));
}

TEST_F(StreamingTest, LiveOptionsThatCannotBeHonouredAreRefused) {
  v1::JobSpec global = testing::SmallJobSpec();
  global.set_live(true);
  global.set_coalign_scope("global");
  EXPECT_EQ(testing::Estimate(*server_->Stub(), global, "x").status.error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  v1::JobSpec latency = testing::SmallJobSpec();
  latency.set_max_latency_frames(5);  // not live
  EXPECT_THAT(testing::Estimate(*server_->Stub(), latency, "x").status.error_message(),
              HasSubstr("live jobs"));
  v1::JobSpec png = testing::SmallJobSpec();
  png.set_normalization(v1::NORMALIZATION_ALIGNED);
  png.set_depth_encoding(v1::DEPTH_ENCODING_PNG16);
  EXPECT_THAT(testing::Estimate(*server_->Stub(), png, "x").status.error_message(), HasSubstr("PNG16"));
}

}  // namespace
}  // namespace depthd
