// Merge: every frame is the mean of all aligned snippet predictions that show it; the video is
// then min-max normalised to [0, 1], 0 nearest. Streams frame by frame.
#ifndef DEPTHD_CORE_MERGE_H_
#define DEPTHD_CORE_MERGE_H_

#include <functional>
#include <utility>
#include <vector>

#include <opencv2/core.hpp>

#include "absl/status/status.h"
#include "core/coalign.h"
#include "core/snippet_depths.h"

namespace depthd {

// Called once per frame, in order, with a CV_32FC1 frame in [0, 1] at the snippet resolution.
// A non-OK status stops the merge and is returned.
using FrameSink = std::function<absl::Status(int frame_index, const cv::Mat& depth)>;

// Two passes over the frames (range, then emit), holding one merged frame at a time. `range`,
// when given, receives the merged video's (min, max) in aligned units.
absl::Status MergeAndNormalize(const SnippetDepths& depths, const CoalignResult& alignment,
                               const FrameSink& sink, std::pair<double, double>* range = nullptr);

// One pass: every frame's merged depth in the snippets' aligned units, not normalised.
absl::Status MergeAligned(const SnippetDepths& depths, const CoalignResult& alignment,
                          const FrameSink& sink);

// Convenience for tests and tools: the merged, normalised video in memory.
absl::StatusOr<std::vector<cv::Mat>> MergeToFrames(const SnippetDepths& depths,
                                                   const CoalignResult& alignment);

}  // namespace depthd

#endif  // DEPTHD_CORE_MERGE_H_
