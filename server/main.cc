// depthd: the RollingDepth video depth server. main owns the lifecycle: flags -> model -> job
// store -> scheduler -> gRPC and metrics -> wait for a signal -> drain -> exit.
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>

#ifdef DEPTHD_TCMALLOC
#include <gperftools/malloc_extension_c.h>
#endif

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/model/device.h"
#include "core/model/model_loader.h"
#include "server/auth.h"
#include "server/depth_service.h"
#include "server/grpc_server.h"
#include "server/job_runner.h"
#include "server/job_state.h"
#include "server/log.h"
#include "server/memory_budget.h"
#include "server/metrics.h"
#include "server/model_digest.h"
#include "server/result_catalog.h"
#include "server/scheduler.h"
#include "server/service_context.h"
#include "server/sqlite_job_store.h"
#include "server/timers.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051",
          "gRPC address (host:port). Beyond loopback needs --tls_cert/--tls_key and --auth_tokens "
          "(or --allow_insecure)");
ABSL_FLAG(std::string, metrics_listen, "127.0.0.1:9464",
          "Prometheus /metrics address (not authenticated); empty disables");
ABSL_FLAG(std::string, model, "",
          "TorchScript model (.pt with its .json), or a RollingDepth checkpoint folder in diffusers "
          "layout (e.g. rollingdepth-v1-0/); default: the embedded tinysnippet");
ABSL_FLAG(std::string, device, "auto", "auto | cpu | cuda | mps");
ABSL_FLAG(std::string, dtype, "", "fp32 | fp16 | bf16; default: fp16 on cuda/mps, fp32 on cpu");
ABSL_FLAG(int, max_vae_bs, 4, "frames per VAE call with a RollingDepth checkpoint (lower saves GPU memory)");
ABSL_FLAG(std::string, noise_device, "cpu",
          "where a RollingDepth checkpoint draws its noise: cpu (one noise per seed on every "
          "device) | model (the model's device and dtype, as the Python reference: on a GPU a seed "
          "gives the reference's noise)");
ABSL_FLAG(int, threads, 0, "LibTorch intra-op threads; 0 = all cores");
ABSL_FLAG(std::string, state_dir, "",
          "where the job database, uploads and results live; default: $XDG_STATE_HOME/depthd, "
          "else ~/.local/state/depthd");
ABSL_FLAG(std::string, spool_dir, "",
          "where uploads wait (depthd only ever deletes the files it named there); default: "
          "<state_dir>/uploads");
ABSL_FLAG(int, queue_size, 8, "jobs that may wait (uploading or queued) besides the running ones");
ABSL_FLAG(int, max_active_jobs, 2,
          "jobs that run at once, sharing the device batch by batch; live streams and uploads "
          "still arriving take at most all but one");
ABSL_FLAG(int64_t, max_upload_bytes, 2LL << 30, "largest accepted upload");
ABSL_FLAG(int64_t, max_frames, 10000, "most frames per file job");
ABSL_FLAG(int64_t, max_pixels, 4096LL * 4096LL, "most pixels per input frame (checked before decoding)");
ABSL_FLAG(int64_t, max_memory_bytes, 0,
          "memory running jobs may hold (frames, predictions); 0 = half of the machine's (or "
          "its cgroup's) memory");
ABSL_FLAG(int64_t, min_free_disk_bytes, 256LL << 20,
          "uploads are refused (RESOURCE_EXHAUSTED) while the state folder's disk has less free");
ABSL_FLAG(absl::Duration, upload_idle_timeout, absl::Seconds(30),
          "an upload with no message for this long ends; a broken upload may be resumed within it");
ABSL_FLAG(absl::Duration, write_stall_timeout, absl::Seconds(30),
          "a stream whose client reads nothing for this long while a write waits is ended (a "
          "live job is cancelled; a file job goes on and stays fetchable)");
ABSL_FLAG(absl::Duration, live_idle_timeout, absl::Seconds(10),
          "a live stream that sends no frame for this long ends");
ABSL_FLAG(absl::Duration, result_ttl, absl::Hours(24), "how long finished jobs' results are kept");
ABSL_FLAG(int64_t, results_max_bytes, 20LL << 30,
          "disk for kept results; the oldest are removed first beyond it");
ABSL_FLAG(std::string, coalign_scope, "auto",
          "co-alignment scope for jobs that do not choose: windowed | global | auto (windowed "
          "for TorchScript snippet models such as the embedded one, whose predictions "
          "bench/coalign measured windowed at no cost; global for a RollingDepth checkpoint, "
          "not measured here)");
ABSL_FLAG(int, coalign_window, 50, "windowed scope: frames a snippet stays free");
ABSL_FLAG(int, coalign_solve_every, 10, "windowed scope: frames between solves");
ABSL_FLAG(bool, sync_uploads, true,
          "fsync uploads before acknowledging them (false only to measure what durability costs)");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate chain for the gRPC port (TLS)");
ABSL_FLAG(std::string, tls_key, "", "PEM private key for --tls_cert");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA bundle: require client certificates signed by it (mutual TLS)");
ABSL_FLAG(std::string, auth_tokens, "",
          "file of \"TOKEN TENANT\" lines: every call (but health and reflection) must carry "
          "authorization: Bearer <token>; a job belongs to its tenant");
ABSL_FLAG(bool, allow_insecure, false,
          "serve beyond loopback without TLS or tokens (warned about at start-up)");
ABSL_FLAG(std::string, advertise_address, "",
          "HOST:PORT at which clients reach this replica, named in every job's status (a "
          "StatefulSet pod's DNS name): later calls about a job go to the replica that holds it");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(30),
          "on SIGTERM/SIGINT running jobs get this long to finish; then they are re-queued (they "
          "run again after a restart) and depthd exits");
ABSL_FLAG(int, v, 0, "log verbosity: 0 = one line per job, 1 = also admissions and stage changes");

namespace fs = std::filesystem;
using namespace depthd;

namespace {

std::string DefaultStateDir() {
  if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg != nullptr && *xdg != '\0') {
    return absl::StrCat(xdg, "/depthd");
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return absl::StrCat(home, "/.local/state/depthd");
  }
  return "/var/lib/depthd";
}

#ifdef DEPTHD_TCMALLOC
constexpr const char* kAllocator = "tcmalloc";
#else
constexpr const char* kAllocator = "glibc malloc";
#endif

int Fail(const std::string& message, int code = 1) {
  std::cerr << "depthd: " << message << std::endl;
  return code;
}

}  // namespace

int main(int argc, char** argv) {
#ifndef DEPTHD_TCMALLOC
  // With glibc's malloc (-DDEPTHD_ALLOCATOR=system): it gives threads that allocate their own
  // arenas and keeps what they free; under a mix of concurrent jobs depthd's RSS crept up 9-11
  // MiB/min (ops_load_short; 0.7 with two arenas), and a 2,500-frame job held 860-955 MiB
  // against 340-360. MALLOC_ARENA_MAX, if set, wins.
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, 2);
#endif

  // --help lists the flags defined in this file (Abseil matches the binary's name otherwise).
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags = [](absl::string_view file) { return absl::EndsWith(file, "server/main.cc"); };
  usage.contains_helpshort_flags = usage.contains_help_flags;
  absl::SetFlagsUsageConfig(usage);
  absl::SetProgramUsageMessage(
      "depthd serves RollingDepth video depth over gRPC (depthd.v1.DepthService).\n"
      "  depthd --listen 127.0.0.1:50051 --metrics_listen 127.0.0.1:9464 --state_dir DIR");
  absl::ParseCommandLine(argc, argv);

  // Signals are taken by this thread, so block them before any other thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  server::Verbosity() = absl::GetFlag(FLAGS_v);
  server::ServiceLimits limits;
  limits.job.max_upload_bytes = absl::GetFlag(FLAGS_max_upload_bytes);
  limits.job.max_frames = absl::GetFlag(FLAGS_max_frames);
  limits.job.max_pixels = absl::GetFlag(FLAGS_max_pixels);
  limits.job.queue_size = absl::GetFlag(FLAGS_queue_size);
  limits.upload_idle_timeout = absl::GetFlag(FLAGS_upload_idle_timeout);
  limits.write_stall_timeout = absl::GetFlag(FLAGS_write_stall_timeout);
  limits.live_idle_timeout = absl::GetFlag(FLAGS_live_idle_timeout);
  limits.min_free_disk_bytes = absl::GetFlag(FLAGS_min_free_disk_bytes);
  limits.max_active_jobs = absl::GetFlag(FLAGS_max_active_jobs);
  limits.result_ttl = absl::GetFlag(FLAGS_result_ttl);
  limits.results_max_bytes = absl::GetFlag(FLAGS_results_max_bytes);
  limits.max_memory_bytes = absl::GetFlag(FLAGS_max_memory_bytes);
  if (limits.max_memory_bytes <= 0) limits.max_memory_bytes = server::MemoryBudget::DefaultBytes();
  const bool auto_scope = absl::GetFlag(FLAGS_coalign_scope) == "auto";
  auto scope = ParseCoalignScope(auto_scope ? "windowed" : absl::GetFlag(FLAGS_coalign_scope));
  if (!scope.ok()) {
    return Fail(absl::StrCat("--coalign_scope: ", scope.status().message(), " (or auto)"), 2);
  }
  limits.defaults.scope = *scope;
  limits.defaults.window = absl::GetFlag(FLAGS_coalign_window);
  limits.defaults.solve_every = absl::GetFlag(FLAGS_coalign_solve_every);
  if (limits.job.queue_size < 0 || limits.job.max_frames < 1 || limits.job.max_pixels < 1 ||
      limits.job.max_upload_bytes < 1 || limits.max_active_jobs < 1 ||
      limits.defaults.window < 0 || limits.defaults.solve_every < 1 ||
      limits.upload_idle_timeout <= absl::ZeroDuration() ||
      limits.write_stall_timeout <= absl::ZeroDuration() ||
      limits.live_idle_timeout <= absl::ZeroDuration() || limits.results_max_bytes < 0) {
    return Fail("--queue_size must be >= 0, --max_active_jobs and the limits >= 1, the timeouts > 0", 2);
  }
  if (const std::string advertised = absl::GetFlag(FLAGS_advertise_address);
      !advertised.empty() && (advertised.find(':') == std::string::npos ||
                              advertised.find_first_of(" \t\n/") != std::string::npos)) {
    return Fail(absl::StrCat("--advertise_address '", advertised,
                             "' is not HOST:PORT (e.g. depthd-0.depthd-headless.default.svc:50051)"), 2);
  }

  // The state folder, which one depthd uses at a time.
  const std::string state_dir = absl::GetFlag(FLAGS_state_dir).empty() ? DefaultStateDir()
                                                                         : absl::GetFlag(FLAGS_state_dir);
  const std::string uploads_dir = absl::GetFlag(FLAGS_spool_dir).empty() ? state_dir + "/uploads"
                                                                         : absl::GetFlag(FLAGS_spool_dir);
  const std::string results_dir = state_dir + "/results";
  std::error_code error;
  for (const std::string& dir : {state_dir, uploads_dir, results_dir}) {
    fs::create_directories(dir, error);
    if (error) return Fail(absl::StrCat("cannot create ", dir, ": ", error.message()));
  }
  const int lock_fd = ::open((state_dir + "/depthd.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd < 0 || ::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    return Fail(absl::StrCat("another depthd uses --state_dir ", state_dir,
                             "; stop it or give this one its own folder"));
  }

  std::unique_ptr<server::TokenAuth> auth;
  if (!absl::GetFlag(FLAGS_auth_tokens).empty()) {
    auto loaded = server::TokenAuth::Load(absl::GetFlag(FLAGS_auth_tokens));
    if (!loaded.ok()) return Fail(std::string(loaded.status().message()), 2);
    auth = *std::move(loaded);
  }

  SetTorchThreads(absl::GetFlag(FLAGS_threads));
  ModelLoadOptions load{absl::GetFlag(FLAGS_model), absl::GetFlag(FLAGS_device),
                        absl::GetFlag(FLAGS_dtype), absl::GetFlag(FLAGS_max_vae_bs),
                        absl::GetFlag(FLAGS_noise_device)};
  const std::string model_path = load.path.empty() ? DefaultModelPath() : load.path;
  auto model = LoadDepthModel(load);
  if (!model.ok()) return Fail(std::string(model.status().message()));
  const ModelInfo info = DescribeModel(**model);
  if (auto_scope && info.contract.format != "torchscript") limits.defaults.scope = CoalignScope::kGlobal;
  auto digest = server::ModelDigest(model_path);
  if (!digest.ok()) return Fail(std::string(digest.status().message()));

  auto store = server::SqliteJobStore::Open(state_dir + "/jobs.db");
  if (!store.ok()) return Fail(std::string(store.status().message()));

  server::Metrics metrics(info.contract.name, DeviceName(info.device), DTypeName(info.dtype));
  if (absl::Status s = metrics.Expose(absl::GetFlag(FLAGS_metrics_listen)); !s.ok()) {
    return Fail(std::string(s.message()));
  }
  // Each job is counted once, when it ends (calls refused before a job exists count themselves).
  (*store)->AddListener([&metrics](const server::JobRecord& now, v1::JobState before) {
    if (server::IsFinal(now.state) && !server::IsFinal(before)) {
      metrics.CountJob(server::Outcome(now.status()));
    }
  });

  server::Timers timers;
  server::MemoryBudget budget(limits.max_memory_bytes);
  server::ResultCatalog results(results_dir, store->get(), &metrics, limits.result_ttl,
                                limits.results_max_bytes);
  server::RunnerOptions runner_options;
  runner_options.spill_dir = uploads_dir;
  runner_options.write_stall = limits.write_stall_timeout;
  server::JobRunner runner(*model, info, store->get(), &metrics, runner_options);
  server::SchedulerOptions scheduler_options;
  scheduler_options.queue_size = limits.job.queue_size;
  scheduler_options.max_active_jobs = limits.max_active_jobs;
  scheduler_options.uploads_dir = uploads_dir;
  scheduler_options.sync_uploads = absl::GetFlag(FLAGS_sync_uploads);
  scheduler_options.max_pixels = limits.job.max_pixels;
#ifdef DEPTHD_TCMALLOC
  // A job's frames and predictions go back to tcmalloc's page heap when it ends; without this
  // they would reach the system only slowly, and RSS would read as if the job were still there.
  scheduler_options.release_memory = MallocExtension_ReleaseFreeMemory;
#endif
  scheduler_options.resolve = [&](const v1::JobSpec& spec) {
    return server::ResolveJobSpec(spec, info, limits.job, limits.defaults);
  };
  server::Scheduler scheduler(scheduler_options, store->get(), &results, &runner, &budget, &metrics);
  auto recovered = scheduler.Recover();
  if (!recovered.ok()) return Fail(std::string(recovered.status().message()));

  server::ServiceContext context;
  context.model = info;
  context.model_sha256 = *digest;
  context.limits = limits;
  context.state_dir = state_dir;
  context.advertise_address = absl::GetFlag(FLAGS_advertise_address);
  context.auth = auth.get();
  context.store = store->get();
  context.scheduler = &scheduler;
  context.results = &results;
  context.metrics = &metrics;
  context.timers = &timers;
  server::DepthService service(&context);

  server::GrpcServerOptions grpc_options;
  grpc_options.listen = absl::GetFlag(FLAGS_listen);
  grpc_options.tls_cert = absl::GetFlag(FLAGS_tls_cert);
  grpc_options.tls_key = absl::GetFlag(FLAGS_tls_key);
  grpc_options.tls_client_ca = absl::GetFlag(FLAGS_tls_client_ca);
  grpc_options.tokens = auth != nullptr;
  grpc_options.allow_insecure = absl::GetFlag(FLAGS_allow_insecure);
  auto grpc_server = server::GrpcServer::Create(grpc_options, {&service});
  if (!grpc_server.ok()) return Fail(std::string(grpc_server.status().message()));
  context.tls = (*grpc_server)->tls();
  (*grpc_server)->SetServing(true);

  // Results past their time go, also when no job ends to trigger it.
  std::function<void()> sweep = [&] {
    results.Evict();
    metrics.SetJobsStored(static_cast<int64_t>((*store)->All().size()));
    timers.At(absl::Now() + absl::Minutes(1), sweep);
  };
  sweep();

  std::cerr << "depthd " << DEPTHD_VERSION << " listening on " << grpc_options.listen
            << ((*grpc_server)->tls() ? " (TLS" : " (plaintext")
            << (auth ? ", tokens)" : ")") << ", metrics on " << absl::GetFlag(FLAGS_metrics_listen)
            << ", model " << info.contract.name << " (sha256 " << digest->substr(0, 12) << ") on "
            << DeviceName(info.device) << "/" << DTypeName(info.dtype) << ", " << TorchThreads()
            << " threads, " << kAllocator << ", state in " << state_dir << ", " << *recovered
            << " jobs recovered" << std::endl;

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  const absl::Duration grace = absl::GetFlag(FLAGS_shutdown_grace);
  std::cerr << "depthd: " << (signal_number == SIGTERM ? "SIGTERM" : "SIGINT") << ": draining (grace "
            << absl::FormatDuration(grace) << ")" << std::endl;
  (*grpc_server)->SetServing(false);
  service.StartDraining();
  const absl::Time drain_end = absl::Now() + grace;
  const bool stopped = scheduler.Drain(grace);
  context.AwaitDeliveries(drain_end);  // finished jobs' frames still on their way to clients
  context.AbortAll(grpc::Status(grpc::StatusCode::UNAVAILABLE, "depthd is shutting down"));
  (*grpc_server)->Shutdown(absl::Now() + absl::Milliseconds(200));
  if (!stopped) {
    // A network call in progress cannot be interrupted; its job is re-queued in the store, so
    // nothing is lost by not waiting for it.
    std::cerr << "depthd: stopped (a running job was re-queued mid-batch)" << std::endl;
    std::_Exit(0);
  }
  std::cerr << "depthd: stopped" << std::endl;
  std::_Exit(0);  // every job is stored and every stream ended; nothing needs destructors
}
