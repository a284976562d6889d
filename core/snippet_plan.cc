#include "core/snippet_plan.h"

#include <algorithm>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace depthd {

int SnippetPlan::TotalSnippets() const {
  int total = 0;
  for (const SnippetGroup& group : groups) total += static_cast<int>(group.snippets.size());
  return total;
}

std::vector<int> SnippetPlan::CoverageCounts() const {
  std::vector<int> counts(num_frames, 0);
  for (const SnippetGroup& group : groups) {
    for (const std::vector<int>& snippet : group.snippets) {
      for (int frame : snippet) ++counts[frame];
    }
  }
  return counts;
}

int CapDilation(int num_frames, int snippet_length, int dilation) {
  // The reference caps the dilation so that a snippet still fits well inside a short video.
  const int cap = std::max(1, num_frames / snippet_length - 1);
  return std::min(dilation, cap);
}

absl::StatusOr<SnippetPlan> PlanSnippets(int num_frames, const SnippetPlanOptions& options) {
  const std::vector<int>& dilations = options.dilations;
  if (dilations.empty()) {
    return absl::InvalidArgumentError("dilations is empty; give at least [1]");
  }
  if (std::find(dilations.begin(), dilations.end(), 1) == dilations.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("dilations [", absl::StrJoin(dilations, ", "),
                     "] must contain 1: dilation-1 snippets tie neighbouring frames together"));
  }
  for (int d : dilations) {
    if (d < 1) return absl::InvalidArgumentError(absl::StrCat("dilation ", d, " must be >= 1"));
  }
  if (std::set<int>(dilations.begin(), dilations.end()).size() != dilations.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("dilations [", absl::StrJoin(dilations, ", "), "] repeat a value"));
  }
  std::vector<int> lengths = options.snippet_lengths;
  if (lengths.size() == 1) lengths.assign(dilations.size(), lengths.front());
  if (lengths.size() != dilations.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "snippet_lengths has ", options.snippet_lengths.size(), " values for ", dilations.size(),
        " dilations; give one length for all or one per dilation"));
  }
  for (int length : lengths) {
    if (length < 2 || length > 4) {
      return absl::InvalidArgumentError(
          absl::StrCat("snippet length ", length, " is outside 2..4"));
    }
  }
  if (num_frames < 1) return absl::InvalidArgumentError("the video has no frames");

  SnippetPlan plan;
  plan.num_frames = num_frames;
  for (size_t g = 0; g < dilations.size(); ++g) {
    SnippetGroup group;
    group.requested_dilation = dilations[g];
    group.snippet_length = lengths[g];
    group.dilation = options.cap_dilation ? CapDilation(num_frames, lengths[g], dilations[g])
                                          : dilations[g];
    const int window = (group.snippet_length - 1) * group.dilation + 1;
    if (window > num_frames) {
      if (group.dilation == 1) {
        return absl::InvalidArgumentError(absl::StrCat(
            "the video has ", num_frames, " frame(s); snippets of ", group.snippet_length,
            " frames need at least ", window));
      }
      return absl::InvalidArgumentError(absl::StrCat(
          "dilation ", group.dilation, " with snippet length ", group.snippet_length,
          " spans ", window, " frames but the video has ", num_frames,
          "; lower the dilation or enable cap_dilation"));
    }
    for (int start = 0; start + window <= num_frames; ++start) {
      std::vector<int> frames(group.snippet_length);
      for (int j = 0; j < group.snippet_length; ++j) frames[j] = start + j * group.dilation;
      group.snippets.push_back(std::move(frames));
    }
    plan.groups.push_back(std::move(group));
  }

  const std::vector<int> coverage = plan.CoverageCounts();
  for (int f = 0; f < num_frames; ++f) {
    if (coverage[f] == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("frame ", f, " is covered by no snippet with these dilations"));
    }
  }
  return plan;
}

}  // namespace depthd
