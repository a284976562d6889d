// Bad input gets the right status code and a message; the server keeps serving.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/server/e2e_support.h"

namespace depthd {
namespace {

using ::testing::HasSubstr;
using testing::DepthdProcess;

class BadInputTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(testing::TempDir("bad"));
    const std::string model = testing::WriteFixtureModel(*dir_);
    server_ = new DepthdProcess({"--model", model, "--max_upload_bytes", "200000"});
    ASSERT_TRUE(server_->WaitServing()) << server_->log();
  }
  static void TearDownTestSuite() {
    delete server_;
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }
  void ExpectStillServing() {
    v1::JobSpec spec = testing::SmallJobSpec();
    auto stub = server_->Stub();
    const auto result = testing::Estimate(*stub, spec, testing::ReadFile(testing::WriteTestVideo(*dir_, 6, 64, 48)));
    EXPECT_TRUE(result.status.ok()) << result.status.error_message();
    EXPECT_EQ(result.frames().size(), 6u);
  }
  static grpc::Status Send(const std::vector<v1::EstimateRequest>& messages) {
    auto stub = server_->Stub();
    grpc::ClientContext context;
    auto stream = stub->Estimate(&context);
    for (const auto& m : messages) {
      if (!stream->Write(m)) break;
    }
    stream->WritesDone();
    v1::EstimateResponse response;
    while (stream->Read(&response)) {
    }
    return stream->Finish();
  }
  static std::string* dir_;
  static DepthdProcess* server_;
};
std::string* BadInputTest::dir_ = nullptr;
DepthdProcess* BadInputTest::server_ = nullptr;

v1::EstimateRequest SpecMessage(const std::string& preset = "") {
  v1::EstimateRequest m;
  *m.mutable_spec() = testing::SmallJobSpec();
  m.mutable_spec()->set_preset(preset);
  return m;
}

v1::EstimateRequest Chunk(const std::string& bytes) {
  v1::EstimateRequest m;
  m.mutable_chunk()->set_data(bytes);
  return m;
}

TEST_F(BadInputTest, NoSpec) {
  const grpc::Status status = Send({Chunk("abc")});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("JobSpec"));
  const grpc::Status empty = Send({});
  EXPECT_EQ(empty.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  ExpectStillServing();
}

TEST_F(BadInputTest, SpecTwice) {
  const grpc::Status status = Send({SpecMessage(), SpecMessage()});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("second JobSpec"));
  ExpectStillServing();
}

TEST_F(BadInputTest, GarbageBytes) {
  const grpc::Status status = Send({SpecMessage(), Chunk(std::string(5000, 'x'))});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("not a video"));
  ExpectStillServing();
}

TEST_F(BadInputTest, TruncatedMp4) {
  const std::string video = testing::ReadFile(testing::WriteTestVideo(*dir_, 40, 160, 96));
  const grpc::Status status = Send({SpecMessage(), Chunk(video.substr(0, video.size() / 2))});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_FALSE(status.error_message().empty());
  ExpectStillServing();
}

TEST_F(BadInputTest, ZeroFrameVideo) {
  const std::string path = testing::WriteTestVideo(*dir_, 0, 64, 48);
  const grpc::Status status = Send({SpecMessage(), Chunk(testing::ReadFile(path))});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_FALSE(status.error_message().empty());
  const grpc::Status no_video = Send({SpecMessage()});
  EXPECT_EQ(no_video.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(no_video.error_message(), HasSubstr("no video"));
  ExpectStillServing();
}

TEST_F(BadInputTest, UploadOverTheLimit) {
  const grpc::Status status = Send({SpecMessage(), Chunk(std::string(150000, 'a')), Chunk(std::string(150000, 'b'))});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(), HasSubstr("--max_upload_bytes"));
  ExpectStillServing();
}

TEST_F(BadInputTest, UnknownPresetAndBadOptions) {
  const grpc::Status status = Send({SpecMessage("turbo")});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("unknown preset"));
  v1::EstimateRequest refine = SpecMessage("full");
  EXPECT_THAT(Send({refine}).error_message(), HasSubstr("refine"));
  v1::EstimateRequest dtype = SpecMessage();
  dtype.mutable_spec()->set_dtype("fp16");
  EXPECT_THAT(Send({dtype}).error_message(), HasSubstr("fp32"));
  v1::EstimateRequest encoding = SpecMessage();
  encoding.mutable_spec()->set_depth_encoding(static_cast<v1::DepthEncoding>(42));
  EXPECT_EQ(Send({encoding}).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  v1::EstimateRequest dilations = SpecMessage();
  dilations.mutable_spec()->add_dilations(5);
  EXPECT_THAT(Send({dilations}).error_message(), HasSubstr("must contain 1"));
  ExpectStillServing();
}

}  // namespace
}  // namespace depthd
