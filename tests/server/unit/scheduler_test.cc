// The scheduler with a real runner and a stand-in model: admission order, the bounded queue,
// cancellation, shutdown that re-queues, and recovery after a restart. Jobs are followed through
// the store's notifications: no sleeps.
#include "server/scheduler.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include "absl/synchronization/mutex.h"
#include "server/auth.h"
#include "server/job_state.h"
#include "server/sqlite_job_store.h"
#include "tests/testing/fixture_model.h"

namespace depthd::server {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

// The fixture network, whose snippet calls wait while the gate is closed.
class GatedModel : public testing::FixtureModel {
 public:
  absl::StatusOr<std::unique_ptr<ModelVideo>> NewVideo(int height, int width,
                                                       int64_t seed) override {
    auto inner = FixtureModel::NewVideo(height, width, seed);
    if (!inner.ok()) return inner.status();
    return std::unique_ptr<ModelVideo>(new Video(this, *std::move(inner)));
  }
  void Close() {
    absl::MutexLock lock(&mu_);
    open_ = false;
  }
  void Open() {
    absl::MutexLock lock(&mu_);
    open_ = true;
  }
  // Blocks until a snippet call is waiting at the closed gate.
  void WaitForCaller() {
    absl::MutexLock lock(&mu_);
    auto waiting = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return waiting_ > 0; };
    mu_.Await(absl::Condition(&waiting));
  }

 private:
  class Video : public ModelVideo {
   public:
    Video(GatedModel* model, std::unique_ptr<ModelVideo> inner)
        : model_(model), inner_(std::move(inner)) {}
    absl::Status AddFrames(const torch::Tensor& rgb, int first) override {
      return inner_->AddFrames(rgb, first);
    }
    void ReleaseFramesBefore(int frame) override { inner_->ReleaseFramesBefore(frame); }
    absl::StatusOr<torch::Tensor> PredictSnippets(const std::vector<std::vector<int>>& s) override {
      {
        absl::MutexLock lock(&model_->mu_);
        ++model_->waiting_;
        auto open = [this]() ABSL_SHARED_LOCKS_REQUIRED(model_->mu_) { return model_->open_; };
        model_->mu_.Await(absl::Condition(&open));
        --model_->waiting_;
      }
      return inner_->PredictSnippets(s);
    }

   private:
    GatedModel* model_;
    std::unique_ptr<ModelVideo> inner_;
  };
  absl::Mutex mu_;
  bool open_ ABSL_GUARDED_BY(mu_) = true;
  int waiting_ ABSL_GUARDED_BY(mu_) = 0;
};

class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("scheduler_test_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "uploads");
    fs::create_directories(dir_ / "results");
    model_ = std::make_shared<GatedModel>();
    Start();
    std::vector<uchar> png;
    cv::imencode(".png", cv::Mat(24, 32, CV_8UC3, cv::Scalar(10, 120, 200)), png);
    png_ = std::string(png.begin(), png.end());
  }
  void TearDown() override {
    model_->Open();
    Stop();
    fs::remove_all(dir_);
  }

  void Start(int max_active = 1, int queue_size = 2) {
    auto store = SqliteJobStore::Open((dir_ / "jobs.db").string());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    store_->AddListener([this](const JobRecord& now, v1::JobState before) {
      absl::MutexLock lock(&mu_);
      if (now.state == v1::JOB_STATE_RUNNING && before != v1::JOB_STATE_RUNNING)
        started_.push_back(now.id);
    });
    metrics_ = std::make_unique<Metrics>("fixture", "cpu", "fp32");
    results_ = std::make_unique<ResultCatalog>((dir_ / "results").string(), store_.get(),
                                               metrics_.get(), absl::Hours(1), 1LL << 30);
    budget_ = std::make_unique<MemoryBudget>(1LL << 30);
    ModelInfo info;
    info.contract = model_->contract();
    runner_ =
        std::make_unique<JobRunner>(model_, info, store_.get(), metrics_.get(),
                                    RunnerOptions{(dir_ / "uploads").string(), absl::Seconds(5)});
    SchedulerOptions options;
    options.queue_size = queue_size;
    options.max_active_jobs = max_active;
    options.uploads_dir = (dir_ / "uploads").string();
    options.resolve = [&](const v1::JobSpec& spec) { return Resolve(spec); };
    scheduler_ = std::make_unique<Scheduler>(options, store_.get(), results_.get(), runner_.get(),
                                             budget_.get(), metrics_.get());
  }
  void Stop() {
    scheduler_.reset();
    runner_.reset();
    results_.reset();
    store_.reset();
  }
  absl::StatusOr<ResolvedJob> Resolve(const v1::JobSpec& spec) {
    ModelInfo info;
    info.contract = model_->contract();
    return ResolveJobSpec(spec, info, ServerLimits(), JobDefaults());
  }

  // Admits a job of `frames` PNG frames; the upload completes unless told otherwise.
  std::shared_ptr<ActiveJob> Submit(int frames, bool complete = true) {
    v1::JobSpec spec;
    spec.set_processing_res(32);
    JobRecord record;
    record.id = NewJobId();
    record.tenant = "t";
    record.spec = spec;
    record.frames_upload = true;
    auto resolved = Resolve(spec);
    EXPECT_TRUE(resolved.ok()) << resolved.status();
    auto job = scheduler_->Admit(record, *resolved);
    if (!job.ok()) {
      last_refusal_ = job.status();
      return nullptr;
    }
    for (int i = 0; i < frames; ++i) {
      v1::Frame frame;
      frame.set_encoded(png_);
      EXPECT_TRUE((*job)->upload->AppendFrame(frame).ok());
    }
    if (complete) {
      auto durable = (*job)->upload->Complete();
      EXPECT_TRUE(durable.ok());
      EXPECT_TRUE(scheduler_->UploadCompleted(*job, durable->bytes, durable->frames).ok());
    }
    return *job;
  }

  // The job's record once it has ended.
  JobRecord WaitForEnd(const std::string& id) {
    absl::Mutex mu;
    bool ended = false;
    const int handle = store_->AddListener([&](const JobRecord& now, v1::JobState) {
      if (now.id != id || !IsFinal(now.state)) return;
      absl::MutexLock lock(&mu);
      ended = true;
    });
    {
      absl::MutexLock lock(&mu);
      if (IsFinal(store_->Get(id)->state)) ended = true;
      mu.Await(absl::Condition(&ended));
    }
    store_->RemoveListener(handle);
    return *store_->Get(id);
  }
  std::vector<std::string> started() {
    absl::MutexLock lock(&mu_);
    return started_;
  }

  fs::path dir_;
  std::string png_;
  std::shared_ptr<GatedModel> model_;
  std::unique_ptr<SqliteJobStore> store_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<ResultCatalog> results_;
  std::unique_ptr<MemoryBudget> budget_;
  std::unique_ptr<JobRunner> runner_;
  std::unique_ptr<Scheduler> scheduler_;
  absl::Status last_refusal_;
  absl::Mutex mu_;
  std::vector<std::string> started_ ABSL_GUARDED_BY(mu_);
};

TEST_F(SchedulerTest, JobsRunInAdmissionOrderAndTheQueueIsBounded) {
  model_->Close();
  auto first = Submit(8);
  model_->WaitForCaller();  // the first job holds the one slot
  auto second = Submit(8);
  auto third = Submit(8);
  EXPECT_EQ(Submit(8), nullptr);  // two wait already
  EXPECT_EQ(last_refusal_.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(last_refusal_.message(), HasSubstr("queue is full"));
  EXPECT_EQ(scheduler_->Position(second->id), 0);
  EXPECT_EQ(scheduler_->Position(third->id), 1);
  EXPECT_EQ(scheduler_->Position(first->id), -1);
  model_->Open();
  for (const auto& job : {first, second, third}) {
    const JobRecord end = WaitForEnd(job->id);
    EXPECT_EQ(end.state, v1::JOB_STATE_SUCCEEDED) << end.error;
    EXPECT_EQ(end.result, v1::RESULT_STATE_COMPLETE);
  }
  EXPECT_EQ(started(), (std::vector<std::string>{first->id, second->id, third->id}));
  // The uploads went with their jobs.
  EXPECT_TRUE(fs::is_empty(dir_ / "uploads"));
}

TEST_F(SchedulerTest, CancelledJobsEndCancelledWhereverTheyAre) {
  model_->Close();
  auto running = Submit(8);
  model_->WaitForCaller();
  auto queued = Submit(8);
  auto uploading = Submit(2, /*complete=*/false);
  ASSERT_TRUE(scheduler_->Cancel(queued->id, absl::CancelledError("cancelled by CancelJob")).ok());
  ASSERT_TRUE(
      scheduler_->Cancel(uploading->id, absl::CancelledError("cancelled by CancelJob")).ok());
  // Waiting jobs end at once, before the running one moves.
  EXPECT_EQ(store_->Get(queued->id)->state, v1::JOB_STATE_CANCELLED);
  EXPECT_EQ(store_->Get(uploading->id)->state, v1::JOB_STATE_CANCELLED);
  ASSERT_TRUE(scheduler_->Cancel(running->id, absl::CancelledError("cancelled by CancelJob")).ok());
  model_->Open();
  const JobRecord end = WaitForEnd(running->id);
  EXPECT_EQ(end.state, v1::JOB_STATE_CANCELLED);
  EXPECT_EQ(end.error, "cancelled by CancelJob");
  EXPECT_EQ(end.result, v1::RESULT_STATE_NONE);
  EXPECT_TRUE(fs::is_empty(dir_ / "uploads"));
}

// A job may end while its upload is still arriving: a streamed decode finds the video bad, or
// the client cancels. The upload's completion afterwards is no error and leaves the job's outcome.
TEST_F(SchedulerTest, AnUploadThatCompletesAfterItsJobEndedLeavesTheJobAsItEnded) {
  Stop();
  Start(/*max_active=*/2);  // one slot may go to an upload still arriving
  auto bad = Submit(0, /*complete=*/false);
  v1::Frame garbage;
  garbage.set_encoded("these bytes are not an image");
  ASSERT_TRUE(bad->upload->AppendFrame(garbage).ok());
  ASSERT_TRUE(bad->upload->Sync().ok());
  scheduler_->UploadProgressed(bad);  // nothing else waits: it starts before its upload ends
  const JobRecord failed = WaitForEnd(bad->id);
  ASSERT_EQ(failed.state, v1::JOB_STATE_FAILED);
  EXPECT_EQ(failed.error_code, absl::StatusCode::kInvalidArgument) << failed.error;

  auto cancelled = Submit(2, /*complete=*/false);
  ASSERT_TRUE(
      scheduler_->Cancel(cancelled->id, absl::CancelledError("cancelled by CancelJob")).ok());

  for (const auto& [job, ended] :
       {std::pair{bad, failed}, std::pair{cancelled, *store_->Get(cancelled->id)}}) {
    auto durable = job->upload->Complete();
    ASSERT_TRUE(durable.ok()) << durable.status();
    EXPECT_TRUE(scheduler_->UploadCompleted(job, durable->bytes, durable->frames).ok());
    const JobRecord after = *store_->Get(job->id);
    EXPECT_EQ(after.state, ended.state);
    EXPECT_EQ(after.error, ended.error);
  }
  EXPECT_EQ(store_->Get(cancelled->id)->state, v1::JOB_STATE_CANCELLED);
  EXPECT_EQ(scheduler_->waiting(), 0);
  EXPECT_EQ(scheduler_->running(), 0);
}

TEST_F(SchedulerTest, ShutdownRequeuesAndARestartRunsWhatWasAcknowledged) {
  model_->Close();
  auto running = Submit(8);
  model_->WaitForCaller();
  auto queued = Submit(8);
  auto uploading = Submit(2, /*complete=*/false);
  EXPECT_FALSE(scheduler_->Drain(absl::ZeroDuration()));  // its batch waits at the gate
  EXPECT_EQ(store_->Get(running->id)->state, v1::JOB_STATE_QUEUED);
  EXPECT_EQ(store_->Get(queued->id)->state, v1::JOB_STATE_QUEUED);
  EXPECT_EQ(store_->Get(uploading->id)->state, v1::JOB_STATE_FAILED);
  EXPECT_THAT(store_->Get(uploading->id)->error, HasSubstr("send the video again"));
  model_->Open();
  Stop();

  Start();
  auto recovered = scheduler_->Recover();
  ASSERT_TRUE(recovered.ok()) << recovered.status();
  EXPECT_EQ(*recovered, 2);
  for (const auto& job : {running, queued}) {
    const JobRecord end = WaitForEnd(job->id);
    EXPECT_EQ(end.state, v1::JOB_STATE_SUCCEEDED) << end.error;
    EXPECT_EQ(end.frames_out, 8);
  }
  EXPECT_EQ(store_->Get(running->id)->attempts, 2);
  EXPECT_TRUE(fs::is_empty(dir_ / "uploads"));
}

TEST_F(SchedulerTest, RecoveryRemovesOnlyFilesDepthdNamed) {
  std::ofstream(dir_ / "uploads" / "notes.txt") << "an operator's";
  std::ofstream(dir_ / "uploads" / "0123456789abcdef0123456789abcdef.video") << "orphan";
  fs::create_directories(dir_ / "results" / "fedcba9876543210fedcba9876543210");
  fs::create_directories(dir_ / "results" / "keep-me");
  ASSERT_TRUE(scheduler_->Recover().ok());
  EXPECT_TRUE(fs::exists(dir_ / "uploads" / "notes.txt"));
  EXPECT_FALSE(fs::exists(dir_ / "uploads" / "0123456789abcdef0123456789abcdef.video"));
  EXPECT_FALSE(fs::exists(dir_ / "results" / "fedcba9876543210fedcba9876543210"));
  EXPECT_TRUE(fs::exists(dir_ / "results" / "keep-me"));
}

TEST_F(SchedulerTest, AJobThatCannotFitTheMemoryBudgetIsRefusedAtAdmission) {
  v1::JobSpec spec;
  spec.set_processing_res(4096);
  auto resolved = Resolve(spec);
  ASSERT_TRUE(resolved.ok());
  JobRecord record;
  record.id = NewJobId();
  record.tenant = "t";
  record.spec = spec;
  auto job = scheduler_->Admit(record, *resolved);
  ASSERT_FALSE(job.ok());
  EXPECT_EQ(job.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(job.status().message(), HasSubstr("--max_memory_bytes"));
  EXPECT_FALSE(store_->Get(record.id).has_value());
}

}  // namespace
}  // namespace depthd::server
