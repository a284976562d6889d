#include "core/pipeline.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <torch/types.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/model/depth_model.h"
#include "core/merge.h"
#include "core/snippet_depths.h"
#include "core/snippet_plan.h"
#include "core/status_macros.h"

namespace depthd {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

int RoundUp(int value, int multiple) { return (value + multiple - 1) / multiple * multiple; }

// Writes an RGB uint8 frame into a [3, Hp, Wp] float slice in [-1, 1], replicating the border
// into the padding so the network sees no artificial edge.
void FrameToPlanes(const cv::Mat& rgb, int padded_height, int padded_width, float* dst) {
  cv::Mat padded = rgb;
  if (rgb.rows != padded_height || rgb.cols != padded_width) {
    cv::copyMakeBorder(rgb, padded, 0, padded_height - rgb.rows, 0, padded_width - rgb.cols,
                       cv::BORDER_REPLICATE);
  }
  cv::Mat as_float;
  padded.convertTo(as_float, CV_32FC3, 1.0 / 127.5, -1.0);
  const int64_t plane = static_cast<int64_t>(padded_height) * padded_width;
  std::vector<cv::Mat> planes = {cv::Mat(padded_height, padded_width, CV_32FC1, dst),
                                 cv::Mat(padded_height, padded_width, CV_32FC1, dst + plane),
                                 cv::Mat(padded_height, padded_width, CV_32FC1, dst + 2 * plane)};
  cv::split(as_float, planes);
}

absl::Status CheckModelCanRun(const DepthModel& model, const PipelineOptions& options) {
  const ModelContract& contract = model.contract();
  for (int length : options.snippets.snippet_lengths) {
    if (length != contract.snippet_length) {
      return absl::InvalidArgumentError(absl::StrCat(
          "model ", contract.name, " takes snippets of ", contract.snippet_length,
          " frames; snippet length ", length, " cannot be honoured"));
    }
  }
  return absl::OkStatus();
}

// RollingDepth's refinement: the co-aligned video, normalised to [-1, 1], goes back through the
// model; the result, [N, H, W], is min-max normalised to [0, 1] like the merge's output.
absl::StatusOr<torch::Tensor> Refine(DepthModel& model, const SnippetDepths& depths,
                                            const CoalignResult& alignment,
                                            const PipelineOptions& options,
                                            const PipelineCallbacks& callbacks) {
  const int frames = depths.plan().num_frames;
  const int height = depths.height(), width = depths.width();
  const int multiple = std::max(1, model.contract().size_multiple);
  const int padded_height = RoundUp(height, multiple), padded_width = RoundUp(width, multiple);
  torch::Tensor coaligned = torch::empty({frames, 1, padded_height, padded_width}, torch::kFloat32);
  DEPTHD_RETURN_IF_ERROR(MergeAndNormalize(
      depths, alignment, [&](int index, const cv::Mat& depth) -> absl::Status {
        cv::Mat padded;
        cv::copyMakeBorder(depth, padded, 0, padded_height - height, 0, padded_width - width,
                           cv::BORDER_REPLICATE);
        cv::Mat dst(padded_height, padded_width, CV_32FC1,
                    coaligned.data_ptr<float>() + static_cast<int64_t>(index) * padded_height * padded_width);
        padded.convertTo(dst, CV_32FC1, 2.0, -1.0);
        return absl::OkStatus();
      }));
  RefineOptions params;
  params.refine_step = options.refine_step;
  params.snippet_length = options.refine_snippet_len;
  params.start_dilation = options.refine_start_dilation;
  params.batch_size = options.batch_size;
  params.cancelled = callbacks.cancelled;
  DEPTHD_ASSIGN_OR_RETURN(torch::Tensor refined, model.Refine(coaligned, params));
  refined = refined.narrow(2, 0, height).narrow(3, 0, width).contiguous();
  if (!torch::isfinite(refined).all().item<bool>()) {
    return absl::InternalError(absl::StrCat("model ", model.contract().name,
                                            " returned non-finite depth from refinement"));
  }
  const float lo = refined.min().item<float>(), hi = refined.max().item<float>();
  refined.sub_(lo).div_(hi > lo ? hi - lo : 1.0f);
  return refined.view({frames, height, width});
}

}  // namespace

absl::StatusOr<SnippetDepths> PredictSnippetDepths(DepthModel& model, const VideoFrames& video,
                                                   const PipelineOptions& options,
                                                   const PipelineCallbacks& callbacks) {
  if (video.num_frames() == 0) return absl::InvalidArgumentError("the video has no frames");
  DEPTHD_RETURN_IF_ERROR(CheckModelCanRun(model, options));
  DEPTHD_ASSIGN_OR_RETURN(SnippetPlan plan, PlanSnippets(video.num_frames(), options.snippets));

  const int height = video.height(), width = video.width();
  for (const cv::Mat& frame : video.frames) {
    if (frame.rows != height || frame.cols != width || frame.type() != CV_8UC3) {
      return absl::InvalidArgumentError("all frames must be 8-bit RGB of the same size");
    }
  }
  const int multiple = std::max(1, model.contract().size_multiple);
  const int padded_height = RoundUp(height, multiple);
  const int padded_width = RoundUp(width, multiple);
  const int64_t plane = static_cast<int64_t>(padded_height) * padded_width;

  SnippetDepths depths(std::move(plan), height, width);
  struct Job {
    int group, snippet;
  };
  std::vector<Job> jobs;
  for (size_t g = 0; g < depths.plan().groups.size(); ++g) {
    for (size_t i = 0; i < depths.plan().groups[g].snippets.size(); ++i) {
      jobs.push_back({static_cast<int>(g), static_cast<int>(i)});
    }
  }
  const int total = static_cast<int>(jobs.size());
  const int length = model.contract().snippet_length;
  if (callbacks.progress) callbacks.progress(kStageInference, 0, total);

  const bool latent_model = model.encodes_frames();
  if (latent_model) {
    // Each frame is encoded once; snippets then refer to frames by index.
    DEPTHD_RETURN_IF_ERROR(model.BeginVideo(video.num_frames(), options.seed));
    const int frame_batch = std::max(1, model.frame_batch());
    for (int begin = 0; begin < video.num_frames(); begin += frame_batch) {
      if (callbacks.cancelled && callbacks.cancelled()) {
        return absl::CancelledError("job cancelled during inference");
      }
      const int count = std::min(frame_batch, video.num_frames() - begin);
      torch::Tensor batch = torch::empty({count, 3, padded_height, padded_width}, torch::kFloat32);
      for (int i = 0; i < count; ++i) {
        FrameToPlanes(video.frames[begin + i], padded_height, padded_width,
                      batch.data_ptr<float>() + static_cast<int64_t>(i) * 3 * plane);
      }
      DEPTHD_RETURN_IF_ERROR(model.EncodeFrames(batch, begin));
    }
  }

  for (int begin = 0; begin < total; begin += options.batch_size) {
    if (callbacks.cancelled && callbacks.cancelled()) {
      return absl::CancelledError("job cancelled during inference");
    }
    const int end = std::min(total, begin + options.batch_size);
    torch::Tensor prediction;
    if (latent_model) {
      std::vector<std::vector<int>> snippets;
      for (int b = begin; b < end; ++b) {
        snippets.push_back(depths.plan().groups[jobs[b].group].snippets[jobs[b].snippet]);
      }
      DEPTHD_ASSIGN_OR_RETURN(prediction, model.PredictSnippetFrames(snippets));
    } else {
      torch::Tensor batch =
          torch::empty({end - begin, length, 3, padded_height, padded_width}, torch::kFloat32);
      float* data = batch.data_ptr<float>();
      for (int b = begin; b < end; ++b) {
        const std::vector<int>& frames =
            depths.plan().groups[jobs[b].group].snippets[jobs[b].snippet];
        for (int j = 0; j < length; ++j) {
          FrameToPlanes(video.frames[frames[j]], padded_height, padded_width,
                        data + ((static_cast<int64_t>(b - begin) * length + j) * 3) * plane);
        }
      }
      DEPTHD_ASSIGN_OR_RETURN(prediction, model.PredictSnippets(batch));
    }
    prediction = prediction.contiguous();
    const float* out = prediction.data_ptr<float>();
    for (int b = begin; b < end; ++b) {
      for (int j = 0; j < length; ++j) {
        const float* src = out + (static_cast<int64_t>(b - begin) * length + j) * plane;
        depths.Write(jobs[b].group, jobs[b].snippet, j, src, padded_width);
      }
    }
    if (callbacks.progress) callbacks.progress(kStageInference, end, total);
  }
  return depths;
}

absl::StatusOr<PipelineSummary> RunPipeline(DepthModel& model, const VideoFrames& video,
                                            const PipelineOptions& options,
                                            const PipelineCallbacks& callbacks) {
  if (options.refine_step > 0 && !model.contract().supports_refine) {
    return absl::InvalidArgumentError(absl::StrCat(
        "refine_step ", options.refine_step, " (preset '", options.preset, "') needs a model that ",
        "can refine; ", model.contract().name,
        " cannot. Set refine_step 0 or serve a RollingDepth checkpoint"));
  }
  if (options.refine_step > 0 && video.num_frames() < options.refine_snippet_len) {
    return absl::InvalidArgumentError(absl::StrCat(
        "refinement needs at least refine_snippet_len (", options.refine_snippet_len,
        ") frames; the video has ", video.num_frames()));
  }
  PipelineSummary summary;
  summary.frames = video.num_frames();
  summary.processing_width = video.width();
  summary.processing_height = video.height();

  auto start = Clock::now();
  DEPTHD_ASSIGN_OR_RETURN(SnippetDepths depths,
                          PredictSnippetDepths(model, video, options, callbacks));
  summary.stage_seconds[kStageInference] = SecondsSince(start);
  summary.snippets = depths.plan().TotalSnippets();
  for (const SnippetGroup& group : depths.plan().groups) summary.dilations.push_back(group.dilation);

  start = Clock::now();
  CoalignOptions coalign = options.coalign;
  coalign.cancelled = callbacks.cancelled;
  if (callbacks.progress) {
    coalign.progress = [&](int done, int total) { callbacks.progress(kStageCoalign, done, total); };
  }
  DEPTHD_ASSIGN_OR_RETURN(summary.coalign, Coalign(depths, coalign));
  if (callbacks.progress) {
    callbacks.progress(kStageCoalign, summary.coalign.iterations, summary.coalign.iterations);
  }
  summary.stage_seconds[kStageCoalign] = SecondsSince(start);
  summary.stage_seconds[kStageRefine] = 0.0;

  const bool restore = options.restore_res && video.original_width > 0 &&
                       (video.original_width != video.width() ||
                        video.original_height != video.height());
  summary.output_width = restore ? video.original_width : video.width();
  summary.output_height = restore ? video.original_height : video.height();
  const cv::Size output_size(summary.output_width, summary.output_height);

  double encode_seconds = 0.0;
  cv::Mat restored;
  auto emit = [&](int index, const cv::Mat& depth) -> absl::Status {
    if (callbacks.cancelled && callbacks.cancelled()) {
      return absl::CancelledError("job cancelled while streaming depth frames");
    }
    const cv::Mat* frame = &depth;
    if (restore) {
      restored = ResizeTo(depth, output_size, options.resample);
      frame = &restored;
    }
    const auto encode_start = Clock::now();
    absl::Status status = callbacks.on_frame ? callbacks.on_frame(index, *frame) : absl::OkStatus();
    encode_seconds += SecondsSince(encode_start);
    if (callbacks.progress) callbacks.progress(kStageMerge, index + 1, summary.frames);
    return status;
  };

  if (options.refine_step > 0) {
    start = Clock::now();
    DEPTHD_ASSIGN_OR_RETURN(torch::Tensor refined,
                            Refine(model, depths, summary.coalign, options, callbacks));
    summary.stage_seconds[kStageRefine] = SecondsSince(start);
    start = Clock::now();
    for (int f = 0; f < summary.frames; ++f) {
      DEPTHD_RETURN_IF_ERROR(emit(f, cv::Mat(video.height(), video.width(), CV_32FC1,
                                             refined[f].data_ptr<float>())));
    }
  } else {
    start = Clock::now();
    DEPTHD_RETURN_IF_ERROR(MergeAndNormalize(depths, summary.coalign, emit));
  }
  summary.stage_seconds[kStageMerge] = SecondsSince(start) - encode_seconds;
  summary.stage_seconds[kStageEncodeOutput] = encode_seconds;
  model.EndVideo();
  return summary;
}

}  // namespace depthd
