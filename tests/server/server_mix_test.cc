// A scripted mix of good, bad, cancelled and refused calls: depthd_jobs_total equals what
// happened, each call counted once.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "tests/server/e2e_support.h"

namespace depthd {
namespace {

namespace fs = std::filesystem;

double Counter(const std::string& metrics, const std::string& outcome) {
  std::smatch match;
  const std::regex line("depthd_jobs_total\\{outcome=\"" + outcome + "\"\\} ([0-9.e+]+)");
  return std::regex_search(metrics, match, line) ? std::stod(match[1]) : -1;
}

grpc::Status Call(v1::DepthService::Stub& stub, const std::string& token, const v1::JobSpec& spec,
                  const std::string& video, std::string* job_id = nullptr, bool half_close = true,
                  std::unique_ptr<grpc::ClientContext>* keep = nullptr) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata("authorization", "Bearer " + token);
  auto stream = stub.Estimate(context.get());
  v1::EstimateRequest first;
  *first.mutable_spec() = spec;
  stream->Write(first);
  v1::EstimateRequest chunk;
  chunk.mutable_chunk()->set_data(video);
  stream->Write(chunk);
  v1::EstimateResponse response;
  if (!half_close) {
    // Leave the upload open: the job waits, UPLOADING, once it is accepted.
    while (stream->Read(&response)) {
      if (response.has_accepted()) {
        if (job_id != nullptr) *job_id = response.accepted().job_id();
        break;
      }
    }
    *keep = std::move(context);
    return grpc::Status::OK;
  }
  stream->WritesDone();
  while (stream->Read(&response)) {
    if (response.has_accepted() && job_id != nullptr) *job_id = response.accepted().job_id();
  }
  return stream->Finish();
}

TEST(MixTest, MetricsEqualWhatHappened) {
  const std::string dir = testing::TempDir("mix");
  std::ofstream(dir + "/tokens") << "mix-token-0123456789abcdef mix\n";
  testing::DepthdProcess server({"--model", testing::WriteFixtureModel(dir, 0), "--auth_tokens",
                                 dir + "/tokens", "--queue_size", "1", "--max_active_jobs", "1",
                                 "--max_upload_bytes", "200000"});
  ASSERT_TRUE(server.WaitServing()) << server.log();
  auto stub = server.Stub();
  const std::string token = "mix-token-0123456789abcdef";
  const std::string video = testing::ReadFile(testing::WriteTestVideo(dir, 12, 64, 48));
  const v1::JobSpec good = testing::SmallJobSpec();

  int succeeded = 0, invalid = 0, cancelled = 0, rejected = 0;
  for (int i = 0; i < 3; ++i, ++succeeded) EXPECT_TRUE(Call(*stub, token, good, video).ok());
  v1::JobSpec turbo = good;
  turbo.set_preset("turbo");
  EXPECT_EQ(Call(*stub, token, turbo, video).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  ++invalid;
  v1::JobSpec no_one = good;
  no_one.add_dilations(5);
  EXPECT_EQ(Call(*stub, token, no_one, video).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  ++invalid;
  EXPECT_EQ(Call(*stub, token, good, std::string(3000, 'g')).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  ++invalid;  // a job that failed on its input
  EXPECT_EQ(Call(*stub, "wrong-token-0123456789", good, video).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  ++rejected;
  EXPECT_EQ(Call(*stub, token, good, std::string(250000, 'x')).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  ++rejected;  // over --max_upload_bytes
  // One upload left open fills the queue of one: the next call is refused; then it is cancelled.
  std::string waiting;
  std::unique_ptr<grpc::ClientContext> open;
  ASSERT_TRUE(Call(*stub, token, good, video.substr(0, 1000), &waiting, false, &open).ok());
  EXPECT_EQ(Call(*stub, token, good, video).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  ++rejected;
  {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + token);
    v1::CancelJobRequest cancel;
    cancel.set_job_id(waiting);
    v1::JobStatus status;
    ASSERT_TRUE(stub->CancelJob(&context, cancel, &status).ok());
    EXPECT_EQ(status.state(), v1::JOB_STATE_CANCELLED);
    ++cancelled;
  }
  open->TryCancel();  // its stream; the job already ended
  EXPECT_TRUE(Call(*stub, token, good, video).ok());
  ++succeeded;

  const std::string metrics = testing::HttpGet(server.metrics_address(), "/metrics");
  EXPECT_EQ(Counter(metrics, "succeeded"), succeeded) << metrics;
  EXPECT_EQ(Counter(metrics, "invalid"), invalid);
  EXPECT_EQ(Counter(metrics, "cancelled"), cancelled);
  EXPECT_EQ(Counter(metrics, "rejected"), rejected);
  EXPECT_EQ(Counter(metrics, "failed"), 0);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace depthd
