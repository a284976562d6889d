#include "core/model/diffusion/refine_plan.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"

namespace depthd::diffusion {

int RefineStartDilation(int frames, int snippet_length, int start_dilation, bool cap_dilation) {
  if (!cap_dilation || snippet_length < 1) return start_dilation;
  // cap_max_dilation compares int(N / L) - 1 with the dilation and takes the smaller.
  return std::max(1, std::min(start_dilation, frames / snippet_length - 1));
}

absl::StatusOr<std::vector<std::vector<int>>> RefineSnippets(int frames, int snippet_length,
                                                             int start_dilation, bool cap_dilation,
                                                             int step, int steps) {
  if (snippet_length < 1 || frames < snippet_length) {
    return absl::InvalidArgumentError(absl::StrCat("refinement needs at least refine_snippet_len (",
                                                   snippet_length, ") frames; the video has ",
                                                   frames));
  }
  if (start_dilation < 1 || steps < 1 || step < 0 || step >= steps) {
    return absl::InvalidArgumentError(absl::StrCat("refinement step ", step, " of ", steps,
                                                   " with start dilation ", start_dilation,
                                                   " is out of range"));
  }
  const int start = RefineStartDilation(frames, snippet_length, start_dilation, cap_dilation);
  // get_snippet_indice with gap_end 0: the same double arithmetic, truncated towards zero.
  const int gap_start = start - 1;
  const int gap = static_cast<int>((1.0 - static_cast<double>(step) / steps) * gap_start);
  const int window = (snippet_length - 1) * (gap + 1) + 1;
  // Every frame is in some snippet exactly when frames >= snippet_length * (gap + 1) (which
  // also keeps the window inside the video); with cap_dilation that always holds, without it
  // the reference fails and so does this.
  if (frames < snippet_length * (gap + 1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "refinement with start dilation ", start_dilation, " and cap_dilation off: step ", step,
        " uses snippets of ", snippet_length, " frames ", gap + 1, " apart, which need at least ",
        snippet_length * (gap + 1), " frames to cover every frame; the video has ", frames,
        ". Enable cap_dilation or lower refine_start_dilation"));
  }
  std::vector<std::vector<int>> snippets;
  for (int first = 0; first + window <= frames; ++first) {
    std::vector<int> snippet;
    for (int f = first; f < first + window; f += gap + 1) snippet.push_back(f);
    snippets.push_back(std::move(snippet));
  }
  return snippets;
}

int RefineStepCount(int refine_step) {
  constexpr double kSkipRatio = 0.5;
  const int total = static_cast<int>(refine_step / kSkipRatio);
  return total - static_cast<int>(total * kSkipRatio);
}

absl::StatusOr<std::vector<std::vector<std::vector<int>>>> RefinePlan(
    int frames, const RefineOptions& options) {
  const int steps = RefineStepCount(options.refine_step);
  if (steps < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("refine_step ", options.refine_step, " leaves no refinement steps"));
  }
  std::vector<std::vector<std::vector<int>>> plan;
  for (int i = 0; i < steps; ++i) {
    DEPTHD_ASSIGN_OR_RETURN(auto snippets,
                            RefineSnippets(frames, options.snippet_length, options.start_dilation,
                                           options.cap_dilation, i, steps));
    plan.push_back(std::move(snippets));
  }
  return plan;
}

}  // namespace depthd::diffusion
