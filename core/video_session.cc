#include "core/video_session.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <limits>
#include <map>
#include <optional>
#include <utility>

#include <opencv2/imgproc.hpp>
#include <torch/types.h>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "core/depth_normalizer.h"
#include "core/media/resize.h"
#include "core/model/depth_model.h"
#include "core/model/diffusion/refine_plan.h"
#include "core/model/torch_call.h"
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

// An RGB uint8 frame as a [3, Hp, Wp] float tensor in [-1, 1], the border replicated into the
// padding so the network sees no artificial edge.
torch::Tensor FrameToPlanes(const cv::Mat& rgb, int padded_height, int padded_width) {
  cv::Mat padded = rgb;
  if (rgb.rows != padded_height || rgb.cols != padded_width) {
    cv::copyMakeBorder(rgb, padded, 0, padded_height - rgb.rows, 0, padded_width - rgb.cols,
                       cv::BORDER_REPLICATE);
  }
  cv::Mat as_float;
  padded.convertTo(as_float, CV_32FC3, 1.0 / 127.5, -1.0);
  torch::Tensor planes = torch::empty({3, padded_height, padded_width}, torch::kFloat32);
  const int64_t plane = static_cast<int64_t>(padded_height) * padded_width;
  float* dst = planes.data_ptr<float>();
  std::vector<cv::Mat> channels = {cv::Mat(padded_height, padded_width, CV_32FC1, dst),
                                   cv::Mat(padded_height, padded_width, CV_32FC1, dst + plane),
                                   cv::Mat(padded_height, padded_width, CV_32FC1, dst + 2 * plane)};
  cv::split(as_float, channels);
  return planes;
}

}  // namespace

class VideoSession::Impl {
 public:
  Impl(DepthModel& model, SessionOptions options) : model_(model), opt_(std::move(options)) {}

  absl::Status Init() {
    const PipelineOptions& p = opt_.pipeline;
    const ModelContract& contract = model_.contract();
    for (int length : p.snippets.snippet_lengths) {
      if (length != contract.snippet_length) {
        return absl::InvalidArgumentError(absl::StrCat(
            "model ", contract.name, " takes snippets of ", contract.snippet_length,
            " frames; snippet length ", length, " cannot be honoured"));
      }
    }
    if (p.refine_step > 0 && !contract.supports_refine) {
      return absl::InvalidArgumentError(absl::StrCat(
          "refine_step ", p.refine_step, " (preset '", p.preset, "') needs a model that ",
          "can refine; ", contract.name, " cannot. Set refine_step 0 or serve a RollingDepth checkpoint"));
    }
    if (p.refine_step > 0 && opt_.scope == CoalignScope::kWindowed) {
      return absl::InvalidArgumentError(
          "refinement works on the whole co-aligned video: use coalign_scope global with "
          "refine_step > 0");
    }
    if (p.refine_step > 0 && opt_.normalization == Normalization::kRunning) {
      return absl::InvalidArgumentError(
          "refinement hands out frames at the end of the video; normalization RUNNING is for "
          "live streams without refinement");
    }
    if (opt_.scope == CoalignScope::kWindowed && p.coalign.solver != CoalignSolver::kFast) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the windowed co-alignment scope runs the fast solver; solver ",
          CoalignSolverName(p.coalign.solver), " needs coalign_scope global"));
    }
    if (opt_.window < 0 || opt_.solve_every < 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "coalign window must be >= 0 and solve_every >= 1, got ", opt_.window, " and ",
          opt_.solve_every));
    }
    // The options themselves (dilations containing 1, lengths 2..4, no repeats) are checked as
    // the plan for a long video would check them.
    const int longest = *std::max_element(p.snippets.dilations.begin(), p.snippets.dilations.end());
    SnippetPlanOptions probe = p.snippets;
    probe.cap_dilation = true;
    DEPTHD_RETURN_IF_ERROR(PlanSnippets(4 * (longest + 1), probe).status());

    std::vector<int> lengths = p.snippets.snippet_lengths;
    if (lengths.size() == 1) lengths.assign(p.snippets.dilations.size(), lengths.front());
    for (size_t g = 0; g < p.snippets.dilations.size(); ++g) {
      Group group;
      group.requested = p.snippets.dilations[g];
      group.length = lengths[g];
      // Without capping the dilation is what was asked; with it, known once the video is long
      // enough that the cap cannot bite, or at its end.
      if (!p.snippets.cap_dilation) group.dilation = group.requested;
      groups_.push_back(group);
      lengths_.push_back(group.length);
    }
    DEPTHD_ASSIGN_OR_RETURN(normalizer_, DepthNormalizer::Create(opt_.normalization, opt_.spill_dir));
    summary_.scope = opt_.scope;
    summary_.normalization = opt_.normalization;
    if (opt_.scope == CoalignScope::kWindowed) {
      summary_.window = opt_.window;
      summary_.solve_every = opt_.solve_every;
    }
    summary_.coalign.solver = p.coalign.solver;
    for (const char* stage : {kStageInference, kStageCoalign, kStageRefine, kStageMerge, kStageEncodeOutput}) {
      summary_.stage_seconds[stage] = 0.0;
    }
    return absl::OkStatus();
  }

  absl::Status PushFrame(const cv::Mat& rgb) {
    if (finished_) return absl::FailedPreconditionError("the session has finished");
    if (rgb.empty() || rgb.type() != CV_8UC3) {
      return absl::InvalidArgumentError("frames must be 8-bit RGB");
    }
    if (frames_in_ == 0) {
      DEPTHD_RETURN_IF_ERROR(Start(rgb.size()));
    } else if (rgb.rows != height_ || rgb.cols != width_) {
      return absl::InvalidArgumentError(absl::StrCat("frame ", frames_in_, " is ", rgb.cols, "x",
                                                     rgb.rows, ", the video is ", width_, "x", height_));
    }
    DEPTHD_RETURN_IF_ERROR(CheckCancelled());
    auto planes = TorchCall("preparing a frame", [&] { return FrameToPlanes(rgb, padded_h_, padded_w_); });
    if (!planes.ok()) return planes.status();
    pending_.push_back(*std::move(planes));
    ++frames_in_;
    for (Group& group : groups_) {
      if (group.dilation == 0 && frames_in_ >= group.length * (group.requested + 1)) {
        group.dilation = group.requested;  // the cap floor(N / L) - 1 cannot bite any more
      }
    }
    if (static_cast<int>(pending_.size()) >= frame_batch_) DEPTHD_RETURN_IF_ERROR(AddToModel());
    DEPTHD_RETURN_IF_ERROR(Predict(/*flush=*/false));
    return Advance(/*finished=*/false);
  }

  absl::Status Finish() {
    if (finished_) return absl::OkStatus();
    if (frames_in_ == 0) return absl::InvalidArgumentError("the video has no frames");
    DEPTHD_ASSIGN_OR_RETURN(SnippetPlan plan, PlanSnippets(frames_in_, opt_.pipeline.snippets));
    if (opt_.pipeline.refine_step > 0) {
      // The refinement's snippets, as the reference plans them, or a clear refusal (cap_dilation
      // off on a video too short for refine_start_dilation) before any compute.
      RefineOptions refine;
      refine.refine_step = opt_.pipeline.refine_step;
      refine.snippet_length = opt_.pipeline.refine_snippet_len;
      refine.start_dilation = opt_.pipeline.refine_start_dilation;
      refine.cap_dilation = opt_.pipeline.snippets.cap_dilation;
      DEPTHD_RETURN_IF_ERROR(diffusion::RefinePlan(frames_in_, refine).status());
    }
    for (size_t g = 0; g < groups_.size(); ++g) {
      if (groups_[g].dilation == 0) groups_[g].dilation = plan.groups[g].dilation;
      if (groups_[g].dilation != plan.groups[g].dilation) {
        return absl::InternalError("the streamed snippet plan differs from the video's");
      }
    }
    DEPTHD_RETURN_IF_ERROR(AddToModel());
    DEPTHD_RETURN_IF_ERROR(Predict(/*flush=*/true));
    finished_ = true;
    summary_.frames = frames_in_;
    summary_.snippets = plan.TotalSnippets();
    summary_.dilations.clear();
    for (const SnippetGroup& group : plan.groups) summary_.dilations.push_back(group.dilation);
    if (snippets_predicted_ != summary_.snippets) {
      return absl::InternalError(absl::StrCat("predicted ", snippets_predicted_, " snippets, the plan has ",
                                              summary_.snippets));
    }
    if (opt_.scope == CoalignScope::kWindowed) {
      DEPTHD_RETURN_IF_ERROR(Advance(/*finished=*/true));
    } else {
      DEPTHD_RETURN_IF_ERROR(FinishGlobal(std::move(plan)));
    }
    const auto start = Clock::now();
    const double encode_before = encode_seconds_;
    DEPTHD_RETURN_IF_ERROR(normalizer_->Finish(Sink()));
    summary_.stage_seconds[kStageMerge] += SecondsSince(start) - (encode_seconds_ - encode_before);
    summary_.depth_min = merged_in_place_ ? merged_range_.first : normalizer_->min();
    summary_.depth_max = merged_in_place_ ? merged_range_.second : normalizer_->max();
    summary_.stage_seconds[kStageEncodeOutput] = encode_seconds_;
    video_.reset();  // the model's per-video state goes as soon as it is no longer needed
    return absl::OkStatus();
  }

  int frames_in() const { return frames_in_; }
  int frames_out() const { return frames_out_; }
  const PipelineSummary& summary() const { return summary_; }

  int latency_frames() const {
    if (opt_.scope == CoalignScope::kGlobal || opt_.normalization == Normalization::kGlobal) return -1;
    int span = 0;
    for (const Group& group : groups_) span = std::max(span, (group.length - 1) * group.requested);
    // A frame is final once the snippets covering it (the last ends `span` frames later) have
    // left the window; a solve runs every `solve_every` frames, and a batch waits for its
    // snippets (each frame completes one per dilation).
    const int batch_frames = (opt_.pipeline.batch_size + static_cast<int>(groups_.size()) - 1) /
                             static_cast<int>(groups_.size());
    return span + opt_.window + opt_.solve_every - 1 + batch_frames - 1 + frame_batch_ - 1;
  }

  int64_t memory_bytes() const {
    int64_t total = 0;
    for (const auto& [key, prediction] : predictions_) total += prediction.first.size() * sizeof(float);
    if (window_) total += window_->bytes();
    total += normalizer_ ? normalizer_->bytes() : 0;
    total += static_cast<int64_t>(pending_.size()) * 3 * padded_h_ * padded_w_ * sizeof(float);
    return total;
  }

 private:
  struct Group {
    int requested = 1;
    int length = 3;
    int dilation = 0;  // 0 until decided (cap_dilation on a video of unknown length)
    int next_start = 0;
  };
  struct Ready {
    int group;
    int start;
    std::vector<int> frames;
  };

  absl::Status Start(cv::Size size) {
    height_ = size.height;
    width_ = size.width;
    const int multiple = std::max(1, model_.contract().size_multiple);
    padded_h_ = RoundUp(height_, multiple);
    padded_w_ = RoundUp(width_, multiple);
    summary_.processing_width = width_;
    summary_.processing_height = height_;
    const bool restore = !opt_.output_size.empty() && opt_.output_size != size;
    summary_.output_width = restore ? opt_.output_size.width : width_;
    summary_.output_height = restore ? opt_.output_size.height : height_;
    DEPTHD_ASSIGN_OR_RETURN(video_, model_.NewVideo(padded_h_, padded_w_, opt_.pipeline.seed));
    frame_batch_ = std::max(1, video_->frame_batch());
    if (opt_.scope == CoalignScope::kWindowed) {
      WindowOptions window;
      window.window = opt_.window;
      window.solve_every = opt_.solve_every;
      window.coalign = opt_.pipeline.coalign;
      window.coalign.cancelled = opt_.cancelled;
      window_ = std::make_unique<WindowedCoalignment>(height_, width_, lengths_, window);
    }
    return absl::OkStatus();
  }

  absl::Status CheckCancelled() const {
    if (opt_.cancelled && opt_.cancelled()) return absl::CancelledError("job cancelled");
    return absl::OkStatus();
  }

  // Frames waiting for the model go in, then every snippet whose frames are all in is ready.
  absl::Status AddToModel() {
    if (pending_.empty()) return absl::OkStatus();
    const auto start = Clock::now();
    auto batch = TorchCall("batching frames", [&] { return torch::stack(pending_); });
    if (!batch.ok()) return batch.status();
    {
      auto turn = Turn();
      DEPTHD_RETURN_IF_ERROR(video_->AddFrames(*batch, frames_added_));
    }
    const int added = static_cast<int>(pending_.size());
    pending_.clear();
    summary_.stage_seconds[kStageInference] += SecondsSince(start);
    for (int i = 0; i < added; ++i) {
      ++frames_added_;
      for (size_t g = 0; g < groups_.size(); ++g) FormSnippets(static_cast<int>(g));
    }
    return absl::OkStatus();
  }

  void FormSnippets(int g) {
    Group& group = groups_[g];
    if (group.dilation == 0) return;
    const int span = (group.length - 1) * group.dilation;
    while (group.next_start + span <= frames_added_ - 1) {
      Ready ready{g, group.next_start, {}};
      for (int j = 0; j < group.length; ++j) ready.frames.push_back(group.next_start + j * group.dilation);
      ready_.push_back(std::move(ready));
      ++group.next_start;
    }
  }

  std::optional<DeviceQueue::Turn> Turn() {
    if (opt_.device == nullptr) return std::nullopt;
    return opt_.device->Acquire(opt_.device_priority);
  }

  absl::Status Predict(bool flush) {
    // Groups decided late (cap_dilation) may have snippets for frames already in.
    for (size_t g = 0; g < groups_.size(); ++g) FormSnippets(static_cast<int>(g));
    const int batch_size = opt_.pipeline.batch_size;
    while (static_cast<int>(ready_.size()) >= batch_size || (flush && !ready_.empty())) {
      DEPTHD_RETURN_IF_ERROR(CheckCancelled());
      const int count = std::min<int>(batch_size, static_cast<int>(ready_.size()));
      std::vector<std::vector<int>> snippets;
      for (int i = 0; i < count; ++i) snippets.push_back(ready_[i].frames);
      const auto start = Clock::now();
      absl::StatusOr<torch::Tensor> prediction;
      {
        auto turn = Turn();
        prediction = video_->PredictSnippets(snippets);
      }
      if (!prediction.ok()) return prediction.status();
      summary_.stage_seconds[kStageInference] += SecondsSince(start);
      const torch::Tensor out = prediction->contiguous();
      const int64_t plane = static_cast<int64_t>(padded_h_) * padded_w_;
      const int length = static_cast<int>(out.size(1));
      for (int i = 0; i < count; ++i) {
        const Ready& ready = ready_[i];
        const float* src = out.data_ptr<float>() + static_cast<int64_t>(i) * length * plane;
        DEPTHD_RETURN_IF_ERROR(Keep(ready, src, plane));
      }
      snippets_predicted_ += count;
      ready_.erase(ready_.begin(), ready_.begin() + count);
      if (opt_.progress) opt_.progress(kStageInference, snippets_predicted_, 0);
      ReleaseFrames();
    }
    return absl::OkStatus();
  }

  // A predicted snippet goes to the window or, with the global scope, waits for the end.
  absl::Status Keep(const Ready& ready, const float* src, int64_t plane) {
    if (window_) {
      return window_->Add(ready.group, ready.frames, src, padded_w_, plane);
    }
    const int64_t P = static_cast<int64_t>(height_) * width_;
    std::vector<float> depth(ready.frames.size() * P);
    std::vector<DepthRange> ranges;
    for (size_t j = 0; j < ready.frames.size(); ++j) {
      float* dst = depth.data() + j * P;
      for (int y = 0; y < height_; ++y) {
        std::copy_n(src + j * plane + static_cast<int64_t>(y) * padded_w_, width_,
                    dst + static_cast<int64_t>(y) * width_);
      }
      ranges.push_back(RangeOf(dst, P));
    }
    predictions_[{ready.group, ready.start}] = {std::move(depth), std::move(ranges)};
    return absl::OkStatus();
  }

  // Frames no future snippet names are released from the model's video (refinement needs all).
  void ReleaseFrames() {
    if (opt_.pipeline.refine_step > 0) return;
    int needed = frames_added_;
    for (const Group& group : groups_) {
      if (group.dilation == 0) return;
      needed = std::min(needed, group.next_start);
    }
    for (const Ready& ready : ready_) needed = std::min(needed, ready.frames.front());
    video_->ReleaseFramesBefore(needed);
  }

  // Every snippet that ends at or before the returned frame has been predicted.
  int PredictedThrough() const {
    int through = frames_added_ - 1;
    for (const Group& group : groups_) {
      if (group.dilation == 0) return -1;
    }
    for (const Ready& ready : ready_) through = std::min(through, ready.frames.back() - 1);
    return through;
  }

  int MaxSpan() const {
    int span = 0;
    for (const Group& group : groups_) span = std::max(span, (group.length - 1) * group.dilation);
    return span;
  }

  absl::Status Advance(bool finished) {
    if (!window_) return absl::OkStatus();
    const auto start = Clock::now();
    const double encode_before = encode_seconds_;
    const int before = window_->stats().iterations;
    DEPTHD_RETURN_IF_ERROR(window_->Advance(finished ? frames_in_ - 1 : PredictedThrough(),
                                            MaxSpan(), finished, frames_in_,
                                            [&](int index, const cv::Mat& merged) {
                                              return normalizer_->Add(index, merged, Sink());
                                            }));
    summary_.stage_seconds[kStageCoalign] += SecondsSince(start) - (encode_seconds_ - encode_before);
    const WindowStats& stats = window_->stats();
    summary_.coalign.iterations = stats.iterations;
    summary_.coalign.converged = stats.converged;
    summary_.coalign.final_loss = stats.last_loss;
    summary_.solves = stats.solves;
    if (opt_.progress && stats.iterations != before) {
      opt_.progress(kStageCoalign, stats.solves, 0);
    }
    return absl::OkStatus();
  }

  // The whole video at once, as RollingDepth runs it: co-align, refine, merge.
  absl::Status FinishGlobal(SnippetPlan plan) {
    SnippetDepths depths = SnippetDepths::Empty(std::move(plan), height_, width_);
    for (auto& [key, prediction] : predictions_) {
      depths.Adopt(key.first, key.second, std::move(prediction.first), prediction.second);
    }
    predictions_.clear();
    auto start = Clock::now();
    CoalignOptions coalign = opt_.pipeline.coalign;
    coalign.cancelled = opt_.cancelled;
    if (opt_.progress) {
      coalign.progress = [&](int done, int total) { opt_.progress(kStageCoalign, done, total); };
    }
    DEPTHD_ASSIGN_OR_RETURN(summary_.coalign, Coalign(depths, coalign));
    summary_.stage_seconds[kStageCoalign] = SecondsSince(start);
    if (opt_.pipeline.refine_step > 0) {
      start = Clock::now();
      DEPTHD_ASSIGN_OR_RETURN(torch::Tensor refined, Refine(depths));
      summary_.stage_seconds[kStageRefine] = SecondsSince(start);
      start = Clock::now();
      const double encode_before = encode_seconds_;
      for (int f = 0; f < summary_.frames; ++f) {
        const cv::Mat frame(height_, width_, CV_32FC1, refined[f].data_ptr<float>());
        DEPTHD_RETURN_IF_ERROR(normalizer_->Add(f, frame, Sink()));
      }
      summary_.stage_seconds[kStageMerge] += SecondsSince(start) - (encode_seconds_ - encode_before);
      return absl::OkStatus();
    }
    start = Clock::now();
    const double encode_before = encode_seconds_;
    if (opt_.normalization == Normalization::kGlobal) {
      // RollingDepth's output exactly: a range pass, then the normalised pass.
      DEPTHD_RETURN_IF_ERROR(MergeAndNormalize(depths, summary_.coalign, Sink(), &merged_range_));
      merged_in_place_ = true;
    } else {
      DEPTHD_RETURN_IF_ERROR(MergeAligned(depths, summary_.coalign, [&](int index, const cv::Mat& merged) {
        return normalizer_->Add(index, merged, Sink());
      }));
    }
    summary_.stage_seconds[kStageMerge] += SecondsSince(start) - (encode_seconds_ - encode_before);
    return absl::OkStatus();
  }

  // RollingDepth's refinement: the co-aligned video, normalised to [-1, 1], goes back through the
  // model; the result [N, H, W] is min-max normalised to [0, 1] like the merge's output.
  absl::StatusOr<torch::Tensor> Refine(const SnippetDepths& depths) {
    const int frames = depths.plan().num_frames;
    torch::Tensor coaligned = torch::empty({frames, 1, padded_h_, padded_w_}, torch::kFloat32);
    DEPTHD_RETURN_IF_ERROR(MergeAndNormalize(
        depths, summary_.coalign, [&](int index, const cv::Mat& depth) -> absl::Status {
          cv::Mat padded;
          cv::copyMakeBorder(depth, padded, 0, padded_h_ - height_, 0, padded_w_ - width_,
                             cv::BORDER_REPLICATE);
          cv::Mat dst(padded_h_, padded_w_, CV_32FC1,
                      coaligned.data_ptr<float>() + static_cast<int64_t>(index) * padded_h_ * padded_w_);
          padded.convertTo(dst, CV_32FC1, 2.0, -1.0);
          return absl::OkStatus();
        }));
    RefineOptions params;
    params.refine_step = opt_.pipeline.refine_step;
    params.snippet_length = opt_.pipeline.refine_snippet_len;
    params.start_dilation = opt_.pipeline.refine_start_dilation;
    params.cap_dilation = opt_.pipeline.snippets.cap_dilation;
    params.batch_size = opt_.pipeline.batch_size;
    params.cancelled = opt_.cancelled;
    absl::StatusOr<torch::Tensor> result;
    {
      auto turn = Turn();
      result = video_->Refine(coaligned, params);
    }
    DEPTHD_ASSIGN_OR_RETURN(torch::Tensor refined, std::move(result));
    auto normalised = TorchCall("normalising the refined depth", [&] {
      torch::Tensor r = refined.narrow(2, 0, height_).narrow(3, 0, width_).contiguous();
      const bool finite = torch::isfinite(r).all().item<bool>();
      const float lo = r.min().item<float>(), hi = r.max().item<float>();
      r.sub_(lo).div_(hi > lo ? hi - lo : 1.0f);
      return std::make_pair(finite, r.view({frames, height_, width_}));
    });
    if (!normalised.ok()) return normalised.status();
    if (!normalised->first) {
      return absl::InternalError(absl::StrCat("model ", model_.contract().name,
                                              " returned non-finite depth from refinement"));
    }
    return normalised->second;
  }

  // Where final frames go: resized when asked, timed as encode_output, counted.
  FrameSink Sink() {
    return [this](int index, const cv::Mat& depth) -> absl::Status {
      DEPTHD_RETURN_IF_ERROR(CheckCancelled());
      const cv::Mat* frame = &depth;
      cv::Mat restored;
      if (summary_.output_width != width_ || summary_.output_height != height_) {
        restored = ResizeTo(depth, cv::Size(summary_.output_width, summary_.output_height),
                            opt_.pipeline.resample);
        frame = &restored;
      }
      const auto start = Clock::now();
      absl::Status status = opt_.on_frame ? opt_.on_frame(index, *frame) : absl::OkStatus();
      encode_seconds_ += SecondsSince(start);
      ++frames_out_;
      if (opt_.progress) opt_.progress(kStageMerge, frames_out_, finished_ ? frames_in_ : 0);
      return status;
    };
  }

  DepthModel& model_;
  SessionOptions opt_;
  std::unique_ptr<ModelVideo> video_;
  int height_ = 0, width_ = 0, padded_h_ = 0, padded_w_ = 0;
  int frame_batch_ = 1;
  std::vector<Group> groups_;
  std::vector<int> lengths_;
  std::vector<torch::Tensor> pending_;  // frames not yet given to the model
  std::deque<Ready> ready_;              // snippets whose frames are in, not yet predicted
  int frames_in_ = 0, frames_added_ = 0, frames_out_ = 0;
  int snippets_predicted_ = 0;
  bool finished_ = false;
  // Global scope: every prediction until the end, by (group, start).
  std::map<std::pair<int, int>, std::pair<std::vector<float>, std::vector<DepthRange>>> predictions_;
  std::unique_ptr<WindowedCoalignment> window_;
  std::unique_ptr<DepthNormalizer> normalizer_;
  // Global scope and normalisation: the range MergeAndNormalize used.
  bool merged_in_place_ = false;
  std::pair<double, double> merged_range_{0.0, 0.0};
  double encode_seconds_ = 0.0;
  PipelineSummary summary_;
};

absl::StatusOr<std::unique_ptr<VideoSession>> VideoSession::Create(DepthModel& model,
                                                                   SessionOptions options) {
  auto impl = std::make_unique<Impl>(model, std::move(options));
  DEPTHD_RETURN_IF_ERROR(impl->Init());
  return std::unique_ptr<VideoSession>(new VideoSession(std::move(impl)));
}

VideoSession::VideoSession(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VideoSession::~VideoSession() = default;
absl::Status VideoSession::PushFrame(const cv::Mat& rgb) { return impl_->PushFrame(rgb); }
absl::Status VideoSession::Finish() { return impl_->Finish(); }
int VideoSession::frames_in() const { return impl_->frames_in(); }
int VideoSession::frames_out() const { return impl_->frames_out(); }
const PipelineSummary& VideoSession::summary() const { return impl_->summary(); }
int VideoSession::latency_frames() const { return impl_->latency_frames(); }
int64_t VideoSession::memory_bytes() const { return impl_->memory_bytes(); }

}  // namespace depthd
