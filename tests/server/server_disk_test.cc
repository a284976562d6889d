// Disk faults: a state folder whose disk fills up, a forced free-space floor, and a damaged
// job database at start-up.
#include <sys/mount.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/server/e2e_support.h"

namespace depthd {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

class DiskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TempDir("disk");
    model_ = testing::WriteFixtureModel(dir_, 0);
    video_ = testing::ReadFile(testing::WriteTestVideo(dir_, 12, 64, 48));
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_, model_, video_;
};

TEST_F(DiskTest, AFreeSpaceFloorRefusesUploads) {
  testing::DepthdProcess server({"--model", model_, "--min_free_disk_bytes", "1000000000000000"});
  ASSERT_TRUE(server.WaitServing()) << server.log();
  const auto result = testing::Estimate(*server.Stub(), testing::SmallJobSpec(), video_);
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(result.status.error_message(), HasSubstr("--min_free_disk_bytes"));
  EXPECT_TRUE(result.job_id().empty());
}

// A full disk mid-upload is RESOURCE_EXHAUSTED; the database is intact and depthd serves on.
TEST_F(DiskTest, AFullDiskIsRefusedAndCorruptsNothing) {
  const std::string mount = dir_ + "/small";
  fs::create_directories(mount);
  if (::mount("tmpfs", mount.c_str(), "tmpfs", 0, "size=6m") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here (not root?): the full-disk case is not run";
  }
  {
    testing::DepthdProcess server({"--model", model_, "--state_dir", mount + "/state",
                                   "--spool_dir", mount + "/state/uploads",
                                   "--min_free_disk_bytes", "0"});
    ASSERT_TRUE(server.WaitServing()) << server.log();
    std::string big(8 << 20, '\0');
    std::mt19937 random(7);
    for (char& c : big) c = static_cast<char>(random());
    const auto full = testing::Estimate(*server.Stub(), testing::SmallJobSpec(), big);
    EXPECT_EQ(full.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << full.status.error_message();
    EXPECT_THAT(full.status.error_message(), HasSubstr("disk is full"));
    const auto after = testing::Estimate(*server.Stub(), testing::SmallJobSpec(), video_);
    EXPECT_TRUE(after.status.ok()) << after.status.error_message();
    const std::string check = "sqlite3 " + mount + "/state/jobs.db 'PRAGMA integrity_check' > " + dir_ + "/check.txt";
    ASSERT_EQ(std::system(check.c_str()), 0);
    EXPECT_EQ(testing::ReadFile(dir_ + "/check.txt"), "ok\n");
    EXPECT_EQ(server.Stop(SIGTERM), 0);
  }
  ::umount(mount.c_str());
}

TEST_F(DiskTest, ADamagedDatabaseIsRefusedAtStartUp) {
  const std::string state = dir_ + "/damaged";
  fs::create_directories(state);
  std::ofstream(state + "/jobs.db") << std::string(8192, 'z');
  const std::string log = dir_ + "/damaged.log";
  const std::string command = std::string(DEPTHD_SERVER_BIN) + " --listen 127.0.0.1:" +
                              std::to_string(testing::FreePort()) + " --metrics_listen '' --model " +
                              model_ + " --state_dir " + state + " 2> " + log;
  EXPECT_NE(std::system(command.c_str()), 0);
  const std::string text = testing::ReadFile(log);
  EXPECT_THAT(text, HasSubstr("damaged"));
  EXPECT_THAT(text, HasSubstr("move the file"));
}

}  // namespace
}  // namespace depthd
