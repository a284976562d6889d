// Pipeline options: the presets of the reference's run_video.py and explicit overrides.
#ifndef DEPTHD_CORE_PIPELINE_OPTIONS_H_
#define DEPTHD_CORE_PIPELINE_OPTIONS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/coalign.h"
#include "core/media/resize.h"
#include "core/snippet_plan.h"

namespace depthd {

// Fully resolved options for one run.
struct PipelineOptions {
  std::string preset = "fast";
  int processing_res = 768;          // longer side; 0 keeps the input size
  Resample resample = Resample::kBilinear;
  SnippetPlanOptions snippets;       // dilations, snippet lengths, cap_dilation
  int refine_step = 0;               // 0: no refinement
  int refine_snippet_len = 3;
  int refine_start_dilation = 6;
  // The preset's precision wish: "fp16" means half precision where the device has it. An explicit
  // dtype in a job must match the loaded model's dtype.
  std::string dtype = "fp16";
  bool restore_res = false;          // resize outputs back to the input resolution
  int64_t seed = 0;
  int batch_size = 4;                // snippets per forward call
  CoalignOptions coalign;
};

// Explicit options; each one set overrides the preset.
struct PipelineOverrides {
  std::optional<int> processing_res;
  std::optional<Resample> resample;
  std::optional<std::vector<int>> dilations;
  std::optional<std::vector<int>> snippet_lengths;
  std::optional<bool> cap_dilation;
  std::optional<int> refine_step;
  std::optional<int> refine_snippet_len;
  std::optional<int> refine_start_dilation;
  std::optional<std::string> dtype;
  std::optional<bool> restore_res;
  std::optional<int64_t> seed;
  std::optional<int> batch_size;
  std::optional<CoalignSolver> solver;
  std::optional<int> max_iterations;
  std::optional<double> tolerance;
  std::optional<int> patience;
};

// "fast" (default), "fast1024", "full", "paper", or "none" (the base settings).
std::vector<std::string> PresetNames();

// INVALID_ARGUMENT for an unknown preset or an out-of-range value (the message names it).
absl::StatusOr<PipelineOptions> ResolveOptions(std::string_view preset,
                                               const PipelineOverrides& overrides);

}  // namespace depthd

#endif  // DEPTHD_CORE_PIPELINE_OPTIONS_H_
