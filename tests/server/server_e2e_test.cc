// End to end over loopback with the real depthd binary and the embedded model.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/videoio.hpp>

#include "core/media/depth_image.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "tests/server/e2e_support.h"

namespace depthd {
namespace {

using ::testing::HasSubstr;
using testing::DepthdProcess;

class ServerE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(testing::TempDir("e2e"));
    server_ = new DepthdProcess();  // no --model: the embedded model
    ASSERT_TRUE(server_->WaitServing()) << server_->log();
    video_ = new std::string(testing::ReadFile(testing::WriteTestVideo(*dir_, 12, 160, 96)));
  }
  static void TearDownTestSuite() {
    delete server_;
    delete video_;
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }
  static std::string* dir_;
  static DepthdProcess* server_;
  static std::string* video_;
};
std::string* ServerE2eTest::dir_ = nullptr;
DepthdProcess* ServerE2eTest::server_ = nullptr;
std::string* ServerE2eTest::video_ = nullptr;

TEST_F(ServerE2eTest, HealthIsServingAndInfoDescribesTheEmbeddedModel) {
  auto health = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  grpc::health::v1::HealthCheckResponse response;
  ASSERT_TRUE(health->Check(&context, {}, &response).ok());
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);

  grpc::ClientContext info_context;
  v1::ServerInfo info;
  ASSERT_TRUE(server_->Stub()->GetServerInfo(&info_context, {}, &info).ok());
  EXPECT_EQ(info.model().name(), "tinysnippet-v5");
  EXPECT_EQ(info.device(), "cpu");
  EXPECT_EQ(info.dtype(), "fp32");
  EXPECT_THAT(info.presets(), ::testing::Contains("fast"));
  EXPECT_THAT(info.model().contract_json(), HasSubstr("snippet_length"));
}

TEST_F(ServerE2eTest, EveryFrameComesBackInEachEncoding) {
  for (v1::DepthEncoding encoding :
       {v1::DEPTH_ENCODING_FLOAT32, v1::DEPTH_ENCODING_FLOAT16, v1::DEPTH_ENCODING_PNG16}) {
    v1::JobSpec spec;
    spec.set_processing_res(128);
    spec.set_depth_encoding(encoding);
    spec.set_preview(encoding == v1::DEPTH_ENCODING_PNG16);
    auto stub = server_->Stub();
    const testing::EstimateResult result = testing::Estimate(*stub, spec, *video_);
    ASSERT_TRUE(result.status.ok()) << result.status.error_message() << "\n" << server_->log();
    const auto frames = result.frames();
    ASSERT_EQ(frames.size(), 12u);
    for (size_t i = 0; i < frames.size(); ++i) {
      const v1::DepthFrame& f = frames[i];
      EXPECT_EQ(f.index(), static_cast<int>(i));
      EXPECT_EQ(f.width(), 128);
      EXPECT_EQ(f.height(), 77);
      EXPECT_EQ(f.encoding(), encoding);
      absl::StatusOr<cv::Mat> depth;
      if (encoding == v1::DEPTH_ENCODING_FLOAT32) depth = Float32BytesToDepth(f.data(), f.width(), f.height());
      if (encoding == v1::DEPTH_ENCODING_FLOAT16) depth = Float16BytesToDepth(f.data(), f.width(), f.height());
      if (encoding == v1::DEPTH_ENCODING_PNG16) {
        depth = DecodePng16(f.data());
        EXPECT_FALSE(f.preview_jpeg().empty());
      }
      ASSERT_TRUE(depth.ok()) << depth.status();
      double lo, hi;
      cv::minMaxLoc(*depth, &lo, &hi);
      EXPECT_GE(lo, 0.0);
      EXPECT_LE(hi, 1.0);
    }
    const v1::Summary* summary = result.summary();
    ASSERT_NE(summary, nullptr);
    EXPECT_EQ(summary->frames(), 12);
    EXPECT_EQ(summary->model(), "tinysnippet-v5");
    EXPECT_EQ(summary->coalign_solver(), "fast");
    EXPECT_GT(summary->coalign_iterations(), 0);
    EXPECT_EQ(summary->snippets(), 10 + 6);  // dilations 1 and 3 (25 capped for 12 frames)
    EXPECT_GE(summary->stage_times_size(), 7);
    EXPECT_FALSE(result.job_id().empty());
  }
}

TEST_F(ServerE2eTest, MetricsShowTheJobsAndStagesAndPassPromtool) {
  v1::JobSpec spec;
  spec.set_processing_res(96);
  auto stub = server_->Stub();
  ASSERT_TRUE(testing::Estimate(*stub, spec, *video_).status.ok());
  const std::string metrics = testing::HttpGet(server_->metrics_address(), "/metrics");
  EXPECT_THAT(metrics, HasSubstr("depthd_jobs_total{outcome=\"succeeded\"}"));
  EXPECT_THAT(metrics, HasSubstr("depthd_stage_duration_seconds_bucket{stage=\"inference\""));
  EXPECT_THAT(metrics, HasSubstr("depthd_stage_duration_seconds_count{stage=\"coalign\"}"));
  EXPECT_THAT(metrics, HasSubstr("depthd_frames_total"));
  EXPECT_THAT(metrics, HasSubstr("depthd_model_info{"));
  EXPECT_THAT(metrics, ::testing::Not(HasSubstr("depthd_jobs_total{outcome=\"succeeded\"} 0")));
  if (!std::filesystem::exists("/usr/bin/promtool")) GTEST_SKIP() << "promtool not installed";
  const std::string path = *dir_ + "/metrics.txt";
  std::ofstream(path) << metrics;
  EXPECT_EQ(std::system(("/usr/bin/promtool check metrics < " + path + " > /dev/null").c_str()), 0);
}

TEST_F(ServerE2eTest, FramesCanBeSentOneByOne) {
  auto stub = server_->Stub();
  grpc::ClientContext context;
  auto stream = stub->Estimate(&context);
  v1::EstimateRequest request;
  *request.mutable_spec() = testing::SmallJobSpec();
  stream->Write(request);
  for (int f = 0; f < 5; ++f) {
    cv::Mat frame(48, 64, CV_8UC3, cv::Scalar(10 * f, 100, 200));
    v1::EstimateRequest message;
    if (f % 2 == 0) {
      std::vector<uchar> png;
      cv::imencode(".png", frame, png);
      message.mutable_frame()->set_encoded(std::string(png.begin(), png.end()));
    } else {
      v1::RawImage* raw = message.mutable_frame()->mutable_raw_rgb();
      raw->set_width(64);
      raw->set_height(48);
      raw->set_data(std::string(reinterpret_cast<char*>(frame.data), frame.total() * 3));
    }
    stream->Write(message);
  }
  stream->WritesDone();
  v1::EstimateResponse response;
  int frames = 0;
  while (stream->Read(&response)) frames += response.has_frame();
  const grpc::Status status = stream->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(frames, 5);
}

TEST_F(ServerE2eTest, DepthctlRunWritesTheOutputs) {
  // 15 fps, not the 24 an encoder falls back to: the outputs keep the input's rate.
  const std::string input = testing::WriteTestVideo(*dir_, 10, 128, 72, 15.0);
  const std::string out = *dir_ + "/ctl_out";
  const std::string command = std::string(DEPTHD_CLIENT_BIN) + " --server " + server_->address() +
                              " --quiet run " + input + " -o " + out + " --res 96 > /dev/null";
  ASSERT_EQ(std::system(command.c_str()), 0);
  const std::string stem = std::filesystem::path(input).stem().string();
  for (const char* suffix : {"_pred.npy", "_Spectral_r.mp4", "_rgbd.mp4"}) {
    EXPECT_TRUE(std::filesystem::exists(out + "/" + stem + suffix)) << suffix;
  }
  cv::VideoCapture rgbd(out + "/" + stem + "_rgbd.mp4");
  EXPECT_EQ(static_cast<int>(rgbd.get(cv::CAP_PROP_FRAME_COUNT)), 10);
  EXPECT_EQ(static_cast<int>(rgbd.get(cv::CAP_PROP_FRAME_WIDTH)) % 2, 0);
  EXPECT_NEAR(rgbd.get(cv::CAP_PROP_FPS), 15.0, 0.01);
  cv::VideoCapture colour(out + "/" + stem + "_Spectral_r.mp4");
  EXPECT_NEAR(colour.get(cv::CAP_PROP_FPS), 15.0, 0.01);
  // A bad option: non-zero exit and the server's message.
  const std::string bad = std::string(DEPTHD_CLIENT_BIN) + " --server " + server_->address() +
                          " --quiet run " + input + " -o " + out + " --preset turbo 2> " + *dir_ + "/err.txt";
  EXPECT_NE(std::system(bad.c_str()), 0);
  EXPECT_THAT(testing::ReadFile(*dir_ + "/err.txt"), HasSubstr("INVALID_ARGUMENT: unknown preset"));
}

// `depthctl --help` states the defaults the flags really have (it once gave --timeout a default
// of 60 s, when no deadline is the default).
TEST_F(ServerE2eTest, DepthctlHelpStatesTheRealDefaults) {
  const std::string path = *dir_ + "/help.txt";
  const std::string command = std::string(DEPTHD_CLIENT_BIN) + " --help > " + path + " 2>&1";
  (void)std::system(command.c_str());  // absl's --help exits non-zero by convention
  const std::string help = testing::ReadFile(path);
  EXPECT_THAT(help, HasSubstr("--timeout 60s (default none)"));
  EXPECT_THAT(help, HasSubstr("0 (the default) = none); default: 0;"));
  EXPECT_THAT(help, HasSubstr("--server ADDR (default 127.0.0.1:50051)"));
  EXPECT_THAT(help, HasSubstr("default: \"127.0.0.1:50051\""));
}

}  // namespace
}  // namespace depthd
