#include "tests/server/e2e_support.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>
#include <torch/script.h>

#include "grpc/health/v1/health.grpc.pb.h"

namespace depthd::testing {

namespace fs = std::filesystem;

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

std::string TempDir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("depthd_e2e_" + name + "_" + std::to_string(getpid()));
  fs::create_directories(dir);
  return dir.string();
}

std::string WriteTestVideo(const std::string& dir, int frames, int width, int height, double fps) {
  const std::string path = dir + "/video_" + std::to_string(frames) + "_" + std::to_string(width) + "_" +
                           std::to_string(static_cast<int>(fps)) + ".mp4";
  cv::VideoWriter writer(path, cv::CAP_FFMPEG, cv::VideoWriter::fourcc('m', 'p', '4', 'v'), fps,
                         cv::Size(width, height));
  for (int f = 0; f < frames; ++f) {
    cv::Mat frame(height, width, CV_8UC3);
    for (int y = 0; y < height; ++y) {
      for (int x = 0; x < width; ++x) {
        frame.at<cv::Vec3b>(y, x) = cv::Vec3b((x * 255) / width, (y * 255) / height, 128);
      }
    }
    cv::circle(frame, cv::Point((f * 3) % width, height / 2), height / 4, cv::Scalar(20, 200, 60), -1);
    writer.write(frame);
  }
  writer.release();
  return path;
}

std::string WriteFixtureModel(const std::string& dir, int spin) {
  torch::jit::Module m("Fixture");
  m.register_attribute("spin", c10::IntType::get(), static_cast<int64_t>(spin));
  m.define(R"(
def forward(self, x: Tensor) -> Tensor:
    y = x.mean(2, keepdim=True) + 2.0
    a = torch.ones([192, 192])
    for i in range(self.spin):
        a = torch.matmul(a, a) * 0.001
    return y + 0.0 * a.sum()
)");
  const std::string path = dir + "/fixture_" + std::to_string(spin) + ".pt";
  m.save(path);
  std::ofstream(dir + "/fixture_" + std::to_string(spin) + ".json")
      << R"({"name": "fixture", "format": "torchscript", "snippet_length": 3, "size_multiple": 1,
             "output": "affine_invariant_depth", "supports_refine": false})";
  return path;
}

DepthdProcess::DepthdProcess(std::vector<std::string> extra_args, const DepthdProcess* reuse)
    : port_(FreePort()), metrics_port_(FreePort()) {
  spool_dir_ = reuse != nullptr ? reuse->spool_dir_ : TempDir("spool_" + std::to_string(port_));
  log_path_ = TempDir("log") + "/depthd_" + std::to_string(port_) + ".log";
  state_dir_ = reuse != nullptr ? reuse->state_dir_ : TempDir("state_" + std::to_string(port_));
  std::vector<std::string> args = {DEPTHD_SERVER_BIN, "--listen", address(), "--metrics_listen",
                                   metrics_address(), "--spool_dir", spool_dir_, "--state_dir",
                                   state_dir_, "--threads", "1"};
  // --listen_override ADDR replaces the loopback address (the process is still reached at
  // address(), so ADDR must include its port: tests pass 0.0.0.0:<port>).
  for (size_t i = 0; i + 1 < extra_args.size(); ++i) {
    if (extra_args[i] == "--listen_override") {
      args[2] = extra_args[i + 1];
      port_ = std::stoi(extra_args[i + 1].substr(extra_args[i + 1].rfind(':') + 1));
      extra_args.erase(extra_args.begin() + i, extra_args.begin() + i + 2);
      break;
    }
  }
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  pid_ = fork();
  if (pid_ == 0) {
    const int fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 2);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
}

DepthdProcess::~DepthdProcess() {
  if (pid_ > 0 && running()) Stop(SIGKILL);
}

bool DepthdProcess::running() {
  if (pid_ <= 0) return false;
  int status;
  return waitpid(pid_, &status, WNOHANG) == 0;
}

bool DepthdProcess::WaitServing(int timeout_seconds, const std::string& tls_ca,
                                 const std::string& client_cert, const std::string& client_key) {
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (!tls_ca.empty()) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = tls_ca;
    ssl.pem_cert_chain = client_cert;
    ssl.pem_private_key = client_key;
    credentials = grpc::SslCredentials(ssl);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (!running()) return false;
    // A new channel each time: one that met a refused connection waits out its reconnect
    // backoff (seconds) even after depthd is up.
    auto health = grpc::health::v1::Health::NewStub(grpc::CreateChannel(address(), credentials));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
    grpc::health::v1::HealthCheckResponse response;
    if (health->Check(&context, {}, &response).ok() &&
        response.status() == grpc::health::v1::HealthCheckResponse::SERVING) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

int DepthdProcess::Stop(int signal_number) {
  if (pid_ <= 0) return -1;
  kill(pid_, signal_number);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string DepthdProcess::log() const { return ReadFile(log_path_); }

std::unique_ptr<v1::DepthService::Stub> DepthdProcess::Stub() const {
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(256 << 20);
  return v1::DepthService::NewStub(
      grpc::CreateCustomChannel(address(), grpc::InsecureChannelCredentials(), arguments));
}

std::vector<v1::DepthFrame> EstimateResult::frames() const {
  std::vector<v1::DepthFrame> out;
  for (const auto& r : responses) {
    if (r.has_frame()) out.push_back(r.frame());
  }
  return out;
}

const v1::Summary* EstimateResult::summary() const {
  for (const auto& r : responses) {
    if (r.has_summary()) return &r.summary();
  }
  return nullptr;
}

std::string EstimateResult::job_id() const {
  for (const auto& r : responses) {
    if (r.has_accepted()) return r.accepted().job_id();
  }
  return "";
}

v1::JobSpec SmallJobSpec() {
  v1::JobSpec spec;
  spec.set_processing_res(64);
  return spec;
}

EstimateResult Estimate(v1::DepthService::Stub& stub, const v1::JobSpec& spec,
                        const std::string& video_bytes, double deadline_seconds) {
  grpc::ClientContext context;
  if (deadline_seconds > 0) {
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::milliseconds(static_cast<int64_t>(deadline_seconds * 1000)));
  }
  auto stream = stub.Estimate(&context);
  v1::EstimateRequest request;
  *request.mutable_spec() = spec;
  stream->Write(request);
  for (size_t offset = 0; offset < video_bytes.size(); offset += 1 << 20) {
    v1::EstimateRequest chunk;
    chunk.mutable_chunk()->set_data(video_bytes.substr(offset, 1 << 20));
    if (!stream->Write(chunk)) break;
  }
  stream->WritesDone();
  EstimateResult result;
  v1::EstimateResponse response;
  while (stream->Read(&response)) result.responses.push_back(response);
  result.status = stream->Finish();
  return result;
}

v1::JobStatus WaitForEnd(v1::DepthService::Stub& stub, const std::string& job_id) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(300));
  v1::WatchJobRequest request;
  request.set_job_id(job_id);
  auto reader = stub.WatchJob(&context, request);
  v1::JobStatus status, last;
  while (reader->Read(&status)) last = status;
  reader->Finish();
  return last;
}

absl::StatusOr<v1::JobStatus> Submit(v1::DepthService::Stub& stub, const v1::JobSpec& spec,
                                     const std::string& video_bytes) {
  grpc::ClientContext context;
  v1::JobStatus job;
  auto stream = stub.SubmitJob(&context, &job);
  v1::EstimateRequest first;
  *first.mutable_spec() = spec;
  stream->Write(first);
  v1::EstimateRequest chunk;
  chunk.mutable_chunk()->set_data(video_bytes);
  stream->Write(chunk);
  stream->WritesDone();
  const grpc::Status status = stream->Finish();
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  }
  return job;
}

std::vector<v1::JobStatus> ListAllJobs(v1::DepthService::Stub& stub) {
  std::vector<v1::JobStatus> all;
  std::string token;
  do {
    grpc::ClientContext context;
    v1::ListJobsRequest request;
    request.set_page_size(1000);
    request.set_page_token(token);
    v1::ListJobsResponse jobs;
    if (!stub.ListJobs(&context, request, &jobs).ok()) break;
    all.insert(all.end(), jobs.jobs().begin(), jobs.jobs().end());
    token = jobs.next_page_token();
  } while (!token.empty());
  return all;
}

EstimateResult Fetch(v1::DepthService::Stub& stub, const std::string& job_id, int from_frame) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(300));
  v1::FetchResultRequest request;
  request.set_job_id(job_id);
  request.set_from_frame(from_frame);
  auto reader = stub.FetchResult(&context, request);
  EstimateResult result;
  v1::EstimateResponse response;
  while (reader->Read(&response)) result.responses.push_back(response);
  result.status = reader->Finish();
  return result;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string HttpGet(const std::string& host_port, const std::string& path) {
  const size_t colon = host_port.rfind(':');
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(std::stoi(host_port.substr(colon + 1)));
  inet_pton(AF_INET, host_port.substr(0, colon).c_str(), &addr.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return "";
  }
  const std::string request = "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  send(fd, request.data(), request.size(), 0);
  std::string response;
  char buffer[4096];
  ssize_t n;
  while ((n = recv(fd, buffer, sizeof(buffer), 0)) > 0) response.append(buffer, n);
  close(fd);
  const size_t body = response.find("\r\n\r\n");
  return body == std::string::npos ? "" : response.substr(body + 4);
}

}  // namespace depthd::testing
