// Which frames each refinement step denoises together: RollingDepth's snippet arithmetic for
// the refinement, without LibTorch, so a job can be checked before any compute.
#ifndef DEPTHD_CORE_MODEL_DIFFUSION_REFINE_PLAN_H_
#define DEPTHD_CORE_MODEL_DIFFUSION_REFINE_PLAN_H_

#include <vector>

#include "absl/status/statusor.h"
#include "core/model/refine_options.h"

namespace depthd::diffusion {

// The refinement's first dilation for a video of `frames` frames, as the reference computes it
// before any gap: with cap_dilation, min(start, int(frames / snippet_length) - 1)
// (cap_max_dilation), but at least 1 (below 2 * snippet_length frames the reference stops on an
// assertion; depthd refines with dilation 1 there, as its snippet plan does); without, `start`.
int RefineStartDilation(int frames, int snippet_length, int start_dilation, bool cap_dilation);

// Frame indices of the snippets of refinement step `step` of `steps`, exactly as the reference's
// get_snippet_indice(dilation_start = RefineStartDilation(...), dilation_end = 1, stride 1):
// gap = int((1 - step / steps) * (start - 1)), snippets of `snippet_length` frames `gap + 1`
// apart, starting at every frame that leaves room. INVALID_ARGUMENT when the video is shorter
// than one snippet, and, with cap_dilation off, when a snippet spans more frames than the video
// or leaves a frame in no snippet (where the reference fails with an IndexError or an
// assertion): the request is refused, never silently changed.
absl::StatusOr<std::vector<std::vector<int>>> RefineSnippets(int frames, int snippet_length,
                                                             int start_dilation, bool cap_dilation,
                                                             int step, int steps);

// Number of refinement steps for `refine_step`: int(refine_step / 0.5) scheduler steps of which
// the first int(total * 0.5) are skipped (the reference's skip_t_ratio).
int RefineStepCount(int refine_step);

// Every step's snippets (RefineSnippets for each of RefineStepCount(options.refine_step)
// steps): checks a refinement request for a video before any compute is spent.
absl::StatusOr<std::vector<std::vector<std::vector<int>>>> RefinePlan(int frames,
                                                                      const RefineOptions& options);

}  // namespace depthd::diffusion

#endif  // DEPTHD_CORE_MODEL_DIFFUSION_REFINE_PLAN_H_
