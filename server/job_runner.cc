#include "server/job_runner.h"

#include <algorithm>
#include <iostream>
#include <new>
#include <optional>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "core/media/depth_image.h"
#include "core/media/video_decoder.h"
#include "core/media/video_io.h"
#include "core/model/depth_model.h"
#include "core/status_macros.h"
#include "core/video_session.h"
#include "server/log.h"

namespace depthd::server {
namespace {

v1::Stage StageEnum(const std::string& stage) {
  if (stage == kStageInference) return v1::STAGE_INFERENCE;
  if (stage == kStageCoalign) return v1::STAGE_COALIGN;
  if (stage == kStageRefine) return v1::STAGE_REFINE;
  if (stage == kStageMerge) return v1::STAGE_MERGE;
  if (stage == kStageEncodeOutput) return v1::STAGE_ENCODE_OUTPUT;
  return v1::STAGE_DECODE;
}

v1::Normalization NormalizationEnum(Normalization n) {
  switch (n) {
    case Normalization::kGlobal: return v1::NORMALIZATION_GLOBAL;
    case Normalization::kAligned: return v1::NORMALIZATION_ALIGNED;
    case Normalization::kRunning: return v1::NORMALIZATION_RUNNING;
  }
  return v1::NORMALIZATION_UNSPECIFIED;
}

// A Frame message as an image at its own size; the size is checked before anything is decoded.
absl::StatusOr<cv::Mat> FrameImage(const v1::Frame& frame, int64_t max_pixels) {
  if (frame.has_raw_rgb()) {
    const int64_t pixels = static_cast<int64_t>(frame.raw_rgb().width()) * frame.raw_rgb().height();
    if (pixels > max_pixels) {
      return absl::ResourceExhaustedError(absl::StrCat("a frame of ", pixels, " pixels exceeds ",
                                                       max_pixels, " (--max_pixels)"));
    }
    return RawRgbToFrame(frame.raw_rgb().data(), frame.raw_rgb().width(), frame.raw_rgb().height());
  }
  if (frame.image_case() == v1::Frame::kEncoded) return DecodeImage(frame.encoded(), max_pixels);
  return absl::InvalidArgumentError("a Frame carries neither an encoded image nor raw_rgb");
}

// A stream of RGB frames from a job's input, whatever its kind.
class JobInput {
 public:
  JobInput(ActiveJob& job, int64_t max_pixels) : job_(job), max_pixels_(max_pixels) {}

  // The next frame (RGB or, when `convert` is false, a placeholder), its input index, and
  // whether it is BGR; an empty Mat at the end.
  absl::StatusOr<cv::Mat> Next(bool convert, int* input_index) {
    if (job_.input) {
      DEPTHD_ASSIGN_OR_RETURN(std::optional<LiveInput::Item> item, job_.input->Pop(&job_.cancelled));
      if (!item) return cv::Mat();
      *input_index = item->input_index;
      return Image(item->frame, item->input_index);
    }
    if (job_.frames_upload) {
      DEPTHD_ASSIGN_OR_RETURN(std::optional<v1::Frame> frame,
                              job_.upload->ReadFrame(next_, &job_.cancelled));
      if (!frame) return cv::Mat();
      *input_index = next_++;
      if (frame->fps() > 0 && fps_ == 0.0) fps_ = frame->fps();
      if (!convert) return cv::Mat(1, 1, CV_8UC3);
      return Image(*frame, *input_index);
    }
    if (!decoder_) {
      source_ = job_.upload->Reader(&job_.cancelled);
      DEPTHD_ASSIGN_OR_RETURN(decoder_, VideoDecoder::Open(*source_, max_pixels_, "the upload"));
      fps_ = decoder_->info().fps;
    }
    *input_index = next_++;
    return decoder_->Next(convert);
  }

  double fps() const { return fps_; }
  int64_t declared_frames() const { return decoder_ ? decoder_->info().declared_frames : 0; }

 private:
  absl::StatusOr<cv::Mat> Image(const v1::Frame& frame, int index) {
    absl::StatusOr<cv::Mat> image = FrameImage(frame, max_pixels_);
    if (!image.ok()) {
      return absl::Status(image.status().code(), absl::StrCat("frame ", index, ": ", image.status().message()));
    }
    return image;
  }

  ActiveJob& job_;
  const int64_t max_pixels_;
  int next_ = 0;
  double fps_ = 0.0;
  std::unique_ptr<ByteSource> source_;
  std::unique_ptr<VideoDecoder> decoder_;
};

}  // namespace

JobRunner::JobRunner(std::shared_ptr<DepthModel> model, ModelInfo info, JobStore* store,
                     Metrics* metrics, RunnerOptions options)
    : model_(std::move(model)),
      info_(std::move(info)),
      store_(store),
      metrics_(metrics),
      options_(std::move(options)) {}

int64_t JobRunner::EstimateBytes(const ResolvedJob& spec, int64_t max_pixels) {
  const PipelineOptions& p = spec.session.pipeline;
  const int64_t res = p.processing_res;
  // The aspect ratio is not known before the first frame: a square is the largest case.
  const int64_t pixels = res > 0 ? std::min(res * res, max_pixels) : max_pixels;
  const int groups = static_cast<int>(p.snippets.dilations.size());
  const int length = p.snippets.snippet_lengths.front();
  const int largest = *std::max_element(p.snippets.dilations.begin(), p.snippets.dilations.end());
  const int64_t span = static_cast<int64_t>(length - 1) * largest;
  const int64_t window = spec.session.window + spec.session.solve_every + p.batch_size;
  // Frames the model holds (3 float planes), free snippets' predictions, accumulators, and the
  // network's activations for one batch (a generous 16 planes per snippet frame).
  const int64_t frames_held = length * (largest + 1);
  const int64_t floats = frames_held * 3 + groups * window * length + (span + window) +
                         static_cast<int64_t>(p.batch_size) * length * 16;
  return floats * pixels * static_cast<int64_t>(sizeof(float));
}

absl::Status JobRunner::Run(ActiveJob& job, MemoryReservation& reservation) {
  try {
    return RunUnguarded(job, reservation);
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(absl::StrCat("job ", job.id, " ran out of memory"));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("job ", job.id, " failed: ", e.what()));
  } catch (...) {
    return absl::InternalError(absl::StrCat("job ", job.id, " failed with an unknown error"));
  }
}

absl::Status JobRunner::RunUnguarded(ActiveJob& job, MemoryReservation& reservation) {
  const absl::Time start = absl::Now();
  const ResolvedJob& spec = job.spec;
  JobInput input(job, spec.read.max_pixels);
  FrameFilter filter(spec.read);
  std::unique_ptr<VideoSession> session;
  RunningRange preview_range;
  int frames_out = 0;
  std::vector<int> input_index_of;  // session frame -> input frame
  absl::Time last_progress;
  v1::Stage last_stage = v1::STAGE_UNSPECIFIED;
  double decode_seconds = 0.0;

  SessionOptions options = spec.session;
  options.device = &device_;
  options.device_priority = spec.live ? 1 : 0;
  options.spill_dir = options_.spill_dir;
  options.cancelled = [&job] { return job.cancelled.load(); };
  options.progress = [&](const std::string& stage, int done, int total) {
    const v1::Stage stage_enum = StageEnum(stage);
    const absl::Time now = absl::Now();
    if (stage_enum == last_stage && now - last_progress < absl::Milliseconds(200)) return;
    last_stage = stage_enum;
    last_progress = now;
    store_->Progress(job.id, stage_enum, done, total, frames_out);
  };
  options.on_frame = [&](int index, const cv::Mat& depth) -> absl::Status {
    v1::DepthFrame frame;
    frame.set_index(index);
    frame.set_input_index(index < static_cast<int>(input_index_of.size()) ? input_index_of[index] : index);
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
      const auto [lo, hi] = preview_range.Update(depth);
      cv::Mat bgr;
      cv::cvtColor(ColorizeRange(depth, lo, hi), bgr, cv::COLOR_RGB2BGR);
      std::vector<uchar> jpeg;
      cv::imencode(".jpg", bgr, jpeg, {cv::IMWRITE_JPEG_QUALITY, 85});
      frame.set_preview_jpeg(std::string(jpeg.begin(), jpeg.end()));
    }
    DEPTHD_RETURN_IF_ERROR(job.result->Append(frame, options_.write_stall));
    if (spec.live && session) {
      metrics_->ObserveLiveLatency(session->frames_in() - 1 - index);
    }
    ++frames_out;
    return absl::OkStatus();
  };

  store_->Progress(job.id, v1::STAGE_DECODE, 0, 0, 0);
  while (true) {
    int input_index = 0;
    const absl::Time decode_start = absl::Now();
    DEPTHD_ASSIGN_OR_RETURN(cv::Mat frame, input.Next(!filter.skips_next(), &input_index));
    if (frame.empty()) break;
    DEPTHD_ASSIGN_OR_RETURN(FrameFilter::Result kept, filter.Add(frame, /*is_bgr=*/false));
    decode_seconds += absl::ToDoubleSeconds(absl::Now() - decode_start);
    if (kept.kind == FrameFilter::kDone) break;
    if (kept.kind == FrameFilter::kSkip) continue;
    if (!session) {
      if (spec.session.pipeline.restore_res) options.output_size = filter.original();
      DEPTHD_ASSIGN_OR_RETURN(session, VideoSession::Create(*model_, options));
    }
    input_index_of.push_back(input_index);
    DEPTHD_RETURN_IF_ERROR(session->PushFrame(kept.rgb));
    DEPTHD_RETURN_IF_ERROR(reservation.GrowTo(session->memory_bytes()));
  }
  if (!session) return filter.Empty("the upload");
  DEPTHD_RETURN_IF_ERROR(session->Finish());
  store_->Progress(job.id, v1::STAGE_MERGE, frames_out, frames_out, frames_out);
  const PipelineSummary& summary = session->summary();

  v1::Summary s;
  s.set_job_id(job.id);
  s.set_frames(summary.frames);
  s.set_width(summary.output_width);
  s.set_height(summary.output_height);
  s.set_processing_width(summary.processing_width);
  s.set_processing_height(summary.processing_height);
  s.set_input_width(filter.original().width);
  s.set_input_height(filter.original().height);
  s.set_fps(input.fps());
  std::map<std::string, double> stage_seconds = summary.stage_seconds;
  stage_seconds["decode"] = decode_seconds;
  stage_seconds["upload"] = job.upload_seconds.load();
  for (const auto& [stage, seconds] : stage_seconds) {
    v1::StageTime* t = s.add_stage_times();
    t->set_stage(stage);
    t->set_seconds(seconds);
  }
  s.set_total_seconds(absl::ToDoubleSeconds(absl::Now() - start));
  s.set_coalign_solver(CoalignSolverName(summary.coalign.solver));
  s.set_coalign_iterations(summary.coalign.iterations);
  s.set_coalign_converged(summary.coalign.converged);
  s.set_coalign_final_loss(summary.coalign.final_loss);
  for (int d : summary.dilations) s.add_dilations(d);
  s.set_snippets(summary.snippets);
  s.set_model(info_.contract.name);
  s.set_device(DeviceName(info_.device));
  s.set_dtype(DTypeName(info_.dtype));
  s.set_preset(spec.session.pipeline.preset);
  s.set_depth_min(summary.depth_min);
  s.set_depth_max(summary.depth_max);
  s.set_coalign_scope(CoalignScopeName(summary.scope));
  s.set_normalization(NormalizationEnum(summary.normalization));
  s.set_coalign_window(summary.window);
  s.set_coalign_solves(summary.solves);
  s.set_latency_frames(spec.latency_frames);
  if (job.input) s.set_frames_skipped(job.input->skipped());
  DEPTHD_RETURN_IF_ERROR(job.result->Finish(s));

  for (const auto& [stage, seconds] : stage_seconds) metrics_->ObserveStage(stage, seconds);
  metrics_->CountFrames(frames_out);
  metrics_->ObserveCoalign(summary.coalign.iterations,
                           summary.coalign.converged &&
                               summary.coalign.iterations < spec.session.pipeline.coalign.max_iterations);
  std::vector<std::string> times;
  for (const auto& [stage, seconds] : stage_seconds) times.push_back(absl::StrFormat("%s_s=%.3f", stage, seconds));
  LogDetail(absl::StrFormat("job %s: %d frames, %s", job.id, frames_out, absl::StrJoin(times, " ")));
  return absl::OkStatus();
}

}  // namespace depthd::server
