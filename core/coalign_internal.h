// Internal to co-alignment: the reference's pixel sampling and its objective, shared by the
// solvers, the objective evaluator and the tests.
#ifndef DEPTHD_CORE_COALIGN_INTERNAL_H_
#define DEPTHD_CORE_COALIGN_INTERNAL_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "core/coalign.h"
#include "core/snippet_depths.h"

namespace depthd::coalign_internal {

// Snippet frames at the reference's sampled pixels, minus the global minimum.
struct SampledSnippets {
  int num_frames = 0;
  int64_t pixels = 0;                 // P: sampled pixels per frame
  int64_t num_slots = 0;              // K: snippet frames in total
  int total_positions = 0;            // sum over groups of snippet lengths (rows of M)
  float min_offset = 0.0f;
  std::vector<float> values;          // [K, P]
  std::vector<int> slot_frame;        // [K] frame shown by each slot
  std::vector<int> slot_snippet;      // [K] global snippet index
  std::vector<std::vector<int64_t>> frame_slots;    // per frame, its slots
  std::vector<std::vector<int64_t>> snippet_slots;  // per global snippet, its slots
  std::vector<int> snippet_group;     // per global snippet, its group
  std::vector<int> group_sizes;       // snippets per group
  std::vector<int> group_first;       // first global snippet index of each group
  // Per snippet: held at its given scale and shift (windowed co-alignment: snippets already
  // frozen that still share frames with the window). Empty: every snippet is free.
  std::vector<char> fixed;

  bool is_fixed(int snippet) const { return !fixed.empty() && fixed[snippet]; }
  // Windowed co-alignment: per group, the snippets of the video so far (held, free and those
  // already done with), up to WindowOptions::soft_horizon. The soft constraints are means over
  // them, as in the whole-video problem, rather than over the few free snippets. Empty: the
  // free snippets.
  std::vector<int> group_totals;
  int SoftCount(int group) const {
    return group_totals.empty() ? FreeInGroup(group) : group_totals[group];
  }
  // Free snippets of a group: the soft constraints are means over them.
  int FreeInGroup(int group) const;

  // Z of the reference: rows of M x frames x pixels.
  double Normaliser() const {
    return static_cast<double>(total_positions) * num_frames * static_cast<double>(pixels);
  }
};

// The reference's sampled rows or columns of a frame side: a `border` crop, every `factor`-th.
std::vector<int> SampledCoordinates(int size, int border, int factor);

// Global minimum over all predictions (full resolution, as the reference takes it), then the
// border crop and the every-`factor`-th-pixel sampling. INVALID_ARGUMENT on NaN/Inf.
absl::StatusOr<SampledSnippets> Sample(const SnippetDepths& depths, const CoalignOptions& options);

// Per-frame targets of the reference at given per-snippet scales/shifts.
struct FrameTargets {
  std::vector<float> mean;          // [N, P] m_f
  std::vector<float> inverse_mean;  // [N, P] md_f
  std::vector<double> scale;        // [N]  c_f  = mean_p |m_f|
  std::vector<double> inverse_scale;  // [N] cd_f
};

// The reference loss at (s, t) with the targets computed from (s, t); the second form leaves
// those targets in `targets` for the caller.
double Objective(const SampledSnippets& sampled, const std::vector<double>& s,
                 const std::vector<double>& t);
double Objective(const SampledSnippets& sampled, const std::vector<double>& s,
                 const std::vector<double>& t, FrameTargets* targets);
double SoftConstraints(const SampledSnippets& sampled, const std::vector<double>& s,
                       const std::vector<double>& t);

// Flat per-snippet parameters <-> per-group result vectors.
CoalignResult ToResult(const SampledSnippets& sampled, const std::vector<double>& s,
                       const std::vector<double>& t);

absl::StatusOr<CoalignResult> SolveReference(const SampledSnippets& sampled,
                                             const CoalignOptions& options, bool early_stop);
absl::StatusOr<CoalignResult> SolveFast(const SampledSnippets& sampled,
                                        const CoalignOptions& options);
// The fast solver from the given scales and shifts (fixed snippets keep theirs); adds its
// iterations to `iterations`.
absl::Status SolveFastFrom(const SampledSnippets& sampled, const CoalignOptions& options,
                           std::vector<double>* s, std::vector<double>* t, int* iterations,
                           bool* converged);

}  // namespace depthd::coalign_internal

#endif  // DEPTHD_CORE_COALIGN_INTERNAL_H_
