#include "core/coalign_window.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/coalign_internal.h"
#include "core/status_macros.h"

namespace depthd {

struct WindowedCoalignment::Snippet {
  int group = 0;
  std::vector<int> frames;
  std::vector<float> depth;    // full resolution, position-major; freed once frozen
  std::vector<float> sampled;  // the solver's pixels, position-major, as predicted (no offset)
  bool solved = false;         // has an alignment (warm start for the next solve)
  bool frozen = false;
  double scale = 1.0, bias = 0.0;  // aligned depth = scale * prediction + bias
  int last() const { return frames.back(); }
};

// A frame that is not final yet: the sum of its frozen snippets' aligned depth.
struct WindowedCoalignment::Accumulator {
  cv::Mat sum;  // CV_32FC1
  int count = 0;
};

WindowedCoalignment::WindowedCoalignment(int height, int width, std::vector<int> snippet_lengths,
                                         WindowOptions options)
    : height_(height),
      width_(width),
      lengths_(std::move(snippet_lengths)),
      options_(std::move(options)),
      min_value_(std::numeric_limits<float>::infinity()) {
  rows_ = coalign_internal::SampledCoordinates(height_, options_.coalign.border,
                                               options_.coalign.factor);
  cols_ = coalign_internal::SampledCoordinates(width_, options_.coalign.border,
                                               options_.coalign.factor);
}

WindowedCoalignment::~WindowedCoalignment() = default;

absl::Status WindowedCoalignment::Add(int group, const std::vector<int>& frames,
                                      const float* depth, int64_t row_stride,
                                      int64_t plane_stride) {
  auto snippet = std::make_unique<Snippet>();
  snippet->group = group;
  snippet->frames = frames;
  const int64_t P = static_cast<int64_t>(height_) * width_;
  const int64_t sampled_pixels = static_cast<int64_t>(rows_.size()) * cols_.size();
  snippet->depth.resize(frames.size() * P);
  snippet->sampled.resize(frames.size() * sampled_pixels);
  for (size_t j = 0; j < frames.size(); ++j) {
    const float* src = depth + j * plane_stride;
    float* dst = snippet->depth.data() + j * P;
    for (int y = 0; y < height_; ++y) {
      std::copy_n(src + y * row_stride, width_, dst + static_cast<int64_t>(y) * width_);
    }
    const DepthRange range = RangeOf(dst, P);
    if (!range.finite) {
      return absl::InvalidArgumentError(absl::StrCat(
          "snippet prediction for frame ", frames[j],
          " contains NaN or Inf; the model produced invalid depth"));
    }
    min_value_ = std::min(min_value_, range.min);
    float* out = snippet->sampled.data() + j * sampled_pixels;
    for (int r : rows_) {
      for (int c : cols_) *out++ = dst[static_cast<int64_t>(r) * width_ + c];
    }
  }
  if (added_.size() < lengths_.size()) added_.resize(lengths_.size(), 0);
  ++added_[group];
  snippets_[{snippet->last(), group}] = std::move(snippet);
  return absl::OkStatus();
}

void WindowedCoalignment::Freeze(Snippet& snippet) {
  snippet.frozen = true;
  const int64_t P = static_cast<int64_t>(height_) * width_;
  const float s = static_cast<float>(snippet.scale);
  const float b = static_cast<float>(snippet.bias);
  for (size_t j = 0; j < snippet.frames.size(); ++j) {
    Accumulator& acc = frames_[snippet.frames[j]];
    if (acc.sum.empty()) acc.sum = cv::Mat::zeros(height_, width_, CV_32FC1);
    float* dst = acc.sum.ptr<float>();
    const float* x = snippet.depth.data() + j * P;
    for (int64_t p = 0; p < P; ++p) dst[p] += s * x[p] + b;
    ++acc.count;
  }
  snippet.depth = std::vector<float>();
}

absl::Status WindowedCoalignment::Solve(int predicted_through) {
  using coalign_internal::SampledSnippets;
  // The window: every snippet not frozen yet, and the frames they cover.
  std::set<int> window_frames;
  for (const auto& [key, snippet] : snippets_) {
    if (!snippet->frozen) window_frames.insert(snippet->frames.begin(), snippet->frames.end());
  }
  if (window_frames.empty()) return absl::OkStatus();
  std::map<int, int> local_frame;
  for (int f : window_frames) local_frame.emplace(f, static_cast<int>(local_frame.size()));

  // Free snippets and the frozen ones that share a frame with them, grouped by group as the
  // solver wants them.
  std::vector<Snippet*> members;
  for (const auto& [key, snippet] : snippets_) {
    bool touches = !snippet->frozen;
    for (int f : snippet->frames) touches = touches || window_frames.count(f) > 0;
    if (touches) members.push_back(snippet.get());
  }
  std::stable_sort(members.begin(), members.end(),
                   [](const Snippet* a, const Snippet* b) { return a->group < b->group; });

  const int64_t P = static_cast<int64_t>(rows_.size()) * cols_.size();
  const float m = min_value_;
  SampledSnippets problem;
  problem.num_frames = static_cast<int>(local_frame.size());
  problem.pixels = P;
  problem.min_offset = m;
  problem.frame_slots.resize(problem.num_frames);
  for (int length : lengths_) problem.total_positions += length;
  problem.group_sizes.assign(lengths_.size(), 0);
  problem.group_first.assign(lengths_.size(), 0);
  const int S = static_cast<int>(members.size());
  std::vector<double> s(S), t(S);
  bool any_solved = false;
  for (int k = 0; k < S; ++k) {
    const Snippet& snippet = *members[k];
    problem.snippet_group.push_back(snippet.group);
    problem.fixed.push_back(snippet.frozen ? 1 : 0);
    problem.snippet_slots.emplace_back();
    ++problem.group_sizes[snippet.group];
    for (size_t j = 0; j < snippet.frames.size(); ++j) {
      auto it = local_frame.find(snippet.frames[j]);
      if (it == local_frame.end()) continue;
      const int64_t slot = problem.num_slots++;
      problem.slot_frame.push_back(it->second);
      problem.slot_snippet.push_back(k);
      problem.frame_slots[it->second].push_back(slot);
      problem.snippet_slots.back().push_back(slot);
      const float* x = snippet.sampled.data() + j * P;
      for (int64_t p = 0; p < P; ++p) problem.values.push_back(x[p] - m);
    }
    // In the offset coordinates of this solve: A = s (x - m) + t = scale x + bias.
    s[k] = snippet.scale;
    t[k] = snippet.bias + snippet.scale * m;
    any_solved = any_solved || snippet.solved;
  }
  for (size_t g = 1; g < lengths_.size(); ++g) {
    problem.group_first[g] = problem.group_first[g - 1] + problem.group_sizes[g - 1];
  }
  if (!any_solved) {
    problem.fixed.clear();  // the first window: the global problem in small
  } else {
    problem.group_totals = added_;
    for (int& n : problem.group_totals) n = std::min(n, options_.soft_horizon);
  }

  // A snippet seen for the first time starts from the least-squares fit of its prediction to
  // what the aligned snippets already say about its frames (scale held positive), so it does not
  // have to travel from (1, 0) to the video's scale.
  for (int k = 0; k < S; ++k) {
    Snippet& snippet = *members[k];
    if (snippet.solved || snippet.frozen || !any_solved) continue;
    double sx = 0, sy = 0, sxx = 0, sxy = 0, n = 0;
    for (int64_t slot : problem.snippet_slots[k]) {
      const int f = problem.slot_frame[slot];
      std::vector<double> target(P, 0.0);
      int count = 0;
      for (int64_t other : problem.frame_slots[f]) {
        const int o = problem.slot_snippet[other];
        if (!(members[o]->solved || members[o]->frozen)) continue;
        const float* xo = problem.values.data() + other * P;
        for (int64_t p = 0; p < P; ++p) target[p] += s[o] * xo[p] + t[o];
        ++count;
      }
      if (count == 0) continue;
      const float* x = problem.values.data() + slot * P;
      for (int64_t p = 0; p < P; ++p) {
        const double y = target[p] / count;
        sx += x[p];
        sy += y;
        sxx += static_cast<double>(x[p]) * x[p];
        sxy += x[p] * y;
        n += 1;
      }
    }
    if (n > 0) {
      const double var = sxx - sx * sx / n;
      double scale = var > 0 ? (sxy - sx * sy / n) / var : 0.0;
      if (!(scale > 0)) scale = sx > 0 ? sy / sx : 1.0;
      if (!(scale > 0) || !std::isfinite(scale)) scale = 1.0;
      s[k] = scale;
      t[k] = (sy - scale * sx) / n;
    }
  }

  int iterations = 0;
  bool converged = false;
  DEPTHD_RETURN_IF_ERROR(coalign_internal::SolveFastFrom(problem, options_.coalign, &s, &t,
                                                         &iterations, &converged));
  ++stats_.solves;
  stats_.iterations += iterations;
  stats_.converged = stats_.converged && converged;
  stats_.last_loss = coalign_internal::Objective(problem, s, t);
  for (int k = 0; k < S; ++k) {
    Snippet& snippet = *members[k];
    if (snippet.frozen) continue;
    snippet.scale = s[k];
    snippet.bias = t[k] - s[k] * m;
    snippet.solved = true;
  }
  solved_through_ = predicted_through;
  return absl::OkStatus();
}

absl::Status WindowedCoalignment::Advance(int predicted_through, int max_span, bool finished,
                                          int num_frames, const FrameSink& sink) {
  const bool due = finished || predicted_through - solved_through_ >= options_.solve_every;
  if (!due) return absl::OkStatus();
  DEPTHD_RETURN_IF_ERROR(Solve(predicted_through));

  // Snippets that left the window are frozen for good.
  const int free_from = finished ? std::numeric_limits<int>::max()
                                 : predicted_through - options_.window + 1;
  for (auto& [key, snippet] : snippets_) {
    if (!snippet->frozen && snippet->last() < free_from) Freeze(*snippet);
  }
  // Frames whose every snippet is frozen: all snippets covering frame f end by f + max_span.
  const int final_through =
      finished ? num_frames - 1 : std::min(predicted_through, free_from - 1) - max_span;
  cv::Mat merged;
  while (next_final_ <= final_through) {
    auto it = frames_.find(next_final_);
    if (it == frames_.end() || it->second.count == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("frame ", next_final_, " is covered by no snippet with these dilations"));
    }
    merged = it->second.sum / static_cast<float>(it->second.count);
    frames_.erase(it);
    DEPTHD_RETURN_IF_ERROR(sink(next_final_, merged));
    ++next_final_;
  }
  // Frozen snippets that no free or future snippet can share a frame with are done with.
  if (!finished) {
    const int oldest_needed = free_from - max_span;
    for (auto it = snippets_.begin(); it != snippets_.end();) {
      if (it->second->frozen && it->second->last() < oldest_needed) {
        it = snippets_.erase(it);
      } else {
        ++it;
      }
    }
  } else {
    snippets_.clear();
  }
  return absl::OkStatus();
}

int64_t WindowedCoalignment::bytes() const {
  int64_t total = 0;
  for (const auto& [key, snippet] : snippets_) {
    total += (snippet->depth.size() + snippet->sampled.size()) * sizeof(float);
  }
  for (const auto& [frame, acc] : frames_) total += acc.sum.total() * sizeof(float);
  return total;
}

absl::Status CoalignWindowedStream(const SnippetPlan& plan, int height, int width,
                                   const WindowOptions& options, const SnippetSource& source,
                                   const FrameSink& sink, WindowStats* stats) {
  std::vector<int> lengths;
  int span = 0;
  std::vector<std::vector<std::pair<int, int>>> ending(plan.num_frames);
  for (size_t g = 0; g < plan.groups.size(); ++g) {
    const SnippetGroup& group = plan.groups[g];
    lengths.push_back(group.snippet_length);
    span = std::max(span, (group.snippet_length - 1) * group.dilation);
    for (size_t i = 0; i < group.snippets.size(); ++i) {
      ending[group.snippets[i].back()].emplace_back(static_cast<int>(g), static_cast<int>(i));
    }
  }
  WindowedCoalignment window(height, width, lengths, options);
  const int64_t pixels = static_cast<int64_t>(height) * width;
  for (int frame = 0; frame < plan.num_frames; ++frame) {
    for (const auto& [g, i] : ending[frame]) {
      DEPTHD_ASSIGN_OR_RETURN(const float* depth, source(g, i));
      DEPTHD_RETURN_IF_ERROR(window.Add(g, plan.groups[g].snippets[i], depth, width, pixels));
    }
    DEPTHD_RETURN_IF_ERROR(window.Advance(frame, span, false, plan.num_frames, sink));
  }
  DEPTHD_RETURN_IF_ERROR(window.Advance(plan.num_frames - 1, span, true, plan.num_frames, sink));
  if (stats != nullptr) *stats = window.stats();
  return absl::OkStatus();
}

absl::Status CoalignWindowedOffline(const SnippetDepths& depths, const WindowOptions& options,
                                    const FrameSink& sink, WindowStats* stats) {
  return CoalignWindowedStream(
      depths.plan(), depths.height(), depths.width(), options,
      [&](int group, int index) -> absl::StatusOr<const float*> {
        return depths.Slot(group, index, 0);
      },
      sink, stats);
}

}  // namespace depthd
