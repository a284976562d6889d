#include "server/job_runner.h"

#include <iostream>
#include <map>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "core/media/depth_image.h"
#include "core/pipeline.h"
#include "core/status_macros.h"
#include "core/media/video_io.h"
#include "server/log.h"

namespace depthd::server {
namespace {

v1::Stage StageEnum(const std::string& stage) {
  static const std::map<std::string, v1::Stage> kStages = {
      {kStageInference, v1::STAGE_INFERENCE}, {kStageCoalign, v1::STAGE_COALIGN},
      {kStageRefine, v1::STAGE_REFINE},       {kStageMerge, v1::STAGE_MERGE},
      {kStageEncodeOutput, v1::STAGE_ENCODE_OUTPUT}, {"decode", v1::STAGE_DECODE}};
  auto it = kStages.find(stage);
  return it == kStages.end() ? v1::STAGE_UNSPECIFIED : it->second;
}

absl::StatusOr<v1::DepthFrame> EncodeFrame(int index, const cv::Mat& depth, const ResolvedJob& spec) {
  v1::DepthFrame frame;
  frame.set_index(index);
  frame.set_width(depth.cols);
  frame.set_height(depth.rows);
  frame.set_encoding(spec.encoding);
  switch (spec.encoding) {
    case v1::DEPTH_ENCODING_FLOAT16: frame.set_data(DepthToFloat16Bytes(depth)); break;
    case v1::DEPTH_ENCODING_PNG16: {
      DEPTHD_ASSIGN_OR_RETURN(std::string png, EncodePng16(depth));
      frame.set_data(std::move(png));
      break;
    }
    default: frame.set_data(DepthToFloat32Bytes(depth)); break;
  }
  if (spec.preview) {
    cv::Mat bgr;
    cv::cvtColor(ColorizeSpectralR(depth), bgr, cv::COLOR_RGB2BGR);
    std::vector<uchar> jpeg;
    cv::imencode(".jpg", bgr, jpeg, {cv::IMWRITE_JPEG_QUALITY, 85});
    frame.set_preview_jpeg(std::string(jpeg.begin(), jpeg.end()));
  }
  return frame;
}

std::string Outcome(const absl::Status& status) {
  if (status.ok()) return "succeeded";
  if (status.code() == absl::StatusCode::kCancelled ||
      status.code() == absl::StatusCode::kDeadlineExceeded) {
    return "cancelled";
  }
  if (status.code() == absl::StatusCode::kResourceExhausted) return "rejected";
  return "failed";
}

}  // namespace

void JobRunner::Run(Job& job) {
  const absl::Time start = absl::Now();
  metrics_->ObserveQueueWait(absl::ToDoubleSeconds(start - job.ready_at));
  {
    absl::MutexLock lock(&job.mu);
    job.state = v1::JOB_STATE_RUNNING;
  }
  auto set_stage = [&](v1::Stage stage, int64_t done, int64_t total) {
    LogDetail(absl::StrFormat("job %s: %s %d/%d", job.id, v1::Stage_Name(stage), done, total));
    {
      absl::MutexLock lock(&job.mu);
      job.stage = stage;
      job.done = done;
      job.total = total;
    }
    v1::EstimateResponse response;
    response.mutable_progress()->set_stage(stage);
    response.mutable_progress()->set_done(done);
    response.mutable_progress()->set_total(total);
    job.channel.TryPush(std::move(response));
  };

  std::map<std::string, double> stage_seconds = {{"upload", job.upload_seconds}};
  PipelineSummary summary;
  VideoFrames video;
  int frames_sent = 0;
  absl::Status status = [&]() -> absl::Status {
    set_stage(v1::STAGE_DECODE, 0, 0);
    const absl::Time decode_start = absl::Now();
    if (!job.spool_path.empty()) {
      absl::StatusOr<VideoFrames> decoded = [&]() -> absl::StatusOr<VideoFrames> {
        DEPTHD_ASSIGN_OR_RETURN(std::unique_ptr<ByteSource> source, FileSource(job.spool_path));
        return DecodeVideo(*source, "the upload", job.spec.read);
      }();
      job.RemoveSpool();
      DEPTHD_ASSIGN_OR_RETURN(video, std::move(decoded));
    } else {
      DEPTHD_ASSIGN_OR_RETURN(video, FramesToVideo(std::move(job.frames), job.frames_fps, job.spec.read));
    }
    stage_seconds["decode"] = absl::ToDoubleSeconds(absl::Now() - decode_start);
    set_stage(v1::STAGE_DECODE, video.num_frames(), video.num_frames());
    if (job.cancelled()) return absl::CancelledError("job cancelled");

    PipelineCallbacks callbacks;
    int last_percent = -1;
    std::string last_stage;
    callbacks.progress = [&](const std::string& stage, int done, int total) {
      const int percent = total > 0 ? 100 * done / total : 0;
      if (stage == last_stage && percent == last_percent) return;
      last_stage = stage;
      last_percent = percent;
      set_stage(StageEnum(stage), done, total);
    };
    callbacks.cancelled = [&] { return job.cancelled(); };
    callbacks.on_frame = [&](int index, const cv::Mat& depth) -> absl::Status {
      DEPTHD_ASSIGN_OR_RETURN(v1::DepthFrame frame, EncodeFrame(index, depth, job.spec));
      v1::EstimateResponse response;
      *response.mutable_frame() = std::move(frame);
      if (!job.channel.Push(std::move(response), job.cancel_flag)) {
        return absl::CancelledError("the client went away while depth frames were streaming");
      }
      ++frames_sent;
      absl::MutexLock lock(&job.mu);
      job.frames_sent = frames_sent;
      return absl::OkStatus();
    };
    DEPTHD_ASSIGN_OR_RETURN(summary, RunPipeline(*model_, video, job.spec.pipeline, callbacks));
    return absl::OkStatus();
  }();
  if (!status.ok() && job.cancelled() && status.code() != absl::StatusCode::kCancelled) {
    status = absl::CancelledError(status.message());
  }
  if (status.code() == absl::StatusCode::kCancelled) {
    absl::MutexLock lock(&job.mu);
    if (!job.cancel_reason.empty()) status = absl::CancelledError(job.cancel_reason);
  }

  for (const auto& [stage, seconds] : summary.stage_seconds) stage_seconds[stage] = seconds;
  const double total_seconds = absl::ToDoubleSeconds(absl::Now() - start);
  if (status.ok()) {
    v1::EstimateResponse response;
    v1::Summary* s = response.mutable_summary();
    s->set_job_id(job.id);
    s->set_frames(summary.frames);
    s->set_width(summary.output_width);
    s->set_height(summary.output_height);
    s->set_processing_width(summary.processing_width);
    s->set_processing_height(summary.processing_height);
    s->set_fps(video.fps);
    for (const auto& [stage, seconds] : stage_seconds) {
      v1::StageTime* t = s->add_stage_times();
      t->set_stage(stage);
      t->set_seconds(seconds);
    }
    s->set_total_seconds(total_seconds + job.upload_seconds);
    s->set_coalign_solver(CoalignSolverName(summary.coalign.solver));
    s->set_coalign_iterations(summary.coalign.iterations);
    s->set_coalign_converged(summary.coalign.converged);
    s->set_coalign_final_loss(summary.coalign.final_loss);
    for (int d : summary.dilations) s->add_dilations(d);
    s->set_snippets(summary.snippets);
    s->set_model(info_.contract.name);
    s->set_device(DeviceName(info_.device));
    s->set_dtype(DTypeName(info_.dtype));
    s->set_preset(job.spec.pipeline.preset);
    if (!job.channel.Push(std::move(response), job.cancel_flag)) {
      status = absl::CancelledError("the client went away before the summary");
    }
  }

  // Metrics and the one log line per job.
  for (const auto& [stage, seconds] : stage_seconds) metrics_->ObserveStage(stage, seconds);
  metrics_->ObserveJob(total_seconds);
  metrics_->CountJob(Outcome(status));
  metrics_->CountFrames(frames_sent);
  if (status.ok()) {
    metrics_->ObserveCoalign(summary.coalign.iterations,
                             summary.coalign.converged &&
                                 summary.coalign.iterations < job.spec.pipeline.coalign.max_iterations);
  }
  std::vector<std::string> times;
  for (const auto& [stage, seconds] : stage_seconds) times.push_back(absl::StrFormat("%s_s=%.3f", stage, seconds));
  std::cerr << absl::StrFormat("job id=%s outcome=%s frames=%d %s total_s=%.3f%s\n", job.id,
                               Outcome(status), frames_sent, absl::StrJoin(times, " "),
                               total_seconds,
                               status.ok() ? "" : absl::StrCat(" error=\"", status.message(), "\""));
  {
    absl::MutexLock lock(&job.mu);
    job.state = status.ok() ? v1::JOB_STATE_SUCCEEDED
                            : (Outcome(status) == "cancelled" ? v1::JOB_STATE_CANCELLED : v1::JOB_STATE_FAILED);
    if (!status.ok()) job.error = std::string(status.message());
  }
  job.channel.Close(status);
}

}  // namespace depthd::server
