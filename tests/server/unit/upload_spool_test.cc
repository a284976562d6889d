// The spooled upload as its job's decoder reads it.
#include "server/upload_spool.h"

#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

namespace depthd::server {
namespace {

class UploadSpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("upload_spool_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A container upload holding `bytes` bytes; complete when told.
  std::shared_ptr<UploadSpool> Spool(size_t bytes, bool complete) {
    auto spool = UploadSpool::Create(dir_.string(), "job", /*frames=*/false, /*sync=*/false);
    EXPECT_TRUE(spool.ok()) << spool.status();
    if (!spool.ok()) return nullptr;
    EXPECT_TRUE((*spool)->AppendBytes(std::string(bytes, 'x')).ok());
    if (complete) {
      EXPECT_TRUE((*spool)->Complete().ok());
    }
    return *spool;
  }

  std::filesystem::path dir_;
};

// A failed upload is abandoned and removed at once (UploadFailed) while its job may be reading
// bytes that had arrived: the read says why the upload ended, never that the video ended there.
TEST_F(UploadSpoolTest, AReadOfAnUploadRemovedUnderItSaysWhy) {
  std::shared_ptr<UploadSpool> spool = Spool(4096, /*complete=*/false);
  ASSERT_NE(spool, nullptr);
  std::unique_ptr<ByteSource> reader = spool->Reader(nullptr);
  char buffer[1024];
  auto first = reader->ReadAt(0, buffer, sizeof(buffer));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first, sizeof(buffer));

  spool->Abandon(absl::CancelledError("the client went away during the upload"));
  spool->Remove();
  auto after = reader->ReadAt(1024, buffer, sizeof(buffer));
  ASSERT_FALSE(after.ok()) << "read " << *after << " bytes of a removed upload";
  EXPECT_EQ(after.status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(after.status().message(), "the client went away during the upload");
}

// Removed without an abandonment (the job was deleted): a data-loss error, not the end.
TEST_F(UploadSpoolTest, AReadOfAnUploadRemovedWithoutAReasonIsDataLoss) {
  std::shared_ptr<UploadSpool> spool = Spool(4096, /*complete=*/true);
  ASSERT_NE(spool, nullptr);
  std::unique_ptr<ByteSource> reader = spool->Reader(nullptr);
  spool->Remove();
  char buffer[1024];
  auto after = reader->ReadAt(0, buffer, sizeof(buffer));
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.status().code(), absl::StatusCode::kDataLoss);
}

// The end of a complete upload is still the end.
TEST_F(UploadSpoolTest, TheEndOfACompleteUploadReadsAsTheEnd) {
  std::shared_ptr<UploadSpool> spool = Spool(100, /*complete=*/true);
  ASSERT_NE(spool, nullptr);
  std::unique_ptr<ByteSource> reader = spool->Reader(nullptr);
  char buffer[1024];
  auto all = reader->ReadAt(0, buffer, sizeof(buffer));
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, 100u);
  auto end = reader->ReadAt(100, buffer, sizeof(buffer));
  ASSERT_TRUE(end.ok());
  EXPECT_EQ(*end, 0u);
}

}  // namespace
}  // namespace depthd::server
