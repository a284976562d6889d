#include "client/commands.h"

#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>

#include <grpcpp/grpcpp.h>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "client/connection.h"
#include "client/estimate_call.h"
#include "client/flags.h"
#include "client/output_writer.h"
#include "client/progress_line.h"
#include "depthd/v1/depthd.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace depthd::client {
namespace {

bool ParseInts(const std::string& text, google::protobuf::RepeatedField<int32_t>* out) {
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    int value;
    if (!absl::SimpleAtoi(part, &value)) return false;
    out->Add(value);
  }
  return true;
}

}  // namespace

absl::StatusOr<v1::JobSpec> SpecFromFlags() {
  v1::JobSpec spec;
  spec.set_preset(absl::GetFlag(FLAGS_preset));
  if (absl::GetFlag(FLAGS_res) >= 0) spec.set_processing_res(absl::GetFlag(FLAGS_res));
  if (!ParseInts(absl::GetFlag(FLAGS_dilations), spec.mutable_dilations())) {
    return absl::InvalidArgumentError("--dilations must be comma-separated integers, e.g. 1,25");
  }
  if (!ParseInts(absl::GetFlag(FLAGS_snippet_lengths), spec.mutable_snippet_lengths())) {
    return absl::InvalidArgumentError("--snippet_lengths must be comma-separated integers, e.g. 3");
  }
  const std::string cap = absl::GetFlag(FLAGS_cap_dilation);
  if (cap == "true" || cap == "false") {
    spec.set_cap_dilation(cap == "true");
  } else if (!cap.empty()) {
    return absl::InvalidArgumentError("--cap_dilation must be true or false");
  }
  if (absl::GetFlag(FLAGS_refine_step) >= 0) spec.set_refine_step(absl::GetFlag(FLAGS_refine_step));
  spec.set_dtype(absl::GetFlag(FLAGS_dtype));
  if (absl::GetFlag(FLAGS_start_frame) >= 0) spec.set_start_frame(absl::GetFlag(FLAGS_start_frame));
  if (absl::GetFlag(FLAGS_frame_count) >= 0) spec.set_frame_count(absl::GetFlag(FLAGS_frame_count));
  spec.set_resample_method(absl::GetFlag(FLAGS_resample));
  if (absl::GetFlag(FLAGS_restore_res)) spec.set_restore_res(true);
  if (absl::GetFlag(FLAGS_seed) >= 0) spec.set_seed(absl::GetFlag(FLAGS_seed));
  spec.set_coalign_solver(absl::GetFlag(FLAGS_solver));
  if (absl::GetFlag(FLAGS_max_iterations) >= 0) spec.set_coalign_max_iterations(absl::GetFlag(FLAGS_max_iterations));
  if (absl::GetFlag(FLAGS_tolerance) >= 0) spec.set_coalign_tolerance(absl::GetFlag(FLAGS_tolerance));
  if (absl::GetFlag(FLAGS_patience) >= 0) spec.set_coalign_patience(absl::GetFlag(FLAGS_patience));
  spec.set_coalign_scope(absl::GetFlag(FLAGS_scope));
  if (absl::GetFlag(FLAGS_window) >= 0) spec.set_coalign_window(absl::GetFlag(FLAGS_window));
  if (absl::GetFlag(FLAGS_solve_every) >= 0) spec.set_coalign_solve_every(absl::GetFlag(FLAGS_solve_every));
  const std::string encoding = absl::GetFlag(FLAGS_encoding);
  if (encoding == "float32") spec.set_depth_encoding(v1::DEPTH_ENCODING_FLOAT32);
  else if (encoding == "float16") spec.set_depth_encoding(v1::DEPTH_ENCODING_FLOAT16);
  else if (encoding == "png16") spec.set_depth_encoding(v1::DEPTH_ENCODING_PNG16);
  else return absl::InvalidArgumentError("--encoding must be float32, float16 or png16");
  const std::string normalization = absl::GetFlag(FLAGS_normalization);
  if (normalization == "global") spec.set_normalization(v1::NORMALIZATION_GLOBAL);
  else if (normalization == "aligned") spec.set_normalization(v1::NORMALIZATION_ALIGNED);
  else if (normalization == "running") spec.set_normalization(v1::NORMALIZATION_RUNNING);
  else if (!normalization.empty()) {
    return absl::InvalidArgumentError("--normalization must be global, aligned or running");
  }
  spec.set_client_name("depthctl");
  return spec;
}

std::string StageName(v1::Stage stage) {
  std::string name = v1::Stage_Name(stage);
  if (name.rfind("STAGE_", 0) == 0) name = name.substr(6);
  for (char& c : name) c = static_cast<char>(std::tolower(c));
  return name;
}

std::string DescribeJob(const v1::JobStatus& job) {
  std::string state = v1::JobState_Name(job.state());
  if (state.rfind("JOB_STATE_", 0) == 0) state = state.substr(10);
  std::string result = v1::ResultState_Name(job.result());
  if (result.rfind("RESULT_STATE_", 0) == 0) result = result.substr(13);
  return absl::StrFormat("%s  %-9s %s %d/%d, %d frames, queue %d, result %s%s", job.job_id(), state,
                         StageName(job.stage()), job.done(), job.total(), job.frames(),
                         job.queue_position(), result, job.error().empty() ? "" : ", " + job.error());
}

std::string DescribeSummary(const v1::Summary& summary, double wall_seconds) {
  std::vector<std::string> stages;
  for (const v1::StageTime& t : summary.stage_times()) {
    stages.push_back(absl::StrFormat("%s %.2fs", t.stage(), t.seconds()));
  }
  return absl::StrFormat(
      "job %s: %d frames %dx%d (processed at %dx%d), preset %s, model %s on %s/%s\n"
      "  stages: %s\n"
      "  co-alignment: %s scope, %s, %d iterations, %s; dilations [%s], %d snippets\n"
      "  wall time %.2f s (%.1f frames/s)\n",
      summary.job_id(), summary.frames(), summary.width(), summary.height(),
      summary.processing_width(), summary.processing_height(), summary.preset(), summary.model(),
      summary.device(), summary.dtype(), absl::StrJoin(stages, ", "), summary.coalign_scope(),
      summary.coalign_solver(), summary.coalign_iterations(),
      summary.coalign_converged() ? "converged" : "not converged",
      absl::StrJoin(summary.dilations(), ","), summary.snippets(), wall_seconds,
      wall_seconds > 0 ? summary.frames() / wall_seconds : 0.0);
}

int RunCommand(const std::vector<std::string>& args) {
  if (args.size() != 1) {
    std::cerr << "usage: depthctl run VIDEO [-o DIR] [options]\n";
    return 2;
  }
  const std::string input = args[0];
  if (!std::filesystem::exists(input)) return Fail(absl::NotFoundError("no such file: " + input));
  auto spec = SpecFromFlags();
  if (!spec.ok()) return Fail(spec.status());
  // Frames leave the server as soon as they are final, in aligned units; the Summary's range
  // then gives the same [0, 1] bytes as the server's own GLOBAL normalisation. PNG16 needs a
  // range up front, so it keeps GLOBAL.
  if (spec->normalization() == v1::NORMALIZATION_UNSPECIFIED &&
      spec->depth_encoding() != v1::DEPTH_ENCODING_PNG16) {
    spec->set_normalization(v1::NORMALIZATION_ALIGNED);
  }
  auto upload = OpenUpload(input);
  if (!upload.ok()) return Fail(upload.status());

  OutputOptions output;
  output.dir = absl::GetFlag(FLAGS_out);
  output.name = absl::GetFlag(FLAGS_name);
  if (output.name.empty()) output.name = std::filesystem::path(input).stem().string();
  output.colorize = absl::GetFlag(FLAGS_colorize);
  output.rgbd = absl::GetFlag(FLAGS_rgbd);
  output.png16 = absl::GetFlag(FLAGS_save_png16);
  OutputWriter writer(output);

  auto stub = ConnectService();
  if (!stub.ok()) return Fail(stub.status());
  ProgressLine progress(absl::GetFlag(FLAGS_quiet));
  const auto start = std::chrono::steady_clock::now();
  v1::Summary summary;
  bool have_summary = false;
  absl::Status write_status;
  EstimateCallbacks callbacks;
  callbacks.uploaded = [&](int64_t sent, int64_t total) { progress.Upload(sent, total); };
  callbacks.retrying = [&](const std::string& what) { progress.Note(what); };
  callbacks.response = [&](const v1::EstimateResponse& response) {
    switch (response.payload_case()) {
      case v1::EstimateResponse::kAccepted:
        progress.Job(response.accepted().job_id());
        progress.Queued(response.accepted().queue_position());
        break;
      case v1::EstimateResponse::kProgress:
        if (response.progress().stage() == v1::STAGE_QUEUED) {
          progress.Queued(response.progress().queue_position());
        } else {
          progress.Stage(StageName(response.progress().stage()), response.progress().done(),
                         response.progress().total());
        }
        break;
      case v1::EstimateResponse::kFrame:
        write_status = writer.Add(response.frame());
        progress.Frames(writer.frames());
        return write_status.ok();
      case v1::EstimateResponse::kSummary:
        summary = response.summary();
        have_summary = true;
        break;
      default:
        break;
    }
    return true;
  };
  const grpc::Status status = RunEstimate(**stub, *spec, *upload, callbacks, absl::GetFlag(FLAGS_retry_for));
  progress.Done();
  if (!write_status.ok()) return Fail(write_status);
  if (!status.ok()) return Fail(status);
  if (!have_summary || summary.frames() != writer.frames()) {
    return Fail(absl::DataLossError(absl::StrFormat("the server reported %d frames, %d arrived",
                                                    summary.frames(), writer.frames())));
  }
  const int start_frame = spec->has_start_frame() ? spec->start_frame() : 0;
  const int frame_count = spec->has_frame_count() ? spec->frame_count() : 0;
  if (absl::Status s = writer.Finish(summary, input, start_frame, frame_count); !s.ok()) return Fail(s);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << DescribeSummary(summary, wall);
  for (const std::string& path : writer.paths()) std::cout << "  wrote " << path << "\n";
  return 0;
}

int InfoCommand() {
  auto stub = ConnectService();
  if (!stub.ok()) return Fail(stub.status());
  grpc::ClientContext context;
  Prepare(context);
  v1::ServerInfo info;
  const grpc::Status status = (*stub)->GetServerInfo(&context, v1::GetServerInfoRequest(), &info);
  if (!status.ok()) return Fail(status);
  const v1::Limits& l = info.limits();
  std::cout << absl::StrFormat(
      "depthd %s%s%s\nmodel: %s (sha256 %s)\n  snippet length %d, size multiple %d, output %s, refine %s\n"
      "device: %s/%s\npresets: %s\nco-alignment solvers: %s; default scope %s\n"
      "limits: upload %d bytes, %d frames, %d pixels per frame, chunks %d bytes, memory %d MiB\n"
      "  queue %d, %d jobs at once; upload idle %.0f s, write stall %.0f s; results kept %.0f h "
      "within %d MiB\nqueue: %d waiting, %d running\n",
      info.version(), info.tls() ? ", TLS" : "", info.authentication() ? ", tokens" : "",
      info.model().name(), info.model().sha256(), info.model().snippet_length(),
      info.model().size_multiple(), info.model().output(), info.model().supports_refine() ? "yes" : "no",
      info.device(), info.dtype(), absl::StrJoin(info.presets(), ", "),
      absl::StrJoin(info.coalign_solvers(), ", "), info.default_coalign_scope(), l.max_upload_bytes(),
      l.max_frames(), l.max_pixels(), l.max_chunk_bytes(), l.max_memory_bytes() >> 20, l.queue_size(),
      l.max_active_jobs(), l.upload_idle_timeout_seconds(), l.write_stall_timeout_seconds(),
      l.result_ttl_seconds() / 3600, l.results_max_bytes() >> 20, info.queue_depth(), info.jobs_running());
  if (!info.replica_address().empty()) std::cout << "replica: " << info.replica_address() << "\n";
  return 0;
}

int HealthCommand() {
  auto channel = Connect();
  if (!channel.ok()) return Fail(channel.status());
  auto stub = grpc::health::v1::Health::NewStub(*channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::health::v1::HealthCheckResponse response;
  const grpc::Status status = stub->Check(&context, grpc::health::v1::HealthCheckRequest(), &response);
  if (!status.ok()) return Fail(status);
  std::cout << grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status()) << "\n";
  return response.status() == grpc::health::v1::HealthCheckResponse::SERVING ? 0 : 1;
}

namespace {

// GetJob and CancelJob share their shape: one job id in, a JobStatus out.
template <typename Request, typename Call>
int JobStatusCommand(const std::vector<std::string>& args, const char* usage, Call call) {
  if (args.size() != 1) {
    std::cerr << "usage: " << usage << "\n";
    return 2;
  }
  auto stub = ConnectService();
  if (!stub.ok()) return Fail(stub.status());
  grpc::ClientContext context;
  Prepare(context);
  Request request;
  request.set_job_id(args[0]);
  v1::JobStatus job;
  const grpc::Status status = call(**stub, &context, request, &job);
  if (!status.ok()) return Fail(status);
  std::cout << DescribeJob(job) << "\n";
  return 0;
}

}  // namespace

int JobCommand(const std::vector<std::string>& args) {
  return JobStatusCommand<v1::GetJobRequest>(
      args, "depthctl job JOB_ID",
      [](auto& stub, auto* context, const auto& request, auto* job) { return stub.GetJob(context, request, job); });
}

int CancelCommand(const std::vector<std::string>& args) {
  return JobStatusCommand<v1::CancelJobRequest>(
      args, "depthctl cancel JOB_ID",
      [](auto& stub, auto* context, const auto& request, auto* job) { return stub.CancelJob(context, request, job); });
}

int DeleteCommand(const std::vector<std::string>& args) {
  return JobStatusCommand<v1::DeleteJobRequest>(
      args, "depthctl delete JOB_ID",
      [](auto& stub, auto* context, const auto& request, auto* job) { return stub.DeleteJob(context, request, job); });
}

}  // namespace depthd::client
