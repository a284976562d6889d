#include "core/merge.h"

#include <algorithm>
#include <limits>
#include <tuple>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/media/depth_image.h"
#include "core/status_macros.h"

namespace depthd {
namespace {

struct SlotRef {
  int group, snippet, position;
};

// For every frame, the snippet frames that show it.
std::vector<std::vector<SlotRef>> FrameSlots(const SnippetPlan& plan) {
  std::vector<std::vector<SlotRef>> slots(plan.num_frames);
  for (size_t g = 0; g < plan.groups.size(); ++g) {
    const SnippetGroup& group = plan.groups[g];
    for (size_t i = 0; i < group.snippets.size(); ++i) {
      for (int j = 0; j < group.snippet_length; ++j) {
        slots[group.snippets[i][j]].push_back(
            {static_cast<int>(g), static_cast<int>(i), j});
      }
    }
  }
  return slots;
}

// Mean of s * (x - min_offset) + t over the frame's snippet frames.
void MergeFrame(const SnippetDepths& depths, const CoalignResult& alignment,
                const std::vector<SlotRef>& slots, cv::Mat* out) {
  out->create(depths.height(), depths.width(), CV_32FC1);
  float* dst = out->ptr<float>();
  const int64_t P = depths.pixels();
  std::fill(dst, dst + P, 0.0f);
  for (const SlotRef& ref : slots) {
    const float s = alignment.scales[ref.group][ref.snippet];
    const float t = alignment.shifts[ref.group][ref.snippet] - s * alignment.min_offset;
    const float* x = depths.Slot(ref.group, ref.snippet, ref.position);
    for (int64_t p = 0; p < P; ++p) dst[p] += s * x[p] + t;
  }
  const float inv_count = 1.0f / static_cast<float>(slots.size());
  for (int64_t p = 0; p < P; ++p) dst[p] *= inv_count;
}


absl::Status CheckAlignment(const SnippetDepths& depths, const CoalignResult& alignment) {
  const SnippetPlan& plan = depths.plan();
  if (alignment.scales.size() != plan.groups.size()) {
    return absl::InvalidArgumentError("alignment does not match the snippet plan");
  }
  for (size_t g = 0; g < plan.groups.size(); ++g) {
    if (alignment.scales[g].size() != plan.groups[g].snippets.size() ||
        alignment.shifts[g].size() != plan.groups[g].snippets.size()) {
      return absl::InvalidArgumentError("alignment does not match the snippet plan");
    }
  }
  for (int count : plan.CoverageCounts()) {
    if (count == 0) return absl::InvalidArgumentError("a frame is covered by no snippet");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status MergeAligned(const SnippetDepths& depths, const CoalignResult& alignment,
                          const FrameSink& sink) {
  DEPTHD_RETURN_IF_ERROR(CheckAlignment(depths, alignment));
  const auto frame_slots = FrameSlots(depths.plan());
  cv::Mat frame;
  for (int f = 0; f < depths.plan().num_frames; ++f) {
    MergeFrame(depths, alignment, frame_slots[f], &frame);
    DEPTHD_RETURN_IF_ERROR(sink(f, frame));
  }
  return absl::OkStatus();
}

absl::Status MergeAndNormalize(const SnippetDepths& depths, const CoalignResult& alignment,
                               const FrameSink& sink, std::pair<double, double>* range) {
  DEPTHD_RETURN_IF_ERROR(CheckAlignment(depths, alignment));
  const SnippetPlan& plan = depths.plan();
  const auto frame_slots = FrameSlots(plan);

  // Pass 1: the video's range. Merging a frame is cheap next to holding them all.
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  cv::Mat frame;
  for (int f = 0; f < plan.num_frames; ++f) {
    MergeFrame(depths, alignment, frame_slots[f], &frame);
    double fmin, fmax;
    cv::minMaxLoc(frame, &fmin, &fmax);
    lo = std::min(lo, fmin);
    hi = std::max(hi, fmax);
  }
  if (range != nullptr) *range = {lo, hi};
  // Pass 2: normalise and hand out.
  for (int f = 0; f < plan.num_frames; ++f) {
    MergeFrame(depths, alignment, frame_slots[f], &frame);
    NormalizeDepth(lo, hi, &frame);
    DEPTHD_RETURN_IF_ERROR(sink(f, frame));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<cv::Mat>> MergeToFrames(const SnippetDepths& depths,
                                                   const CoalignResult& alignment) {
  std::vector<cv::Mat> frames;
  DEPTHD_RETURN_IF_ERROR(MergeAndNormalize(depths, alignment, [&](int, const cv::Mat& depth) {
    frames.push_back(depth.clone());
    return absl::OkStatus();
  }));
  return frames;
}

}  // namespace depthd
