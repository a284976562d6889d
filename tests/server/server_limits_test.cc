// No client can hold the server, and bad input costs what was admitted: an upload that goes
// quiet, one that breaks (and is resumed or abandoned), a reader that stops reading, a scraper
// that trickles bytes, frames that decompress to far more than they weigh, a job over the memory
// budget, and a model that throws. Times come from the server's own clock (job records).
#include <arpa/inet.h>
#include <signal.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <torch/script.h>

#include "tests/server/e2e_support.h"

namespace depthd {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

v1::EstimateRequest SpecMessage(const v1::JobSpec& spec) {
  v1::EstimateRequest request;
  *request.mutable_spec() = spec;
  return request;
}

v1::EstimateRequest ChunkMessage(const std::string& bytes) {
  v1::EstimateRequest request;
  request.mutable_chunk()->set_data(bytes);
  return request;
}

v1::JobStatus GetJob(v1::DepthService::Stub& stub, const std::string& id) {
  grpc::ClientContext context;
  v1::GetJobRequest request;
  request.set_job_id(id);
  v1::JobStatus status;
  EXPECT_TRUE(stub.GetJob(&context, request, &status).ok());
  return status;
}

int64_t ProcessKb(pid_t pid, const char* field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0) return std::stoll(line.substr(std::string(field).size()));
  }
  return -1;
}

class LimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TempDir("limits");
    model_ = testing::WriteFixtureModel(dir_, 0);
    video_ = testing::ReadFile(testing::WriteTestVideo(dir_, 30, 64, 48));
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_, model_, video_;
};

TEST_F(LimitsTest, AnUploadThatGoesQuietEnds) {
  testing::DepthdProcess server({"--model", model_, "--upload_idle_timeout", "1s"});
  ASSERT_TRUE(server.WaitServing()) << server.log();
  auto stub = server.Stub();
  grpc::ClientContext context;
  auto stream = stub->Estimate(&context);
  ASSERT_TRUE(stream->Write(SpecMessage(testing::SmallJobSpec())));
  ASSERT_TRUE(stream->Write(ChunkMessage(video_.substr(0, 1000))));
  // ... and nothing more: no half-close either.
  v1::EstimateResponse response;
  std::string id;
  while (stream->Read(&response)) {
    if (response.has_accepted()) id = response.accepted().job_id();
  }
  const grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("--upload_idle_timeout"));
  const v1::JobStatus job = GetJob(*stub, id);
  EXPECT_EQ(job.state(), v1::JOB_STATE_CANCELLED);
  const double waited = (job.finished_unix_ms() - job.created_unix_ms()) / 1000.0;
  EXPECT_GE(waited, 1.0);
  EXPECT_LT(waited, 3.0);
  EXPECT_TRUE(fs::is_empty(server.spool_dir()));
}

TEST_F(LimitsTest, ABrokenUploadResumesFromTheAcknowledgedByteOrEndsCancelled) {
  testing::DepthdProcess server({"--model", model_, "--upload_idle_timeout", "2s"});
  ASSERT_TRUE(server.WaitServing()) << server.log();
  auto stub = server.Stub();
  // Break after half of the video (the client cancels its call, as a dropped network would).
  auto break_half = [&](std::string* id, int64_t* acknowledged) {
    grpc::ClientContext context;
    auto stream = stub->Estimate(&context);
    stream->Write(SpecMessage(testing::SmallJobSpec()));
    stream->Write(ChunkMessage(video_.substr(0, video_.size() / 2)));
    v1::EstimateResponse response;
    while (stream->Read(&response)) {
      if (response.has_accepted()) *id = response.accepted().job_id();
      if (response.has_upload() && response.upload().durable()) {
        *acknowledged = response.upload().bytes();
        break;
      }
    }
    context.TryCancel();
    stream->Finish();
  };
  std::string resumed_id, abandoned_id;
  int64_t acked = 0, unused = 0;
  break_half(&resumed_id, &acked);
  ASSERT_FALSE(resumed_id.empty());
  break_half(&abandoned_id, &unused);

  grpc::ClientContext context;
  auto stream = stub->Estimate(&context);
  v1::EstimateRequest resume;
  resume.mutable_resume()->set_job_id(resumed_id);
  ASSERT_TRUE(stream->Write(resume));
  v1::EstimateResponse response;
  int64_t from = -1;
  while (from < 0 && stream->Read(&response)) {
    if (response.has_upload()) from = response.upload().bytes();
  }
  ASSERT_GE(from, acked);
  ASSERT_TRUE(stream->Write(ChunkMessage(video_.substr(from))));
  stream->WritesDone();
  int frames = 0;
  while (stream->Read(&response)) frames += response.has_frame();
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(frames, 30);
  EXPECT_EQ(GetJob(*stub, resumed_id).state(), v1::JOB_STATE_SUCCEEDED);

  const v1::JobStatus abandoned = testing::WaitForEnd(*stub, abandoned_id);
  EXPECT_EQ(abandoned.state(), v1::JOB_STATE_CANCELLED);
  EXPECT_THAT(abandoned.error(), HasSubstr("did not resume"));
}

// A client that stops reading (here: a depthctl that is stopped with SIGSTOP, so not even its
// socket is read) holds nothing: its job ends and the next job runs, even with one job at a
// time; its stream is cut after --write_stall_timeout, and when it wakes up it re-attaches with
// FetchResult and still gets every frame.
TEST_F(LimitsTest, AReaderThatStopsHoldsNoWorker) {
  testing::DepthdProcess server({"--model", model_, "--max_active_jobs", "1",
                                 "--write_stall_timeout", "1s"});
  ASSERT_TRUE(server.WaitServing()) << server.log();
  const std::string input = testing::WriteTestVideo(dir_, 40, 160, 120);
  const std::string out = dir_ + "/stalled";
  const pid_t client = fork();
  if (client == 0) {
    // 40 frames of 512 x 384 float32: 31 MB, far beyond what sockets and gRPC buffer.
    execl(DEPTHD_CLIENT_BIN, DEPTHD_CLIENT_BIN, "--server", server.address().c_str(), "--quiet",
          "run", input.c_str(), "-o", out.c_str(), "--res", "512", "--rgbd=false",
          "--colorize=false", static_cast<char*>(nullptr));
    _exit(127);
  }
  // Once its job runs, the client stops reading anything.
  std::string id;
  while (id.empty()) {
    grpc::ClientContext context;
    v1::ListJobsResponse jobs;
    ASSERT_TRUE(server.Stub()->ListJobs(&context, {}, &jobs).ok());
    if (jobs.jobs_size() > 0 && jobs.jobs(0).state() == v1::JOB_STATE_RUNNING) id = jobs.jobs(0).job_id();
  }
  kill(client, SIGSTOP);
  const v1::JobStatus stalled_job = testing::WaitForEnd(*server.Stub(), id);
  EXPECT_EQ(stalled_job.state(), v1::JOB_STATE_SUCCEEDED) << stalled_job.error();
  const auto other = testing::Estimate(*server.Stub(), testing::SmallJobSpec(), video_);
  EXPECT_TRUE(other.status.ok()) << other.status.error_message();
  EXPECT_EQ(other.frames().size(), 30u);
  // The stalled stream was cut by the server.
  while (testing::HttpGet(server.metrics_address(), "/metrics")
             .find("depthd_rpcs_total{code=\"UNAVAILABLE\",method=\"Estimate\"} 1") == std::string::npos) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  kill(client, SIGCONT);
  int status = 0;
  waitpid(client, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  std::ifstream npy(out + "/" + fs::path(input).stem().string() + "_pred.npy", std::ios::binary);
  EXPECT_TRUE(npy.good());
  EXPECT_EQ(fs::file_size(out + "/" + fs::path(input).stem().string() + "_pred.npy"),
            128 + 40ull * 512 * 384 * 4);
}

TEST_F(LimitsTest, ATricklingScraperDoesNotBlockOtherScrapes) {
  testing::DepthdProcess server({"--model", model_});
  ASSERT_TRUE(server.WaitServing()) << server.log();
  std::atomic<bool> stop{false};
  std::thread slow([&] {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    const std::string metrics = server.metrics_address();
    addr.sin_port = htons(std::stoi(metrics.substr(metrics.rfind(':') + 1)));
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
      const std::string request = "GET /metrics HTTP/1.1\r\nHost: x\r\n";
      for (size_t i = 0; !stop && i < request.size(); ++i) {
        send(fd, &request[i], 1, MSG_NOSIGNAL);
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
      }
    }
    close(fd);
  });
  for (int i = 0; i < 5; ++i) {
    EXPECT_THAT(testing::HttpGet(server.metrics_address(), "/metrics"), HasSubstr("depthd_build_info"));
  }
  stop = true;
  slow.join();
}

TEST_F(LimitsTest, FramesAreSizedBeforeTheyAreDecodedAndHeldEncoded) {
  std::vector<uchar> png;
  cv::imencode(".png", cv::Mat(4096, 4096, CV_8UC3, cv::Scalar(0, 0, 0)), png);
  const std::string bomb(png.begin(), png.end());
  ASSERT_LT(bomb.size(), 200u << 10);  // a 4096 x 4096 frame in a few tens of KiB
  auto send = [&](testing::DepthdProcess& server, int frames) {
    auto stub = server.Stub();
    grpc::ClientContext context;
    auto stream = stub->Estimate(&context);
    stream->Write(SpecMessage(testing::SmallJobSpec()));
    for (int i = 0; i < frames; ++i) {
      v1::EstimateRequest frame;
      frame.mutable_frame()->set_encoded(bomb);
      if (!stream->Write(frame)) break;
    }
    stream->WritesDone();
    v1::EstimateResponse response;
    while (stream->Read(&response)) {
    }
    return stream->Finish();
  };
  {
    testing::DepthdProcess small({"--model", model_, "--max_pixels", "1048576"});
    ASSERT_TRUE(small.WaitServing()) << small.log();
    const grpc::Status refused = send(small, 10);
    EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
    EXPECT_THAT(refused.error_message(), HasSubstr("--max_pixels"));
  }
  testing::DepthdProcess server({"--model", model_});
  ASSERT_TRUE(server.WaitServing()) << server.log();
  const int64_t before = ProcessKb(server.pid(), "VmRSS:");
  EXPECT_TRUE(send(server, 10).ok());
  const int64_t peak = ProcessKb(server.pid(), "VmHWM:");
  const int64_t after = ProcessKb(server.pid(), "VmRSS:");
  // One frame is decoded at a time (48 MiB of RGB); the others wait encoded on disk.
  EXPECT_LT(peak - before, 300 << 10) << "peak " << peak << " kB, before " << before << " kB";
  EXPECT_LT(after - before, 120 << 10) << "after " << after << " kB, before " << before << " kB";
}

TEST_F(LimitsTest, AJobOverTheMemoryBudgetIsRefusedBeforeItsUpload) {
  testing::DepthdProcess server({"--model", model_, "--max_memory_bytes", "67108864"});
  ASSERT_TRUE(server.WaitServing()) << server.log();
  v1::JobSpec spec;
  spec.set_processing_res(2048);
  const auto result = testing::Estimate(*server.Stub(), spec, video_);
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(result.status.error_message(), HasSubstr("--max_memory_bytes"));
  EXPECT_TRUE(testing::Estimate(*server.Stub(), testing::SmallJobSpec(), video_).status.ok());
}

// A model that throws, or asks for more memory than there is, fails its job with a status that
// says so; the server goes on serving.
TEST_F(LimitsTest, ExceptionsStopAtTheJob) {
  torch::jit::Module m("Failing");
  m.define(R"(
def forward(self, x: Tensor) -> Tensor:
    assert x.size(4) != 64, "the fixture fails on 64-pixel frames"
    if x.size(4) == 96:
        huge = torch.empty([1 << 42])
        return x.mean(2, keepdim=True) + huge[0]
    return x.mean(2, keepdim=True) + 2.0
)");
  const std::string path = dir_ + "/failing.pt";
  m.save(path);
  std::ofstream(dir_ + "/failing.json") << R"({"name": "failing", "format": "torchscript",
      "snippet_length": 3, "size_multiple": 1, "output": "affine_invariant_depth"})";
  testing::DepthdProcess server({"--model", path});
  ASSERT_TRUE(server.WaitServing()) << server.log();
  v1::JobSpec throws;
  throws.set_processing_res(64);
  const auto thrown = testing::Estimate(*server.Stub(), throws, video_);
  EXPECT_EQ(thrown.status.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_THAT(thrown.status.error_message(), HasSubstr("fails on 64-pixel frames"));
  v1::JobSpec hungry;
  hungry.set_processing_res(96);
  const auto exhausted = testing::Estimate(*server.Stub(), hungry, video_);
  EXPECT_EQ(exhausted.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(exhausted.status.error_message(), HasSubstr("memory"));
  v1::JobSpec fine;
  fine.set_processing_res(80);
  EXPECT_TRUE(testing::Estimate(*server.Stub(), fine, video_).status.ok());
  EXPECT_TRUE(server.running());
}

}  // namespace
}  // namespace depthd
