#include "core/coalign.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include <ATen/Parallel.h>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "core/coalign_internal.h"
#include "core/status_macros.h"

namespace depthd {
namespace coalign_internal {
std::vector<int> SampledCoordinates(int size, int border, int factor) {
  // A border wider than the frame would leave nothing: fall back to no crop.
  if (size - 2 * border <= 0) border = 0;
  std::vector<int> coords;
  for (int i = border; i < size - border; i += factor) coords.push_back(i);
  return coords;
}

namespace {

// The per-frame means of A = s x + t and of 1 / A over the frame's snippet frames, and their
// mean magnitudes (the reference's normalisers), for frame f.
void FrameTarget(const SampledSnippets& sampled, const std::vector<double>& s,
                 const std::vector<double>& t, int64_t f, std::vector<double>* sum,
                 std::vector<double>* inv_sum, FrameTargets* targets) {
  const int64_t P = sampled.pixels;
  std::fill(sum->begin(), sum->end(), 0.0);
  std::fill(inv_sum->begin(), inv_sum->end(), 0.0);
  const auto& slots = sampled.frame_slots[f];
  for (int64_t slot : slots) {
    const int snippet = sampled.slot_snippet[slot];
    const float sc = static_cast<float>(s[snippet]);
    const float sh = static_cast<float>(t[snippet]);
    const float* x = sampled.values.data() + slot * P;
    for (int64_t p = 0; p < P; ++p) {
      const float a = sc * x[p] + sh;
      (*sum)[p] += a;
      (*inv_sum)[p] += 1.0f / std::max(a, 1e-3f);
    }
  }
  const double count = static_cast<double>(slots.size());
  float* m = targets->mean.data() + f * P;
  float* md = targets->inverse_mean.data() + f * P;
  double abs_sum = 0.0, inv_abs_sum = 0.0;
  for (int64_t p = 0; p < P; ++p) {
    m[p] = static_cast<float>((*sum)[p] / count);
    md[p] = static_cast<float>((*inv_sum)[p] / count);
    abs_sum += std::fabs(m[p]);
    inv_abs_sum += std::fabs(md[p]);
  }
  // Guard against an all-zero frame (constant depth), where the reference would divide by 0.
  targets->scale[f] = std::max(abs_sum / P, 1e-12);
  targets->inverse_scale[f] = std::max(inv_abs_sum / P, 1e-12);
}

void ResizeTargets(const SampledSnippets& sampled, FrameTargets* targets) {
  targets->mean.resize(static_cast<size_t>(sampled.num_frames * sampled.pixels));
  targets->inverse_mean.resize(static_cast<size_t>(sampled.num_frames * sampled.pixels));
  targets->scale.resize(sampled.num_frames);
  targets->inverse_scale.resize(sampled.num_frames);
}

}  // namespace

absl::StatusOr<SampledSnippets> Sample(const SnippetDepths& depths,
                                       const CoalignOptions& options) {
  const SnippetPlan& plan = depths.plan();
  if (plan.TotalSnippets() == 0 || depths.pixels() == 0) {
    return absl::InvalidArgumentError("co-alignment needs at least one snippet prediction");
  }
  if (options.factor < 1 || options.border < 0) {
    return absl::InvalidArgumentError(absl::StrCat("co-alignment sampling factor ",
                                                   options.factor, " / border ", options.border,
                                                   " is invalid"));
  }

  SampledSnippets out;
  out.num_frames = plan.num_frames;
  out.frame_slots.resize(plan.num_frames);

  // Global minimum over every prediction, and a NaN/Inf check on the way. The pipeline records
  // both as it writes the predictions; slots written otherwise are read here, over threads.
  const int64_t num_slots = depths.num_slots();
  std::vector<DepthRange> ranges(num_slots);
  at::parallel_for(0, num_slots, 1, [&](int64_t begin, int64_t end) {
    for (int64_t k = begin; k < end; ++k) ranges[k] = depths.Range(k);
  });
  float min_value = std::numeric_limits<float>::infinity();
  for (size_t g = 0; g < plan.groups.size(); ++g) {
    const SnippetGroup& group = plan.groups[g];
    for (size_t i = 0; i < group.snippets.size(); ++i) {
      for (int j = 0; j < group.snippet_length; ++j) {
        const int64_t slot = depths.SlotIndex(g, i, j);
        if (!ranges[slot].finite) {
          return absl::InvalidArgumentError(absl::StrCat(
              "snippet prediction for frame ", group.snippets[i][j], " (dilation ",
              group.dilation, ") contains NaN or Inf; the model produced invalid depth"));
        }
        min_value = std::min(min_value, ranges[slot].min);
      }
    }
  }
  out.min_offset = min_value;

  const std::vector<int> rows = SampledCoordinates(depths.height(), options.border, options.factor);
  const std::vector<int> cols = SampledCoordinates(depths.width(), options.border, options.factor);
  out.pixels = static_cast<int64_t>(rows.size()) * cols.size();
  out.num_slots = depths.num_slots();
  out.values.resize(static_cast<size_t>(out.num_slots * out.pixels));

  int snippet_index = 0;
  for (size_t g = 0; g < plan.groups.size(); ++g) {
    const SnippetGroup& group = plan.groups[g];
    out.total_positions += group.snippet_length;
    out.group_first.push_back(snippet_index);
    out.group_sizes.push_back(static_cast<int>(group.snippets.size()));
    for (size_t i = 0; i < group.snippets.size(); ++i, ++snippet_index) {
      out.snippet_group.push_back(static_cast<int>(g));
      out.snippet_slots.emplace_back();
      for (int j = 0; j < group.snippet_length; ++j) {
        const int64_t slot = depths.SlotIndex(g, i, j);
        const int frame = group.snippets[i][j];
        if (static_cast<int64_t>(out.slot_frame.size()) <= slot) {
          out.slot_frame.resize(slot + 1);
          out.slot_snippet.resize(slot + 1);
        }
        out.slot_frame[slot] = frame;
        out.slot_snippet[slot] = snippet_index;
        out.frame_slots[frame].push_back(slot);
        out.snippet_slots.back().push_back(slot);
        const float* src = depths.Slot(g, i, j);
        float* dst = out.values.data() + slot * out.pixels;
        for (int r : rows) {
          const float* row = src + static_cast<int64_t>(r) * depths.width();
          for (int c : cols) *dst++ = row[c] - min_value;
        }
      }
    }
  }
  return out;
}

int SampledSnippets::FreeInGroup(int group) const {
  if (fixed.empty()) return group_sizes[group];
  int free = 0;
  for (int i = 0; i < group_sizes[group]; ++i) free += fixed[group_first[group] + i] ? 0 : 1;
  return free;
}

double SoftConstraints(const SampledSnippets& sampled, const std::vector<double>& s,
                       const std::vector<double>& t) {
  double total = 0.0;
  for (size_t g = 0; g < sampled.group_sizes.size(); ++g) {
    const int free = sampled.FreeInGroup(static_cast<int>(g));
    if (free == 0) continue;
    double scale_term = 0.0, shift_term = 0.0;
    for (int i = 0; i < sampled.group_sizes[g]; ++i) {
      const int k = sampled.group_first[g] + i;
      if (sampled.is_fixed(k)) continue;
      const double below = std::max(0.0, 1.0 - s[k]);
      scale_term += below * below;
      shift_term += t[k] * t[k];
    }
    total += (0.1 * scale_term + 10.0 * shift_term) / sampled.SoftCount(static_cast<int>(g));
  }
  return total;
}

double Objective(const SampledSnippets& sampled, const std::vector<double>& s,
                 const std::vector<double>& t) {
  FrameTargets targets;
  return Objective(sampled, s, t, &targets);
}

double Objective(const SampledSnippets& sampled, const std::vector<double>& s,
                 const std::vector<double>& t, FrameTargets* targets) {
  ResizeTargets(sampled, targets);
  const int64_t P = sampled.pixels;
  std::vector<double> per_frame(sampled.num_frames, 0.0);
  // Targets and data terms frame by frame, so a frame's snippet frames are read from memory
  // once and reused from cache (on long videos the sampled set no longer fits in it).
  at::parallel_for(0, sampled.num_frames, 1, [&](int64_t begin, int64_t end) {
    std::vector<double> sum(P), inv_sum(P);
    for (int64_t f = begin; f < end; ++f) {
      FrameTarget(sampled, s, t, f, &sum, &inv_sum, targets);
      const float* m = targets->mean.data() + f * P;
      const float* md = targets->inverse_mean.data() + f * P;
      double depth_sum = 0.0, inverse_sum = 0.0;
      for (int64_t slot : sampled.frame_slots[f]) {
        const int snippet = sampled.slot_snippet[slot];
        const float sc = static_cast<float>(s[snippet]);
        const float sh = static_cast<float>(t[snippet]);
        const float* x = sampled.values.data() + slot * P;
        // Float partial sums per slot, reduced in SIMD lanes; slots are ~10^3 pixels.
        float ds = 0, is = 0;
#pragma omp simd reduction(+ : ds, is)
        for (int64_t p = 0; p < P; ++p) {
          const float a = sc * x[p] + sh;
          ds += std::fabs(a - m[p]);
          is += std::fabs(1.0f / std::max(a, 1e-3f) - md[p]);
        }
        depth_sum += ds;
        inverse_sum += is;
      }
      per_frame[f] = depth_sum / targets->scale[f] + inverse_sum / targets->inverse_scale[f];
    }
  });
  double data = 0.0;
  for (double v : per_frame) data += v;
  return data / sampled.Normaliser() + SoftConstraints(sampled, s, t);
}

CoalignResult ToResult(const SampledSnippets& sampled, const std::vector<double>& s,
                       const std::vector<double>& t) {
  CoalignResult result;
  result.min_offset = sampled.min_offset;
  for (size_t g = 0; g < sampled.group_sizes.size(); ++g) {
    std::vector<float> scales, shifts;
    for (int i = 0; i < sampled.group_sizes[g]; ++i) {
      scales.push_back(static_cast<float>(s[sampled.group_first[g] + i]));
      shifts.push_back(static_cast<float>(t[sampled.group_first[g] + i]));
    }
    result.scales.push_back(std::move(scales));
    result.shifts.push_back(std::move(shifts));
  }
  return result;
}

}  // namespace coalign_internal

absl::StatusOr<CoalignResult> Coalign(const SnippetDepths& depths, const CoalignOptions& options) {
  if (options.max_iterations < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("coalign max_iterations must be >= 1, got ", options.max_iterations));
  }
  if (!(options.tolerance > 0.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("coalign tolerance must be > 0, got ", options.tolerance));
  }
  if (options.patience < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("coalign patience must be >= 1, got ", options.patience));
  }
  DEPTHD_ASSIGN_OR_RETURN(const coalign_internal::SampledSnippets sampled,
                          coalign_internal::Sample(depths, options));
  switch (options.solver) {
    case CoalignSolver::kReference:
      return coalign_internal::SolveReference(sampled, options, /*early_stop=*/false);
    case CoalignSolver::kEarlyStop:
      return coalign_internal::SolveReference(sampled, options, /*early_stop=*/true);
    case CoalignSolver::kFast:
      return coalign_internal::SolveFast(sampled, options);
  }
  return absl::InvalidArgumentError("unknown co-alignment solver");
}

CoalignResult IdentityAlignment(const SnippetDepths& depths) {
  CoalignResult result;
  float min_value = std::numeric_limits<float>::infinity();
  const SnippetPlan& plan = depths.plan();
  for (size_t g = 0; g < plan.groups.size(); ++g) {
    const SnippetGroup& group = plan.groups[g];
    for (size_t i = 0; i < group.snippets.size(); ++i) {
      for (int j = 0; j < group.snippet_length; ++j) {
        const float* data = depths.Slot(g, i, j);
        for (int64_t p = 0; p < depths.pixels(); ++p) min_value = std::min(min_value, data[p]);
      }
    }
    result.scales.emplace_back(group.snippets.size(), 1.0f);
    result.shifts.emplace_back(group.snippets.size(), 0.0f);
  }
  result.min_offset = std::isfinite(min_value) ? min_value : 0.0f;
  result.converged = true;
  return result;
}

absl::StatusOr<double> ReferenceObjective(const SnippetDepths& depths,
                                          const CoalignResult& alignment,
                                          const CoalignOptions& options) {
  DEPTHD_ASSIGN_OR_RETURN(const coalign_internal::SampledSnippets sampled,
                          coalign_internal::Sample(depths, options));
  std::vector<double> s, t;
  for (size_t g = 0; g < alignment.scales.size(); ++g) {
    if (g >= sampled.group_sizes.size() ||
        static_cast<int>(alignment.scales[g].size()) != sampled.group_sizes[g] ||
        alignment.shifts[g].size() != alignment.scales[g].size()) {
      return absl::InvalidArgumentError("alignment does not match the snippet plan");
    }
    s.insert(s.end(), alignment.scales[g].begin(), alignment.scales[g].end());
    t.insert(t.end(), alignment.shifts[g].begin(), alignment.shifts[g].end());
  }
  if (static_cast<int>(s.size()) != static_cast<int>(sampled.snippet_slots.size())) {
    return absl::InvalidArgumentError("alignment does not match the snippet plan");
  }
  return coalign_internal::Objective(sampled, s, t);
}

}  // namespace depthd
