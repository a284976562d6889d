// Support for end-to-end tests: the real depthd binary on loopback, test videos, fixture
// models, and a synchronous Estimate call.
#ifndef DEPTHD_TESTS_SERVER_E2E_SUPPORT_H_
#define DEPTHD_TESTS_SERVER_E2E_SUPPORT_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"

#include "depthd/v1/depthd.grpc.pb.h"

namespace depthd::testing {

int FreePort();
std::string TempDir(const std::string& name);

// Writes a small MP4 (MPEG-4) with moving content; returns its path.
std::string WriteTestVideo(const std::string& dir, int frames, int width, int height, double fps = 24.0);

// A TorchScript model with sidecar whose depth is the mean of RGB. `spin` adds busy work per
// call (matrix products) so that queue and cancellation tests have time to act.
std::string WriteFixtureModel(const std::string& dir, int spin = 0);

class DepthdProcess {
 public:
  // A new depthd with fresh folders, or on the folders of an earlier one (a restart).
  explicit DepthdProcess(std::vector<std::string> extra_args = {}, const DepthdProcess* reuse = nullptr);
  ~DepthdProcess();

  // Waits until health reports SERVING (or the process dies); false on timeout. With `tls_ca`
  // the check goes over TLS (with a client certificate when given).
  bool WaitServing(int timeout_seconds = 60, const std::string& tls_ca = "",
                   const std::string& client_cert = "", const std::string& client_key = "");
  // Sends `signal`, waits for exit and returns the exit status (or -1).
  int Stop(int signal_number);
  bool running();
  pid_t pid() const { return pid_; }

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string metrics_address() const { return "127.0.0.1:" + std::to_string(metrics_port_); }
  std::string spool_dir() const { return spool_dir_; }
  std::string state_dir() const { return state_dir_; }
  std::string log() const;
  std::unique_ptr<v1::DepthService::Stub> Stub() const;

 private:
  pid_t pid_ = -1;
  int port_, metrics_port_;
  std::string spool_dir_, state_dir_, log_path_;
};

struct EstimateResult {
  grpc::Status status;
  std::vector<v1::EstimateResponse> responses;
  std::vector<v1::DepthFrame> frames() const;
  const v1::Summary* summary() const;
  std::string job_id() const;
};

// The job's status once it has ended (WatchJob: no polling).
v1::JobStatus WaitForEnd(v1::DepthService::Stub& stub, const std::string& job_id);
// SubmitJob with the spec and the video in one chunk: the acknowledged job (its status), or the
// call's error.
absl::StatusOr<v1::JobStatus> Submit(v1::DepthService::Stub& stub, const v1::JobSpec& spec,
                                     const std::string& video_bytes);
// Every job of the caller's tenant (ListJobs, all pages).
std::vector<v1::JobStatus> ListAllJobs(v1::DepthService::Stub& stub);
// FetchResult from `from_frame`.
EstimateResult Fetch(v1::DepthService::Stub& stub, const std::string& job_id, int from_frame = 0);

// A job spec at 64 px: the fixture model finishes such jobs in well under a second.
v1::JobSpec SmallJobSpec();

// Sends the spec, then `video_bytes` in 1 MiB chunks (unless empty), then half-closes.
EstimateResult Estimate(v1::DepthService::Stub& stub, const v1::JobSpec& spec,
                        const std::string& video_bytes, double deadline_seconds = 0);
std::string ReadFile(const std::string& path);
std::string HttpGet(const std::string& host_port, const std::string& path);

}  // namespace depthd::testing

#endif  // DEPTHD_TESTS_SERVER_E2E_SUPPORT_H_
