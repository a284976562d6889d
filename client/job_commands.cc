// submit, watch, fetch, jobs: jobs that outlive the connection that made them.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/strings/str_format.h"
#include "client/commands.h"
#include "client/connection.h"
#include "client/estimate_call.h"
#include "client/flags.h"
#include "client/output_writer.h"
#include "client/progress_line.h"

namespace depthd::client {

int SubmitCommand(const std::vector<std::string>& args) {
  if (args.size() != 1) {
    std::cerr << "usage: depthctl submit VIDEO [options]   (prints the job id)\n";
    return 2;
  }
  auto spec = SpecFromFlags();
  if (!spec.ok()) return Fail(spec.status());
  if (spec->normalization() == v1::NORMALIZATION_UNSPECIFIED &&
      spec->depth_encoding() != v1::DEPTH_ENCODING_PNG16) {
    spec->set_normalization(v1::NORMALIZATION_ALIGNED);  // as `run`: `fetch` normalises
  }
  auto upload = OpenUpload(args[0]);
  if (!upload.ok()) return Fail(upload.status());
  auto stub = ConnectService();
  if (!stub.ok()) return Fail(stub.status());
  grpc::ClientContext context;
  Prepare(context);
  v1::JobStatus job;
  auto stream = (*stub)->SubmitJob(&context, &job);
  v1::EstimateRequest first;
  *first.mutable_spec() = *spec;
  bool ok = stream->Write(first);
  if (upload->folder) {
    for (const auto& image : upload->images) {
      if (!ok) break;
      std::ifstream in(image, std::ios::binary);
      v1::EstimateRequest frame;
      frame.mutable_frame()->set_encoded(
          std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()));
      ok = stream->Write(frame);
    }
  } else {
    std::ifstream in(upload->path, std::ios::binary);
    std::string buffer(1 << 20, '\0');
    while (ok && in) {
      in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      if (in.gcount() <= 0) break;
      v1::EstimateRequest chunk;
      chunk.mutable_chunk()->set_data(buffer.data(), static_cast<size_t>(in.gcount()));
      ok = stream->Write(chunk);
    }
  }
  stream->WritesDone();
  const grpc::Status status = stream->Finish();
  if (!status.ok()) return Fail(status);
  std::cout << job.job_id() << "\n";
  if (!job.replica_address().empty()) {
    // Replicas keep their own jobs: the later calls must reach this one.
    std::cerr << "depthctl: the job is held by " << job.replica_address()
              << "; watch, fetch, cancel and delete it with --server " << job.replica_address() << "\n";
  }
  return 0;
}

int WatchCommand(const std::vector<std::string>& args) {
  if (args.size() != 1) {
    std::cerr << "usage: depthctl watch JOB_ID   (exits 0 when the job succeeded)\n";
    return 2;
  }
  auto stub = ConnectService();
  if (!stub.ok()) return Fail(stub.status());
  grpc::ClientContext context;
  Prepare(context);
  v1::WatchJobRequest request;
  request.set_job_id(args[0]);
  auto reader = (*stub)->WatchJob(&context, request);
  v1::JobStatus job;
  v1::JobState last = v1::JOB_STATE_UNSPECIFIED;
  while (reader->Read(&job)) {
    if (!absl::GetFlag(FLAGS_quiet)) std::cout << DescribeJob(job) << std::endl;
    last = job.state();
  }
  const grpc::Status status = reader->Finish();
  if (!status.ok()) return Fail(status);
  return last == v1::JOB_STATE_SUCCEEDED ? 0 : 1;
}

int FetchCommand(const std::vector<std::string>& args) {
  if (args.size() != 1) {
    std::cerr << "usage: depthctl fetch JOB_ID -o DIR [--name NAME] [--input VIDEO]\n"
                 "  writes what `run` writes (the side by side only with --input); an interrupted\n"
                 "  fetch continues where it stopped\n";
    return 2;
  }
  const std::string id = args[0];
  OutputOptions output;
  output.dir = absl::GetFlag(FLAGS_out);
  output.name = absl::GetFlag(FLAGS_name).empty() ? id : absl::GetFlag(FLAGS_name);
  output.colorize = absl::GetFlag(FLAGS_colorize);
  output.rgbd = absl::GetFlag(FLAGS_rgbd);
  output.png16 = absl::GetFlag(FLAGS_save_png16);
  OutputWriter writer(output);
  auto resumed = writer.Resume();
  if (!resumed.ok()) return Fail(resumed.status());
  auto stub = ConnectService();
  if (!stub.ok()) return Fail(stub.status());
  ProgressLine progress(absl::GetFlag(FLAGS_quiet));
  progress.Job(id);
  if (*resumed > 0) progress.Note(absl::StrFormat("continuing from frame %d", *resumed));
  const auto start = std::chrono::steady_clock::now();
  v1::Summary summary;
  bool have_summary = false;
  absl::Status write_status;
  EstimateCallbacks callbacks;
  callbacks.retrying = [&](const std::string& what) { progress.Note(what); };
  callbacks.response = [&](const v1::EstimateResponse& response) {
    if (response.has_frame()) {
      write_status = writer.Add(response.frame());
      progress.Frames(writer.frames());
      return write_status.ok();
    }
    if (response.has_summary()) {
      summary = response.summary();
      have_summary = true;
    }
    return true;
  };
  const grpc::Status status = FetchFrom(**stub, id, *resumed, callbacks, absl::GetFlag(FLAGS_retry_for));
  progress.Done();
  if (!write_status.ok()) return Fail(write_status);
  if (!status.ok()) return Fail(status);
  if (!have_summary || summary.frames() != writer.frames()) {
    return Fail(absl::DataLossError(absl::StrFormat("the server reported %d frames, %d arrived",
                                                    summary.frames(), writer.frames())));
  }
  if (absl::Status s = writer.Finish(summary, absl::GetFlag(FLAGS_input),
                                     absl::GetFlag(FLAGS_start_frame) > 0 ? absl::GetFlag(FLAGS_start_frame) : 0,
                                     summary.frames());
      !s.ok()) {
    return Fail(s);
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << DescribeSummary(summary, wall);
  for (const std::string& path : writer.paths()) std::cout << "  wrote " << path << "\n";
  return 0;
}

int JobsCommand(const std::vector<std::string>& args) {
  if (!args.empty()) {
    std::cerr << "usage: depthctl jobs [--page_size N]\n";
    return 2;
  }
  auto stub = ConnectService();
  if (!stub.ok()) return Fail(stub.status());
  std::string token;
  do {
    grpc::ClientContext context;
    Prepare(context);
    v1::ListJobsRequest request;
    request.set_page_size(absl::GetFlag(FLAGS_page_size));
    request.set_page_token(token);
    v1::ListJobsResponse response;
    const grpc::Status status = (*stub)->ListJobs(&context, request, &response);
    if (!status.ok()) return Fail(status);
    for (const v1::JobStatus& job : response.jobs()) std::cout << DescribeJob(job) << "\n";
    token = response.next_page_token();
  } while (!token.empty());
  return 0;
}

}  // namespace depthd::client
