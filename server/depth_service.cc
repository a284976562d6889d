#include "server/depth_service.h"

#include <cstdio>
#include <fstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/coalign.h"
#include "core/pipeline_options.h"
#include "core/status_macros.h"
#include "core/media/video_io.h"
#include "server/grpc_status.h"
#include "server/log.h"

namespace depthd::server {
namespace {

constexpr int64_t kMaxChunkBytes = 1 << 20;

}  // namespace

grpc::Status DepthService::Estimate(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::EstimateResponse, v1::EstimateRequest>* stream) {
  if (draining_) {
    metrics_->CountJob("rejected");
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "depthd is shutting down; retry on another server");
  }
  v1::EstimateRequest first;
  if (!stream->Read(&first)) {
    metrics_->CountJob("failed");
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "the stream ended before a JobSpec; send a JobSpec first, then the video");
  }
  if (!first.has_spec()) {
    metrics_->CountJob("failed");
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "the first message must be a JobSpec, then VideoChunk or Frame messages");
  }
  auto resolved = ResolveJobSpec(first.spec(), model_, limits_);
  if (!resolved.ok()) {
    metrics_->CountJob("failed");
    return ToGrpcStatus(resolved.status());
  }
  auto admitted = queue_->Admit(*std::move(resolved));
  if (!admitted.ok()) {
    metrics_->CountJob("rejected");
    return ToGrpcStatus(admitted.status());
  }
  std::shared_ptr<Job> job = *admitted;
  LogDetail(absl::StrCat("job ", job->id, ": admitted from ", context->peer(), " (client '",
                         first.spec().client_name(), "', preset '", job->spec.pipeline.preset, "')"));

  v1::EstimateResponse accepted;
  accepted.mutable_accepted()->set_job_id(job->id);
  accepted.mutable_accepted()->set_queue_position(std::max(0, queue_->Position(*job)));
  stream->Write(accepted);

  const absl::Time upload_start = absl::Now();
  absl::Status upload = ReceiveUpload(context, stream, *job);
  job->upload_seconds = absl::ToDoubleSeconds(absl::Now() - upload_start);
  if (!upload.ok()) {
    queue_->Remove(job);
    metrics_->CountJob(upload.code() == absl::StatusCode::kResourceExhausted ? "rejected" : "failed");
    absl::MutexLock lock(&job->mu);
    job->state = v1::JOB_STATE_FAILED;
    job->error = std::string(upload.message());
    return ToGrpcStatus(upload);
  }
  queue_->MarkReady(job);

  // Stream the worker's responses out; gRPC's Write blocks under flow control, and the
  // bounded channel holds the worker back behind it.
  v1::EstimateResponse response;
  while (true) {
    if (context->IsCancelled() && !job->cancelled()) {
      queue_->Cancel(job, absl::Now() > absl::FromChrono(context->deadline())
                              ? "the client's deadline passed"
                              : "the client cancelled the call");
    }
    if (job->channel.Pop(&response, absl::Milliseconds(100))) {
      if (!stream->Write(response)) queue_->Cancel(job, "the client went away");
      continue;
    }
    if (job->channel.closed_and_empty()) break;
  }
  const absl::Status final_status = job->channel.final_status();
  if (!final_status.ok() && absl::Now() > absl::FromChrono(context->deadline())) {
    return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "the client's deadline passed");
  }
  return ToGrpcStatus(final_status);
}

absl::Status DepthService::ReceiveUpload(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::EstimateResponse, v1::EstimateRequest>* stream, Job& job) {
  std::ofstream spool;
  v1::EstimateRequest request;
  bool chunks = false, frames = false;
  while (stream->Read(&request)) {
    if (context->IsCancelled()) return absl::CancelledError("the client cancelled the upload");
    if (job.cancelled()) return absl::UnavailableError("the job was cancelled during its upload");
    switch (request.payload_case()) {
      case v1::EstimateRequest::kSpec:
        return absl::InvalidArgumentError("a second JobSpec arrived; send exactly one, first");
      case v1::EstimateRequest::kChunk: {
        if (frames) return absl::InvalidArgumentError("VideoChunk after Frame messages; send one kind");
        const std::string& data = request.chunk().data();
        if (static_cast<int64_t>(data.size()) > kMaxChunkBytes) {
          return absl::InvalidArgumentError(absl::StrCat("a VideoChunk of ", data.size(),
                                                         " bytes exceeds the 1 MiB chunk limit"));
        }
        job.upload_bytes += data.size();
        if (job.upload_bytes > limits_.max_upload_bytes) {
          return absl::ResourceExhaustedError(absl::StrCat(
              "the upload exceeds ", limits_.max_upload_bytes, " bytes (--max_upload_bytes)"));
        }
        if (!chunks) {
          chunks = true;
          job.spool_path = absl::StrCat(spool_dir_, "/", job.id, ".video");
          spool.open(job.spool_path, std::ios::binary);
          if (!spool) return absl::InternalError(absl::StrCat("cannot write the spool file ", job.spool_path));
        }
        spool.write(data.data(), data.size());
        if (!spool) return absl::ResourceExhaustedError("cannot write the upload to the spool directory (disk full?)");
        break;
      }
      case v1::EstimateRequest::kFrame: {
        if (chunks) return absl::InvalidArgumentError("Frame after VideoChunk messages; send one kind");
        frames = true;
        const v1::Frame& f = request.frame();
        if (static_cast<int64_t>(job.frames.size()) >= limits_.max_frames) {
          return absl::ResourceExhaustedError(
              absl::StrCat("more than ", limits_.max_frames, " frames (--max_frames)"));
        }
        job.upload_bytes += f.ByteSizeLong();
        if (job.upload_bytes > limits_.max_upload_bytes) {
          return absl::ResourceExhaustedError(absl::StrCat(
              "the upload exceeds ", limits_.max_upload_bytes, " bytes (--max_upload_bytes)"));
        }
        absl::StatusOr<cv::Mat> image;
        if (f.has_raw_rgb()) {
          const int64_t pixels = static_cast<int64_t>(f.raw_rgb().width()) * f.raw_rgb().height();
          if (pixels > limits_.max_pixels) {
            return absl::ResourceExhaustedError(absl::StrCat("a frame of ", pixels, " pixels exceeds ",
                                                             limits_.max_pixels, " (--max_pixels)"));
          }
          image = RawRgbToFrame(f.raw_rgb().data(), f.raw_rgb().width(), f.raw_rgb().height());
        } else if (f.image_case() == v1::Frame::kEncoded) {
          image = DecodeImage(f.encoded(), limits_.max_pixels);
        } else {
          return absl::InvalidArgumentError("a Frame carries neither an encoded image nor raw_rgb");
        }
        if (!image.ok()) {
          return absl::InvalidArgumentError(absl::StrCat("frame ", job.frames.size(), ": ", image.status().message()));
        }
        if (static_cast<int64_t>(image->total()) > limits_.max_pixels) {
          return absl::ResourceExhaustedError(absl::StrCat("a frame of ", image->total(), " pixels exceeds ",
                                                           limits_.max_pixels, " (--max_pixels)"));
        }
        if (job.frames_fps == 0.0 && f.fps() > 0) job.frames_fps = f.fps();
        job.frames.push_back(*std::move(image));
        break;
      }
      default:
        return absl::InvalidArgumentError("an empty EstimateRequest arrived");
    }
  }
  if (context->IsCancelled()) return absl::CancelledError("the client cancelled the upload");
  if (!chunks && !frames) {
    return absl::InvalidArgumentError("no video arrived: send VideoChunk or Frame messages after the JobSpec");
  }
  if (chunks) {
    spool.close();
    if (!spool) return absl::InternalError("cannot finish the spool file");
  }
  return absl::OkStatus();
}

void DepthService::FillStatus(const Job& job, v1::JobStatus* out) const {
  // The queue's lock is taken before a job's, never inside it.
  const int position = queue_->Position(job);
  absl::MutexLock lock(&job.mu);
  out->set_job_id(job.id);
  out->set_state(job.state);
  out->set_stage(job.stage);
  out->set_done(job.done);
  out->set_total(job.total);
  out->set_frames(job.frames_sent);
  out->set_error(!job.error.empty() ? job.error : job.cancel_reason);
  out->set_queue_position(std::max(0, position));
}

grpc::Status DepthService::GetServerInfo(grpc::ServerContext*, const v1::GetServerInfoRequest*,
                                         v1::ServerInfo* response) {
  response->set_version(DEPTHD_VERSION);
  v1::ModelDescription* m = response->mutable_model();
  m->set_name(model_.contract.name);
  m->set_path(model_path_);
  m->set_snippet_length(model_.contract.snippet_length);
  m->set_size_multiple(model_.contract.size_multiple);
  m->set_output(model_.contract.output);
  m->set_supports_refine(model_.contract.supports_refine);
  m->set_contract_json(model_.contract.sidecar_json);
  response->set_device(DeviceName(model_.device));
  response->set_dtype(DTypeName(model_.dtype));
  for (const std::string& preset : PresetNames()) response->add_presets(preset);
  for (CoalignSolver solver : {CoalignSolver::kFast, CoalignSolver::kEarlyStop, CoalignSolver::kReference}) {
    response->add_coalign_solvers(CoalignSolverName(solver));
  }
  v1::Limits* limits = response->mutable_limits();
  limits->set_max_upload_bytes(limits_.max_upload_bytes);
  limits->set_max_frames(limits_.max_frames);
  limits->set_max_pixels(limits_.max_pixels);
  limits->set_queue_size(limits_.queue_size);
  limits->set_max_chunk_bytes(kMaxChunkBytes);
  response->set_queue_depth(queue_->waiting());
  response->set_jobs_running(queue_->running());
  return grpc::Status::OK;
}

grpc::Status DepthService::GetJob(grpc::ServerContext*, const v1::GetJobRequest* request,
                                  v1::JobStatus* response) {
  std::shared_ptr<Job> job = queue_->Find(request->job_id());
  if (!job) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        absl::StrCat("no job '", request->job_id(), "' (finished jobs are kept for the last 100)"));
  }
  FillStatus(*job, response);
  return grpc::Status::OK;
}

grpc::Status DepthService::CancelJob(grpc::ServerContext*, const v1::CancelJobRequest* request,
                                     v1::JobStatus* response) {
  std::shared_ptr<Job> job = queue_->Find(request->job_id());
  if (!job) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, absl::StrCat("no job '", request->job_id(), "'"));
  }
  queue_->Cancel(job, "cancelled by CancelJob");
  FillStatus(*job, response);
  return grpc::Status::OK;
}

}  // namespace depthd::server
