// SIGTERM during a job: the running job finishes within the grace, the queued one's stream gets
// UNAVAILABLE while the job stays stored and runs after a restart, depthd deletes only its own
// files, exit 0.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/server/e2e_support.h"

namespace depthd {
namespace {

TEST(ShutdownTest, SigtermDrains) {
  const std::string dir = testing::TempDir("shutdown");
  testing::DepthdProcess server({"--model", testing::WriteFixtureModel(dir, 1500), "--shutdown_grace", "60s",
                                 "--max_active_jobs", "1"});
  ASSERT_TRUE(server.WaitServing()) << server.log();
  const std::string video = testing::ReadFile(testing::WriteTestVideo(dir, 24, 64, 48));
  const std::string spool = server.spool_dir();
  const std::string foreign = spool + "/not-depthds.txt";
  std::ofstream(foreign) << "an operator's file";
  testing::EstimateResult running, queued;
  std::thread first([&] {
    v1::JobSpec spec = testing::SmallJobSpec();
    auto stub = server.Stub();
    running = testing::Estimate(*stub, spec, video);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::thread second([&] {
    v1::JobSpec spec = testing::SmallJobSpec();
    auto stub = server.Stub();
    queued = testing::Estimate(*stub, spec, video);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(server.Stop(SIGTERM), 0) << server.log();
  first.join();
  second.join();
  EXPECT_TRUE(running.status.ok()) << running.status.error_message();
  EXPECT_EQ(running.frames().size(), 24u);
  EXPECT_EQ(queued.status.error_code(), grpc::StatusCode::UNAVAILABLE) << queued.status.error_message();
  EXPECT_THAT(queued.status.error_message(), ::testing::HasSubstr("runs when depthd starts again"));
  EXPECT_TRUE(std::filesystem::exists(foreign));

  // A restart on the same folders runs the queued job; the foreign file is still there.
  testing::DepthdProcess restarted({"--model", testing::WriteFixtureModel(dir, 0)}, &server);
  ASSERT_TRUE(restarted.WaitServing()) << restarted.log();
  const v1::JobStatus job = testing::WaitForEnd(*restarted.Stub(), queued.job_id());
  EXPECT_EQ(job.state(), v1::JOB_STATE_SUCCEEDED) << job.error() << restarted.log();
  EXPECT_EQ(testing::Fetch(*restarted.Stub(), queued.job_id()).frames().size(), 24u);
  EXPECT_TRUE(std::filesystem::exists(foreign));
  EXPECT_EQ(restarted.Stop(SIGTERM), 0);
  // Only the foreign file is left in the spool folder: the job's upload went when it ended.
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(spool)) files += entry.is_regular_file();
  EXPECT_EQ(files, 1);
  std::filesystem::remove_all(dir);
}

// A job still running when the grace ends: depthd exits within the grace plus half a second, the
// job's watchers get a retryable UNAVAILABLE, and the job, re-queued in the store, succeeds after
// a restart.
TEST(ShutdownTest, AJobCutOffByTheGraceIsRequeuedAndTheGraceHolds) {
  const std::string dir = testing::TempDir("shutdown_grace");
  testing::DepthdProcess server(
      {"--model", testing::WriteFixtureModel(dir, 20000), "--shutdown_grace", "1s"});
  ASSERT_TRUE(server.WaitServing()) << server.log();
  const std::string video = testing::ReadFile(testing::WriteTestVideo(dir, 24, 64, 48));

  const absl::StatusOr<v1::JobStatus> acknowledged =
      testing::Submit(*server.Stub(), testing::SmallJobSpec(), video);
  ASSERT_TRUE(acknowledged.ok()) << acknowledged.status();
  const v1::JobStatus& submitted = *acknowledged;

  // Watch until the job runs (the server says so: no sleep).
  auto stub = server.Stub();
  grpc::ClientContext watch_context;
  v1::WatchJobRequest watch;
  watch.set_job_id(submitted.job_id());
  auto watcher = stub->WatchJob(&watch_context, watch);
  v1::JobStatus status;
  bool running = false;
  while (!running && watcher->Read(&status)) running = status.state() == v1::JOB_STATE_RUNNING;
  ASSERT_TRUE(running) << server.log();

  const auto signalled = std::chrono::steady_clock::now();
  EXPECT_EQ(server.Stop(SIGTERM), 0) << server.log();
  const double exit_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - signalled).count();
  // Sanitizer builds run slower and say so (scripts/ci-sanitize.sh); the bound scales with them.
  const char* scale = std::getenv("DEPTHD_TEST_TIME_SCALE");
  EXPECT_LE(exit_seconds, (1.0 + 0.5) * (scale != nullptr ? std::atof(scale) : 1.0))
      << server.log();
  while (watcher->Read(&status)) {
  }
  const grpc::Status watch_end = watcher->Finish();
  EXPECT_EQ(watch_end.error_code(), grpc::StatusCode::UNAVAILABLE) << watch_end.error_message();

  testing::DepthdProcess restarted({"--model", testing::WriteFixtureModel(dir, 0)}, &server);
  ASSERT_TRUE(restarted.WaitServing()) << restarted.log();
  const v1::JobStatus job = testing::WaitForEnd(*restarted.Stub(), submitted.job_id());
  EXPECT_EQ(job.state(), v1::JOB_STATE_SUCCEEDED) << job.error() << restarted.log();
  EXPECT_EQ(testing::Fetch(*restarted.Stub(), submitted.job_id()).frames().size(), 24u);
  EXPECT_EQ(restarted.Stop(SIGTERM), 0);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace depthd
