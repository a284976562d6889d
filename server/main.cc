// depthd: the RollingDepth video depth server.
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <thread>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "core/model/device.h"
#include "core/model/model_loader.h"
#include "server/depth_service.h"
#include "server/job_queue.h"
#include "server/job_runner.h"
#include "server/log.h"
#include "server/metrics.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051", "gRPC address (host:port); 0.0.0.0 to serve remote clients");
ABSL_FLAG(std::string, metrics_listen, "127.0.0.1:9464", "Prometheus /metrics address; empty disables");
ABSL_FLAG(std::string, model, "",
          "TorchScript model (.pt with its .json), or a RollingDepth checkpoint folder in diffusers "
          "layout (e.g. rollingdepth-v1-0/); default: the embedded tinysnippet");
ABSL_FLAG(std::string, device, "auto", "auto | cpu | cuda | mps");
ABSL_FLAG(std::string, dtype, "", "fp32 | fp16 | bf16; default: fp16 on cuda/mps, fp32 on cpu");
ABSL_FLAG(int, max_vae_bs, 4, "frames per VAE call with a RollingDepth checkpoint (lower saves GPU memory)");
ABSL_FLAG(int, threads, 0, "LibTorch intra-op threads; 0 = all cores");
ABSL_FLAG(int, queue_size, 8, "jobs that may wait (uploading or queued) besides the running one");
ABSL_FLAG(int64_t, max_upload_bytes, 2LL << 30, "largest accepted upload");
ABSL_FLAG(int64_t, max_frames, 10000, "most frames per job");
ABSL_FLAG(int64_t, max_pixels, 4096LL * 4096LL, "most pixels per input frame");
ABSL_FLAG(std::string, spool_dir, "", "where uploads wait for their turn; default: $TMPDIR/depthd-spool-<pid>");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(30), "time the running job gets to finish on SIGTERM");
ABSL_FLAG(int, v, 0, "log verbosity: 0 = one line per job, 1 = also admissions and stage changes");

namespace fs = std::filesystem;
using namespace depthd;

int main(int argc, char** argv) {
  // --help lists the flags defined in this file (Abseil matches the binary's name otherwise).
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags = [](absl::string_view file) { return absl::EndsWith(file, "server/main.cc"); };
  usage.contains_helpshort_flags = usage.contains_help_flags;
  absl::SetFlagsUsageConfig(usage);
  absl::SetProgramUsageMessage(
      "depthd serves RollingDepth video depth over gRPC (depthd.v1.DepthService).\n"
      "  depthd --listen 127.0.0.1:50051 --metrics_listen 127.0.0.1:9464");
  absl::ParseCommandLine(argc, argv);

  // Signals are taken by a dedicated thread, so block them before any other thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  server::Verbosity() = absl::GetFlag(FLAGS_v);
  SetTorchThreads(absl::GetFlag(FLAGS_threads));
  ModelLoadOptions load{absl::GetFlag(FLAGS_model), absl::GetFlag(FLAGS_device),
                        absl::GetFlag(FLAGS_dtype), absl::GetFlag(FLAGS_max_vae_bs)};
  const std::string model_path = load.path.empty() ? DefaultModelPath() : load.path;
  auto model = LoadDepthModel(load);
  if (!model.ok()) {
    std::cerr << "depthd: " << model.status().message() << "\n";
    return 1;
  }
  const ModelInfo info = DescribeModel(**model);

  server::ServerLimits limits;
  limits.max_upload_bytes = absl::GetFlag(FLAGS_max_upload_bytes);
  limits.max_frames = absl::GetFlag(FLAGS_max_frames);
  limits.max_pixels = absl::GetFlag(FLAGS_max_pixels);
  limits.queue_size = absl::GetFlag(FLAGS_queue_size);
  if (limits.queue_size < 0 || limits.max_frames < 1 || limits.max_pixels < 1 || limits.max_upload_bytes < 1) {
    std::cerr << "depthd: --queue_size must be >= 0 and the limits >= 1\n";
    return 2;
  }
  std::string spool_dir = absl::GetFlag(FLAGS_spool_dir);
  if (spool_dir.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    spool_dir = absl::StrCat(tmp ? tmp : "/tmp", "/depthd-spool-", getpid());
  }
  std::error_code error;
  fs::create_directories(spool_dir, error);
  if (error) {
    std::cerr << "depthd: cannot create --spool_dir " << spool_dir << ": " << error.message() << "\n";
    return 1;
  }

  server::Metrics metrics(info.contract.name, DeviceName(info.device), DTypeName(info.dtype));
  if (absl::Status s = metrics.Expose(absl::GetFlag(FLAGS_metrics_listen)); !s.ok()) {
    std::cerr << "depthd: " << s.message() << "\n";
    return 1;
  }
  server::JobRunner runner(*model, info, &metrics);
  server::JobQueue queue(
      limits.queue_size, [&](server::Job& job) { runner.Run(job); },
      [&](int waiting, int running) {
        metrics.SetQueueDepth(waiting);
        metrics.SetJobsRunning(running);
      });
  server::DepthService service(info, model_path, limits, spool_dir, &queue, &metrics);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int bound_port = 0;
  builder.AddListeningPort(absl::GetFlag(FLAGS_listen), grpc::InsecureServerCredentials(), &bound_port);
  builder.RegisterService(&service);
  builder.SetMaxReceiveMessageSize(8 << 20);
  builder.SetMaxSendMessageSize(256 << 20);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || bound_port == 0) {
    std::cerr << "depthd: cannot listen on " << absl::GetFlag(FLAGS_listen) << "\n";
    return 1;
  }
  server->GetHealthCheckService()->SetServingStatus(true);
  std::cerr << "depthd " << DEPTHD_VERSION << " listening on " << absl::GetFlag(FLAGS_listen)
            << " (metrics on " << absl::GetFlag(FLAGS_metrics_listen) << "), model "
            << info.contract.name << " on " << DeviceName(info.device) << "/" << DTypeName(info.dtype)
            << ", " << TorchThreads() << " threads" << std::endl;

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  std::cerr << "depthd: " << (signal_number == SIGTERM ? "SIGTERM" : "SIGINT")
            << ": draining (grace " << absl::FormatDuration(absl::GetFlag(FLAGS_shutdown_grace)) << ")" << std::endl;
  server->GetHealthCheckService()->SetServingStatus(false);
  service.StartDraining();
  queue.Drain(absl::GetFlag(FLAGS_shutdown_grace));
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  server->Wait();
  fs::remove_all(spool_dir, error);
  std::cerr << "depthd: stopped" << std::endl;
  return 0;
}
