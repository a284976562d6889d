// RollingDepth's refinement settings, shared by the pipeline, the model interface and the
// network (core/diffusion), which needs them without the rest of core/.
#ifndef DEPTHD_CORE_MODEL_REFINE_OPTIONS_H_
#define DEPTHD_CORE_MODEL_REFINE_OPTIONS_H_

#include <functional>

namespace depthd {

struct RefineOptions {
  int refine_step = 10;     // int(refine_step / 0.5) scheduler steps, the first half skipped
  int snippet_length = 3;
  int start_dilation = 6;   // falls linearly to 1 over the steps
  // The video's cap_dilation: lower start_dilation to int(N / snippet_length) - 1 first, as the
  // reference's cap_max_dilation does. Off (the `paper` preset), a video too short for
  // start_dilation is refused with INVALID_ARGUMENT (the reference fails on it too).
  bool cap_dilation = true;
  int batch_size = 4;       // snippets per network call
  std::function<bool()> cancelled;
};

}  // namespace depthd

#endif  // DEPTHD_CORE_MODEL_REFINE_OPTIONS_H_
