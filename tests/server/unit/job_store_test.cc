// The job store and its state machine: every change goes through one place, is persisted
// before it is acknowledged, and a damaged database is refused with what to do.
#include "server/sqlite_job_store.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server/job_state.h"

namespace depthd::server {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

class JobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("job_store_test_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "jobs.db").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  static JobRecord Record(const std::string& id, const std::string& tenant = "t") {
    JobRecord r;
    r.id = id;
    r.tenant = tenant;
    r.spec.set_processing_res(128);
    return r;
  }
  fs::path dir_;
  std::string path_;
};

TEST(JobStateTest, TransitionsFollowTheStateMachine) {
  EXPECT_TRUE(CanMove(v1::JOB_STATE_UPLOADING, v1::JOB_STATE_QUEUED));
  EXPECT_TRUE(CanMove(v1::JOB_STATE_UPLOADING, v1::JOB_STATE_CANCELLED));
  EXPECT_TRUE(CanMove(v1::JOB_STATE_QUEUED, v1::JOB_STATE_RUNNING));
  EXPECT_TRUE(CanMove(v1::JOB_STATE_RUNNING, v1::JOB_STATE_QUEUED));  // re-queued at shutdown
  EXPECT_FALSE(CanMove(v1::JOB_STATE_QUEUED, v1::JOB_STATE_SUCCEEDED));
  EXPECT_FALSE(CanMove(v1::JOB_STATE_UPLOADING, v1::JOB_STATE_SUCCEEDED));
  for (v1::JobState final : {v1::JOB_STATE_SUCCEEDED, v1::JOB_STATE_FAILED, v1::JOB_STATE_CANCELLED}) {
    EXPECT_TRUE(IsFinal(final));
    EXPECT_FALSE(CanMove(final, v1::JOB_STATE_RUNNING));
    EXPECT_FALSE(CanMove(final, v1::JOB_STATE_QUEUED));
  }
}

TEST(JobStateTest, OutcomesSayWhoseFaultItWas) {
  EXPECT_EQ(Outcome(absl::OkStatus()), "succeeded");
  EXPECT_EQ(Outcome(absl::InvalidArgumentError("bad video")), "invalid");
  EXPECT_EQ(Outcome(absl::InternalError("model failed")), "failed");
  EXPECT_EQ(Outcome(absl::CancelledError("client")), "cancelled");
  EXPECT_EQ(Outcome(absl::DeadlineExceededError("idle")), "cancelled");
  EXPECT_EQ(Outcome(absl::ResourceExhaustedError("queue full")), "rejected");
  EXPECT_EQ(Outcome(absl::UnavailableError("draining")), "rejected");
  EXPECT_EQ(Outcome(absl::UnauthenticatedError("no token")), "rejected");
  EXPECT_EQ(FinalState(absl::CancelledError("x")), v1::JOB_STATE_CANCELLED);
  EXPECT_EQ(FinalState(absl::DeadlineExceededError("x")), v1::JOB_STATE_CANCELLED);
  EXPECT_EQ(FinalState(absl::UnavailableError("x")), v1::JOB_STATE_FAILED);
  EXPECT_EQ(FinalState(absl::OkStatus()), v1::JOB_STATE_SUCCEEDED);
}

TEST_F(JobStoreTest, ALifeFromUploadToSuccessIsPersisted) {
  {
    auto store = SqliteJobStore::Open(path_);
    ASSERT_TRUE(store.ok()) << store.status();
    std::vector<std::pair<v1::JobState, v1::JobState>> changes;
    (*store)->AddListener([&](const JobRecord& now, v1::JobState before) {
      if (now.state != before) changes.emplace_back(before, now.state);
    });
    auto created = (*store)->Create(Record("a"));
    ASSERT_TRUE(created.ok());
    EXPECT_EQ(created->state, v1::JOB_STATE_UPLOADING);
    EXPECT_EQ(created->seq, 1);
    ASSERT_TRUE((*store)->RecordUpload("a", 100, 0).ok());
    ASSERT_TRUE((*store)->CompleteUpload("a", 200, 0).ok());
    ASSERT_TRUE((*store)->Start("a").ok());
    (*store)->Progress("a", v1::STAGE_INFERENCE, 3, 10, 0);
    EXPECT_EQ((*store)->Get("a")->done, 3);
    ASSERT_TRUE((*store)->SetResult("a", v1::RESULT_STATE_COMPLETE, 4096).ok());
    ASSERT_TRUE((*store)->Finish("a", absl::OkStatus()).ok());
    // A second end does not rewrite the first (a cancel racing the last frame).
    ASSERT_TRUE((*store)->Finish("a", absl::CancelledError("late")).ok());
    EXPECT_EQ((*store)->Get("a")->state, v1::JOB_STATE_SUCCEEDED);
    EXPECT_EQ(changes.size(), 4u);  // created, queued, running, succeeded
    EXPECT_EQ((*store)->IntegrityCheck(), "ok");
  }
  auto reopened = SqliteJobStore::Open(path_);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  const std::optional<JobRecord> a = (*reopened)->Get("a");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->state, v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(a->upload_bytes, 200);
  EXPECT_TRUE(a->upload_complete);
  EXPECT_EQ(a->result, v1::RESULT_STATE_COMPLETE);
  EXPECT_EQ(a->result_bytes, 4096);
  EXPECT_EQ(a->attempts, 1);
  EXPECT_EQ(a->spec.processing_res(), 128);
  EXPECT_NE(a->finished, absl::Time());
  auto next = (*reopened)->Create(Record("b"));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->seq, 2);  // admission order survives a restart
}

TEST_F(JobStoreTest, ChangesTheStateMachineForbidsAreRefused) {
  auto store = SqliteJobStore::Open(path_);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Create(Record("a")).ok());
  EXPECT_EQ((*store)->Start("a").code(), absl::StatusCode::kOk);  // streaming while uploading
  ASSERT_TRUE((*store)->Finish("a", absl::CancelledError("by CancelJob")).ok());
  const absl::Status again = (*store)->Start("a");
  EXPECT_EQ(again.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(again.message(), HasSubstr("CANCELLED"));
  EXPECT_EQ((*store)->Get("a")->error, "by CancelJob");
  EXPECT_EQ((*store)->Start("nope").code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE((*store)->Create(Record("q")).ok());
  ASSERT_TRUE((*store)->CompleteUpload("q", 1, 0).ok());
  ASSERT_TRUE((*store)->Start("q").ok());
  ASSERT_TRUE((*store)->Requeue("q").ok());
  EXPECT_EQ((*store)->Get("q")->state, v1::JOB_STATE_QUEUED);
  ASSERT_TRUE((*store)->Start("q").ok());
  EXPECT_EQ((*store)->Get("q")->attempts, 2);
}

TEST_F(JobStoreTest, TenantsSeeTheirOwnJobsNewestFirst) {
  auto store = SqliteJobStore::Open(path_);
  ASSERT_TRUE(store.ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE((*store)->Create(Record("a" + std::to_string(i), "alice")).ok());
  ASSERT_TRUE((*store)->Create(Record("b0", "bob")).ok());
  const auto page = (*store)->List("alice", 0, 3);
  ASSERT_EQ(page.size(), 3u);
  EXPECT_EQ(page[0].id, "a4");
  EXPECT_EQ(page[2].id, "a2");
  const auto rest = (*store)->List("alice", page.back().seq, 3);
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest[1].id, "a0");
  EXPECT_EQ((*store)->List("bob", 0, 10).size(), 1u);
  ASSERT_TRUE((*store)->Delete("a4").ok());
  EXPECT_FALSE((*store)->Get("a4").has_value());
}

TEST_F(JobStoreTest, ADamagedDatabaseIsRefusedWithWhatToDo) {
  {
    auto store = SqliteJobStore::Open(path_);
    ASSERT_TRUE(store.ok());
    for (int i = 0; i < 50; ++i) ASSERT_TRUE((*store)->Create(Record("j" + std::to_string(i))).ok());
  }
  fs::remove(path_ + "-wal");
  fs::remove(path_ + "-shm");
  {
    std::fstream file(path_, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(0);
    file << std::string(100, 'x');  // the header, and the first page's start
  }
  auto damaged = SqliteJobStore::Open(path_);
  ASSERT_FALSE(damaged.ok());
  EXPECT_EQ(damaged.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(damaged.status().message(), HasSubstr("damaged"));
  EXPECT_THAT(damaged.status().message(), HasSubstr("move the file"));
}

}  // namespace
}  // namespace depthd::server
