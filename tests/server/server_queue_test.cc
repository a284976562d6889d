// The bounded FIFO: with one job at a time, --queue_size 2 and four clients at once, one runs,
// two wait and then run in order, one is refused; no upload file is left behind.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>

#include "tests/server/e2e_support.h"

namespace depthd {
namespace {

TEST(QueueTest, OneRunsTwoWaitOneIsRefused) {
  const std::string dir = testing::TempDir("queue");
  testing::DepthdProcess server({"--model", testing::WriteFixtureModel(dir, 1500), "--queue_size", "2",
                                 "--max_active_jobs", "1"});
  ASSERT_TRUE(server.WaitServing()) << server.log();
  const std::string video = testing::ReadFile(testing::WriteTestVideo(dir, 24, 64, 48));

  std::mutex mu;
  std::vector<std::pair<std::string, std::chrono::steady_clock::time_point>> finished;
  std::vector<grpc::Status> statuses(4);
  std::vector<std::thread> clients;
  for (int i = 0; i < 4; ++i) {
    clients.emplace_back([&, i] {
      // Stagger the starts so that admission order is the client order.
      std::this_thread::sleep_for(std::chrono::milliseconds(100 * i));
      v1::JobSpec spec = testing::SmallJobSpec();
      spec.set_client_name("client-" + std::to_string(i));
      auto stub = server.Stub();
      const auto result = testing::Estimate(*stub, spec, video);
      std::lock_guard<std::mutex> lock(mu);
      statuses[i] = result.status;
      if (result.status.ok()) finished.push_back({std::to_string(i), std::chrono::steady_clock::now()});
    });
  }
  for (auto& t : clients) t.join();
  int refused = 0, ok = 0;
  for (const auto& status : statuses) {
    if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      ++refused;
      EXPECT_THAT(status.error_message(), ::testing::HasSubstr("queue is full"));
    }
    ok += status.ok();
  }
  EXPECT_EQ(refused, 1) << server.log();
  EXPECT_EQ(ok, 3) << server.log();
  EXPECT_TRUE(statuses[3].error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  ASSERT_EQ(finished.size(), 3u);
  EXPECT_EQ(finished[0].first, "0");
  EXPECT_EQ(finished[1].first, "1");
  EXPECT_EQ(finished[2].first, "2");
  EXPECT_TRUE(std::filesystem::is_empty(server.spool_dir()));
  EXPECT_EQ(server.Stop(SIGTERM), 0);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace depthd
