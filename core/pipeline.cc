#include "core/pipeline.h"

#include <algorithm>
#include <utility>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <torch/types.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/model/depth_model.h"
#include "core/model/torch_call.h"
#include "core/snippet_plan.h"
#include "core/status_macros.h"

namespace depthd {
namespace {

int RoundUp(int value, int multiple) { return (value + multiple - 1) / multiple * multiple; }

torch::Tensor FramesToPlanes(const std::vector<cv::Mat>& frames, int begin, int count,
                             int padded_height, int padded_width) {
  torch::Tensor batch = torch::empty({count, 3, padded_height, padded_width}, torch::kFloat32);
  const int64_t plane = static_cast<int64_t>(padded_height) * padded_width;
  for (int i = 0; i < count; ++i) {
    const cv::Mat& rgb = frames[begin + i];
    cv::Mat padded = rgb;
    if (rgb.rows != padded_height || rgb.cols != padded_width) {
      cv::copyMakeBorder(rgb, padded, 0, padded_height - rgb.rows, 0, padded_width - rgb.cols,
                         cv::BORDER_REPLICATE);
    }
    cv::Mat as_float;
    padded.convertTo(as_float, CV_32FC3, 1.0 / 127.5, -1.0);
    float* dst = batch.data_ptr<float>() + static_cast<int64_t>(i) * 3 * plane;
    std::vector<cv::Mat> channels = {cv::Mat(padded_height, padded_width, CV_32FC1, dst),
                                     cv::Mat(padded_height, padded_width, CV_32FC1, dst + plane),
                                     cv::Mat(padded_height, padded_width, CV_32FC1, dst + 2 * plane)};
    cv::split(as_float, channels);
  }
  return batch;
}

}  // namespace

absl::StatusOr<PipelineSummary> RunSession(DepthModel& model, const VideoFrames& video,
                                           SessionOptions session) {
  if (video.num_frames() == 0) return absl::InvalidArgumentError("the video has no frames");
  if (session.pipeline.restore_res && video.original_width > 0) {
    session.output_size = cv::Size(video.original_width, video.original_height);
  }
  DEPTHD_ASSIGN_OR_RETURN(std::unique_ptr<VideoSession> run,
                          VideoSession::Create(model, std::move(session)));
  for (const cv::Mat& frame : video.frames) DEPTHD_RETURN_IF_ERROR(run->PushFrame(frame));
  DEPTHD_RETURN_IF_ERROR(run->Finish());
  return run->summary();
}

absl::StatusOr<PipelineSummary> RunPipeline(DepthModel& model, const VideoFrames& video,
                                            const PipelineOptions& options,
                                            const PipelineCallbacks& callbacks) {
  SessionOptions session;
  session.pipeline = options;
  session.scope = CoalignScope::kGlobal;
  session.normalization = Normalization::kGlobal;
  session.cancelled = callbacks.cancelled;
  session.progress = callbacks.progress;
  session.on_frame = callbacks.on_frame;
  return RunSession(model, video, std::move(session));
}

absl::StatusOr<SnippetDepths> PredictSnippetDepths(DepthModel& model, const VideoFrames& video,
                                                   const PipelineOptions& options,
                                                   const PipelineCallbacks& callbacks) {
  if (video.num_frames() == 0) return absl::InvalidArgumentError("the video has no frames");
  for (int length : options.snippets.snippet_lengths) {
    if (length != model.contract().snippet_length) {
      return absl::InvalidArgumentError(absl::StrCat(
          "model ", model.contract().name, " takes snippets of ", model.contract().snippet_length,
          " frames; snippet length ", length, " cannot be honoured"));
    }
  }
  DEPTHD_ASSIGN_OR_RETURN(SnippetPlan plan, PlanSnippets(video.num_frames(), options.snippets));
  const int height = video.height(), width = video.width();
  for (const cv::Mat& frame : video.frames) {
    if (frame.rows != height || frame.cols != width || frame.type() != CV_8UC3) {
      return absl::InvalidArgumentError("all frames must be 8-bit RGB of the same size");
    }
  }
  const int multiple = std::max(1, model.contract().size_multiple);
  const int padded_height = RoundUp(height, multiple), padded_width = RoundUp(width, multiple);
  const int64_t plane = static_cast<int64_t>(padded_height) * padded_width;
  DEPTHD_ASSIGN_OR_RETURN(std::unique_ptr<ModelVideo> model_video,
                          model.NewVideo(padded_height, padded_width, options.seed));
  const int frame_batch = std::max(1, model_video->frame_batch());
  for (int begin = 0; begin < video.num_frames(); begin += frame_batch) {
    const int count = std::min(frame_batch, video.num_frames() - begin);
    auto planes = TorchCall("preparing frames", [&] {
      return FramesToPlanes(video.frames, begin, count, padded_height, padded_width);
    });
    if (!planes.ok()) return planes.status();
    DEPTHD_RETURN_IF_ERROR(model_video->AddFrames(*planes, begin));
  }

  SnippetDepths depths(std::move(plan), height, width);
  std::vector<std::pair<int, int>> jobs;
  for (size_t g = 0; g < depths.plan().groups.size(); ++g) {
    for (size_t i = 0; i < depths.plan().groups[g].snippets.size(); ++i) {
      jobs.emplace_back(static_cast<int>(g), static_cast<int>(i));
    }
  }
  const int total = static_cast<int>(jobs.size());
  if (callbacks.progress) callbacks.progress(kStageInference, 0, total);
  for (int begin = 0; begin < total; begin += options.batch_size) {
    if (callbacks.cancelled && callbacks.cancelled()) {
      return absl::CancelledError("job cancelled during inference");
    }
    const int end = std::min(total, begin + options.batch_size);
    std::vector<std::vector<int>> snippets;
    for (int b = begin; b < end; ++b) {
      snippets.push_back(depths.plan().groups[jobs[b].first].snippets[jobs[b].second]);
    }
    DEPTHD_ASSIGN_OR_RETURN(torch::Tensor prediction, model_video->PredictSnippets(snippets));
    prediction = prediction.contiguous();
    const float* out = prediction.data_ptr<float>();
    const int length = static_cast<int>(prediction.size(1));
    for (int b = begin; b < end; ++b) {
      for (int j = 0; j < length; ++j) {
        const float* src = out + (static_cast<int64_t>(b - begin) * length + j) * plane;
        depths.Write(jobs[b].first, jobs[b].second, j, src, padded_width);
      }
    }
    if (callbacks.progress) callbacks.progress(kStageInference, end, total);
  }
  return depths;
}

}  // namespace depthd
