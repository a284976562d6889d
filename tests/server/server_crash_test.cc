// The crash loop: rounds of jobs (acknowledged uploads, uploads in progress, fetches) with depthd
// killed by SIGKILL at a random moment, then restarted on the same folders. Every acknowledged
// job must end SUCCEEDED with depth identical to an uninterrupted run, an unacknowledged upload
// must end with a clear error (or, if the server had made it durable just before dying, run),
// no file may be left that no job owns, and the database must pass PRAGMA integrity_check.
// DEPTHD_CRASH_SEED and DEPTHD_CRASH_ROUNDS replay a failure.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/server/e2e_support.h"

namespace depthd {
namespace {

namespace fs = std::filesystem;

int EnvInt(const char* name, int fallback) {
  const char* value = std::getenv(name);
  return value != nullptr ? std::atoi(value) : fallback;
}

// The frames' bytes of a finished job.
std::vector<std::string> FrameBytes(const testing::EstimateResult& result) {
  std::vector<std::string> bytes;
  for (const auto& frame : result.frames()) bytes.push_back(frame.data());
  return bytes;
}

TEST(CrashTest, KillNineLosesNothingAcknowledged) {
  const int rounds = EnvInt("DEPTHD_CRASH_ROUNDS", 20);
  const unsigned seed = static_cast<unsigned>(EnvInt("DEPTHD_CRASH_SEED", static_cast<int>(std::random_device{}() % 100000)));
  std::cerr << "crash loop: DEPTHD_CRASH_SEED=" << seed << " DEPTHD_CRASH_ROUNDS=" << rounds << std::endl;
  std::mt19937 random(seed);
  const std::string dir = testing::TempDir("crash");
  const std::string model = testing::WriteFixtureModel(dir, 120);
  const std::string video = testing::ReadFile(testing::WriteTestVideo(dir, 24, 64, 48));
  const v1::JobSpec spec = testing::SmallJobSpec();
  std::vector<std::string> args = {"--model", model, "--queue_size", "64"};

  std::unique_ptr<testing::DepthdProcess> server = std::make_unique<testing::DepthdProcess>(args);
  ASSERT_TRUE(server->WaitServing()) << server->log();
  const auto reference = testing::Estimate(*server->Stub(), spec, video);
  ASSERT_TRUE(reference.status.ok()) << reference.status.error_message();
  const std::vector<std::string> expected = FrameBytes(reference);
  ASSERT_EQ(expected.size(), 24u);

  std::set<std::string> acknowledged, unacknowledged;
  for (int round = 0; round < rounds; ++round) {
    const int kill_ms = std::uniform_int_distribution<int>(0, 1200)(random);
    std::mutex mu;
    std::vector<std::thread> clients;
    for (int i = 0; i < 2; ++i) {  // acknowledged uploads
      clients.emplace_back([&] {
        const absl::StatusOr<v1::JobStatus> job = testing::Submit(*server->Stub(), spec, video);
        if (job.ok()) {
          std::lock_guard<std::mutex> lock(mu);
          acknowledged.insert(job->job_id());
        }
      });
    }
    clients.emplace_back([&] {  // an upload in pieces, killed mid-way or not
      grpc::ClientContext context;
      auto stream = server->Stub()->Estimate(&context);
      v1::EstimateRequest first;
      *first.mutable_spec() = spec;
      stream->Write(first);
      std::thread reader([&] {
        v1::EstimateResponse response;
        std::string id;
        bool complete = false;
        while (stream->Read(&response)) {
          if (response.has_accepted()) id = response.accepted().job_id();
          if (response.has_upload() && response.upload().complete()) complete = true;
        }
        std::lock_guard<std::mutex> lock(mu);
        if (!id.empty()) (complete ? acknowledged : unacknowledged).insert(id);
      });
      for (size_t offset = 0; offset < video.size(); offset += 256) {
        v1::EstimateRequest chunk;
        chunk.mutable_chunk()->set_data(video.substr(offset, 256));
        if (!stream->Write(chunk)) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(60));
      }
      stream->WritesDone();
      reader.join();
      stream->Finish();
    });
    std::string fetching;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!acknowledged.empty()) fetching = *acknowledged.begin();
    }
    if (!fetching.empty()) {
      clients.emplace_back([&, fetching] { testing::Fetch(*server->Stub(), fetching); });  // mid-fetch
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(kill_ms));
    // What the kill interrupts, as the server saw it an instant before.
    std::map<int, int> states;
    for (const v1::JobStatus& job : testing::ListAllJobs(*server->Stub())) ++states[job.state()];
    std::cerr << "round " << round << ": kill -9 after " << kill_ms << " ms: uploading "
              << states[v1::JOB_STATE_UPLOADING] << ", queued " << states[v1::JOB_STATE_QUEUED]
              << ", running " << states[v1::JOB_STATE_RUNNING] << ", succeeded "
              << states[v1::JOB_STATE_SUCCEEDED] << (fetching.empty() ? "" : ", a fetch in flight")
              << std::endl;
    server->Stop(SIGKILL);
    for (auto& client : clients) client.join();
    server = std::make_unique<testing::DepthdProcess>(args, server.get());
    ASSERT_TRUE(server->WaitServing()) << server->log();
  }

  // Every acknowledged job ends, identical to the uninterrupted run.
  auto stub = server->Stub();
  for (const std::string& id : acknowledged) {
    const v1::JobStatus job = testing::WaitForEnd(*stub, id);
    ASSERT_EQ(job.state(), v1::JOB_STATE_SUCCEEDED) << id << ": " << job.error();
    const auto fetched = testing::Fetch(*stub, id);
    ASSERT_TRUE(fetched.status.ok()) << id << ": " << fetched.status.error_message();
    EXPECT_EQ(FrameBytes(fetched), expected) << id;
  }
  // An unacknowledged upload ends with a clear error, unless it had become durable.
  for (const std::string& id : unacknowledged) {
    if (acknowledged.count(id)) continue;
    const v1::JobStatus job = testing::WaitForEnd(*stub, id);
    if (job.state() == v1::JOB_STATE_SUCCEEDED) {
      EXPECT_EQ(FrameBytes(testing::Fetch(*stub, id)), expected) << id;
    } else {
      EXPECT_NE(job.state(), v1::JOB_STATE_UNSPECIFIED) << id;
      EXPECT_FALSE(job.error().empty()) << id;
    }
  }
  // No file that no job owns: uploads only for jobs still waiting (none now), results only for
  // jobs with a complete result.
  std::set<std::string> with_result;
  const std::vector<v1::JobStatus> all_jobs = testing::ListAllJobs(*stub);
  ASSERT_FALSE(all_jobs.empty());
  for (const v1::JobStatus& job : all_jobs) {
    if (job.result() == v1::RESULT_STATE_COMPLETE) with_result.insert(job.job_id());
  }
  EXPECT_TRUE(fs::is_empty(server->spool_dir())) << "upload files left over";
  for (const auto& entry : fs::directory_iterator(server->state_dir() + "/results")) {
    EXPECT_TRUE(with_result.count(entry.path().filename().string())) << entry.path();
  }
  const std::string check = "sqlite3 " + server->state_dir() + "/jobs.db 'PRAGMA integrity_check' > " +
                            dir + "/integrity.txt";
  ASSERT_EQ(std::system(check.c_str()), 0);
  EXPECT_EQ(testing::ReadFile(dir + "/integrity.txt"), "ok\n");
  std::cerr << "crash loop: " << rounds << " rounds, " << acknowledged.size() << " acknowledged jobs, "
            << unacknowledged.size() << " uploads in progress at a kill" << std::endl;
  EXPECT_EQ(server->Stop(SIGTERM), 0);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace depthd
