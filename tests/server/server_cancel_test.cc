// CancelJob stops a running job within a batch; a client's deadline ends its stream but not
// its job, whose result stays fetchable.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "tests/server/e2e_support.h"

namespace depthd {
namespace {

using Clock = std::chrono::steady_clock;

class CancelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TempDir("cancel");
    server_ = std::make_unique<testing::DepthdProcess>(
        std::vector<std::string>{"--model", testing::WriteFixtureModel(dir_, 200)});
    ASSERT_TRUE(server_->WaitServing()) << server_->log();
    long_video_ = testing::ReadFile(testing::WriteTestVideo(dir_, 150, 64, 48));
    short_video_ = testing::ReadFile(testing::WriteTestVideo(dir_, 6, 64, 48));
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  void ExpectNextJobRunsPromptly() {
    v1::JobSpec spec = testing::SmallJobSpec();
    auto stub = server_->Stub();
    const auto start = Clock::now();
    const auto result = testing::Estimate(*stub, spec, short_video_);
    EXPECT_TRUE(result.status.ok()) << result.status.error_message();
    EXPECT_LT(std::chrono::duration<double>(Clock::now() - start).count(), 20.0);
  }
  std::string dir_, long_video_, short_video_;
  std::unique_ptr<testing::DepthdProcess> server_;
};

TEST_F(CancelTest, CancelJobStopsTheRunningJob) {
  auto stub = server_->Stub();
  grpc::ClientContext context;
  auto stream = stub->Estimate(&context);
  v1::EstimateRequest request;
  *request.mutable_spec() = testing::SmallJobSpec();
  stream->Write(request);
  v1::EstimateRequest chunk;
  chunk.mutable_chunk()->set_data(long_video_);
  stream->Write(chunk);
  stream->WritesDone();
  std::string job_id;
  auto control = server_->Stub();
  v1::EstimateResponse response;
  Clock::time_point cancelled_at;
  while (stream->Read(&response)) {
    if (response.has_accepted()) job_id = response.accepted().job_id();
    if (response.has_progress() && response.progress().stage() == v1::STAGE_INFERENCE &&
        response.progress().done() > 0 && cancelled_at == Clock::time_point()) {
      grpc::ClientContext cancel_context;
      v1::CancelJobRequest cancel;
      cancel.set_job_id(job_id);
      v1::JobStatus job;
      const grpc::Status cancel_status = control->CancelJob(&cancel_context, cancel, &job);
      ASSERT_TRUE(cancel_status.ok()) << cancel_status.error_message() << " job '" << job_id << "'";
      cancelled_at = Clock::now();
    }
  }
  const grpc::Status status = stream->Finish();
  ASSERT_NE(cancelled_at, Clock::time_point()) << "the job never reached inference";
  EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED) << status.error_message();
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - cancelled_at).count(), 3.0);
  const v1::JobStatus job = testing::WaitForEnd(*server_->Stub(), job_id);
  EXPECT_EQ(job.state(), v1::JOB_STATE_CANCELLED);
  EXPECT_EQ(job.error_code(), static_cast<int>(grpc::StatusCode::CANCELLED));
  EXPECT_THAT(job.error(), ::testing::HasSubstr("CancelJob"));
  EXPECT_EQ(job.result(), v1::RESULT_STATE_NONE);
  ExpectNextJobRunsPromptly();
}

TEST_F(CancelTest, DeadlineEndsTheStreamNotTheJob) {
  v1::JobSpec spec = testing::SmallJobSpec();
  auto stub = server_->Stub();
  const auto start = Clock::now();
  const auto result = testing::Estimate(*stub, spec, long_video_, /*deadline_seconds=*/1.5);
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - start).count(), 5.0);
  ASSERT_FALSE(result.job_id().empty());
  // The upload was acknowledged, so the job is the server's: it ends, and its frames are kept.
  const v1::JobStatus job = testing::WaitForEnd(*server_->Stub(), result.job_id());
  EXPECT_EQ(job.state(), v1::JOB_STATE_SUCCEEDED) << job.error();
  const auto fetched = testing::Fetch(*server_->Stub(), result.job_id(), 0);
  EXPECT_TRUE(fetched.status.ok()) << fetched.status.error_message();
  EXPECT_EQ(fetched.frames().size(), 150u);
  ASSERT_NE(fetched.summary(), nullptr);
  ExpectNextJobRunsPromptly();
}

TEST_F(CancelTest, UnknownJobIsNotFound) {
  grpc::ClientContext context;
  v1::CancelJobRequest cancel;
  cancel.set_job_id("job-nope");
  v1::JobStatus job;
  EXPECT_EQ(server_->Stub()->CancelJob(&context, cancel, &job).error_code(), grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace depthd
