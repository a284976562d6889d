// SIGTERM during a job: the running job finishes, queued ones get UNAVAILABLE, health turns
// NOT_SERVING, spool files are removed, exit 0.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "tests/server/e2e_support.h"

namespace depthd {
namespace {

TEST(ShutdownTest, SigtermDrains) {
  const std::string dir = testing::TempDir("shutdown");
  testing::DepthdProcess server({"--model", testing::WriteFixtureModel(dir, 1500), "--shutdown_grace", "60s"});
  ASSERT_TRUE(server.WaitServing()) << server.log();
  const std::string video = testing::ReadFile(testing::WriteTestVideo(dir, 24, 64, 48));
  const std::string spool = server.spool_dir();
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
  EXPECT_FALSE(std::filesystem::exists(spool));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace depthd
