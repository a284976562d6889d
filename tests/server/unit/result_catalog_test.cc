// The result catalog's eviction: finished results age out oldest first, and a result whose job
// has not recorded its end yet is never taken from under the reader about to open it.
#include "server/result_catalog.h"

#include <unistd.h>

#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server/sqlite_job_store.h"

namespace depthd::server {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

class ResultCatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("result_catalog_test_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto store = SqliteJobStore::Open((dir_ / "jobs.db").string());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  // A job that ran and wrote a complete result of `bytes`; its end is not recorded yet.
  JobRecord Completed(ResultCatalog& catalog, const std::string& id, int64_t bytes) {
    JobRecord record;
    record.id = id;
    record.tenant = "t";
    record.spec.set_processing_res(128);
    EXPECT_TRUE(store_->Create(record).ok());
    EXPECT_TRUE(store_->CompleteUpload(id, 1, 0).ok());
    EXPECT_TRUE(store_->Start(id).ok());
    auto result = catalog.Create(*store_->Get(id), 0);
    EXPECT_TRUE(result.ok()) << result.status();
    EXPECT_TRUE((*result)->Finish(v1::Summary()).ok());
    EXPECT_TRUE(store_->SetResult(id, v1::RESULT_STATE_COMPLETE, bytes).ok());
    return *store_->Get(id);
  }

  fs::path dir_;
  std::unique_ptr<JobStore> store_;
};

TEST_F(ResultCatalogTest, AResultIsNotEvictedBeforeItsJobHasEnded) {
  ResultCatalog catalog((dir_ / "results").string(), store_.get(), nullptr, absl::Hours(1), 0);
  Completed(catalog, std::string(32, 'a'), 100);

  // Another job ending runs eviction now: over the byte limit, but this job is still running.
  catalog.Evict();
  EXPECT_EQ(store_->Get(std::string(32, 'a'))->result, v1::RESULT_STATE_COMPLETE);
  EXPECT_TRUE(catalog.Find(*store_->Get(std::string(32, 'a'))).ok());

  ASSERT_TRUE(store_->Finish(std::string(32, 'a'), absl::OkStatus()).ok());
  catalog.Evict();
  const JobRecord ended = *store_->Get(std::string(32, 'a'));
  EXPECT_EQ(ended.result, v1::RESULT_STATE_EVICTED);
  const auto found = catalog.Find(ended);
  EXPECT_EQ(found.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(found.status().message(), HasSubstr("--results_max_bytes"));
}

TEST_F(ResultCatalogTest, TheOldestFinishedResultsGoFirst) {
  ResultCatalog catalog((dir_ / "results").string(), store_.get(), nullptr, absl::Hours(1), 150);
  const std::string older(32, 'b'), newer(32, 'c');
  Completed(catalog, older, 100);
  ASSERT_TRUE(store_->Finish(older, absl::OkStatus()).ok());
  Completed(catalog, newer, 100);
  ASSERT_TRUE(store_->Finish(newer, absl::OkStatus()).ok());

  catalog.Evict();
  EXPECT_EQ(store_->Get(older)->result, v1::RESULT_STATE_EVICTED);
  EXPECT_FALSE(fs::exists(dir_ / "results" / older));
  EXPECT_EQ(store_->Get(newer)->result, v1::RESULT_STATE_COMPLETE);
  EXPECT_EQ(catalog.bytes(), 100);
}

}  // namespace
}  // namespace depthd::server
