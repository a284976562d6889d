// Snippet planning: which frames each snippet covers, per dilation, as the reference does.
#ifndef DEPTHD_CORE_SNIPPET_PLAN_H_
#define DEPTHD_CORE_SNIPPET_PLAN_H_

#include <vector>

#include "absl/status/statusor.h"

namespace depthd {

// One dilation rate: snippets start at every frame 0 .. N - window (stride 1), and snippet i
// covers frames i, i + d, ..., i + (L - 1) d.
struct SnippetGroup {
  int requested_dilation = 1;  // before capping
  int dilation = 1;            // after capping
  int snippet_length = 3;
  std::vector<std::vector<int>> snippets;  // frame indices per snippet
};

struct SnippetPlan {
  int num_frames = 0;
  std::vector<SnippetGroup> groups;

  int TotalSnippets() const;
  // Number of snippet frames that show each frame (the merge denominator).
  std::vector<int> CoverageCounts() const;
};

struct SnippetPlanOptions {
  std::vector<int> dilations = {1, 25};
  // One length for all dilations, or one per dilation. Each in {2, 3, 4}.
  std::vector<int> snippet_lengths = {3};
  // Lower each dilation to at most floor(N / L) - 1 for short videos.
  bool cap_dilation = true;
};

// Caps a dilation for a video of `num_frames` frames as the reference's cap_max_dilation does.
int CapDilation(int num_frames, int snippet_length, int dilation);

// Fails with INVALID_ARGUMENT when the options are inconsistent (no dilation 1, bad lengths),
// when the video is shorter than one snippet, or when some frame would be covered by no snippet.
absl::StatusOr<SnippetPlan> PlanSnippets(int num_frames, const SnippetPlanOptions& options);

}  // namespace depthd

#endif  // DEPTHD_CORE_SNIPPET_PLAN_H_
