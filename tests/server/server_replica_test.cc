// Replicas (a StatefulSet) keep their own jobs: each names itself in every job's status, so a
// client knows where its later calls must go.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "tests/server/e2e_support.h"

namespace depthd {
namespace {

using ::testing::HasSubstr;

constexpr char kAddress[] = "depthd-1.depthd-headless.default.svc.cluster.local:50051";

TEST(ReplicaTest, EveryJobNamesTheReplicaThatHoldsIt) {
  const std::string dir = testing::TempDir("replica");
  testing::DepthdProcess server({"--advertise_address", kAddress});
  ASSERT_TRUE(server.WaitServing()) << server.log();

  grpc::ClientContext info_context;
  v1::ServerInfo info;
  ASSERT_TRUE(server.Stub()->GetServerInfo(&info_context, {}, &info).ok());
  EXPECT_EQ(info.replica_address(), kAddress);

  const std::string video = testing::WriteTestVideo(dir, 8, 96, 64);
  const std::string submit = std::string(DEPTHD_CLIENT_BIN) + " --server " + server.address() +
                             " --res 64 submit " + video + " > " + dir + "/id.txt 2> " + dir +
                             "/err.txt";
  ASSERT_EQ(std::system(submit.c_str()), 0) << testing::ReadFile(dir + "/err.txt");
  std::string id = testing::ReadFile(dir + "/id.txt");
  while (!id.empty() && id.back() == '\n') id.pop_back();
  EXPECT_THAT(testing::ReadFile(dir + "/err.txt"), HasSubstr(std::string("--server ") + kAddress));

  const v1::JobStatus ended = testing::WaitForEnd(*server.Stub(), id);
  EXPECT_EQ(ended.state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(ended.replica_address(), kAddress);
  std::filesystem::remove_all(dir);
}

TEST(ReplicaTest, AnAddressClientsCannotDialIsRefusedAtStartUp) {
  const std::string dir = testing::TempDir("replica_bad");
  const std::string command = std::string(DEPTHD_SERVER_BIN) +
                              " --listen 127.0.0.1:" + std::to_string(testing::FreePort()) +
                              " --metrics_listen '' --state_dir " + dir +
                              "/state --advertise_address depthd-0 2> " + dir + "/log.txt";
  EXPECT_NE(std::system(command.c_str()), 0);
  EXPECT_THAT(testing::ReadFile(dir + "/log.txt"),
              HasSubstr("--advertise_address 'depthd-0' is not HOST:PORT"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace depthd
