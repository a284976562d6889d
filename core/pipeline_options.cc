#include "core/pipeline_options.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace depthd {
namespace {

// run_video.py's base settings, before a preset applies.
PipelineOptions BaseOptions() {
  PipelineOptions options;
  options.processing_res = 768;
  options.snippets.snippet_lengths = {3};
  options.snippets.cap_dilation = true;
  options.dtype = "fp16";
  options.refine_snippet_len = 3;
  options.refine_start_dilation = 6;
  options.snippets.dilations = {1, 25};
  options.refine_step = 0;
  return options;
}

absl::Status CheckRange(const char* name, int64_t value, int64_t lo, int64_t hi) {
  if (value < lo || value > hi) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " = ", value, " is outside ", lo, "..", hi));
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<std::string> PresetNames() { return {"fast", "fast1024", "full", "paper", "none"}; }

absl::StatusOr<PipelineOptions> ResolveOptions(std::string_view preset_name,
                                               const PipelineOverrides& o) {
  const std::string preset = preset_name.empty() ? "fast" : absl::AsciiStrToLower(std::string(preset_name));
  PipelineOptions options = BaseOptions();
  options.preset = preset;
  if (preset == "fast") {
    options.snippets.dilations = {1, 25};
    options.refine_step = 0;
  } else if (preset == "fast1024") {
    options.processing_res = 1024;
    options.snippets.dilations = {1, 25};
    options.refine_step = 0;
  } else if (preset == "full") {
    options.processing_res = 1024;
    options.snippets.dilations = {1, 10, 25};
    options.refine_step = 10;
  } else if (preset == "paper") {
    options.snippets.dilations = {1, 10, 25};
    options.snippets.cap_dilation = false;
    options.dtype = "fp32";
    options.refine_step = 10;
  } else if (preset != "none") {
    return absl::InvalidArgumentError(absl::StrCat("unknown preset '", std::string(preset_name),
                                                   "'; use one of ",
                                                   absl::StrJoin(PresetNames(), ", ")));
  }

  if (o.processing_res) options.processing_res = *o.processing_res;
  if (o.resample) options.resample = *o.resample;
  if (o.dilations) options.snippets.dilations = *o.dilations;
  if (o.snippet_lengths) options.snippets.snippet_lengths = *o.snippet_lengths;
  if (o.cap_dilation) options.snippets.cap_dilation = *o.cap_dilation;
  if (o.refine_step) options.refine_step = *o.refine_step;
  if (o.refine_snippet_len) options.refine_snippet_len = *o.refine_snippet_len;
  if (o.refine_start_dilation) options.refine_start_dilation = *o.refine_start_dilation;
  if (o.dtype) options.dtype = *o.dtype;
  if (o.restore_res) options.restore_res = *o.restore_res;
  if (o.seed) options.seed = *o.seed;
  if (o.batch_size) options.batch_size = *o.batch_size;
  if (o.solver) options.coalign.solver = *o.solver;
  if (o.max_iterations) options.coalign.max_iterations = *o.max_iterations;
  if (o.tolerance) options.coalign.tolerance = *o.tolerance;
  if (o.patience) options.coalign.patience = *o.patience;

  if (absl::Status s = CheckRange("processing_res", options.processing_res, 0, 8192); !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckRange("refine_step", options.refine_step, 0, 1000); !s.ok()) return s;
  if (absl::Status s = CheckRange("refine_snippet_len", options.refine_snippet_len, 2, 4);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckRange("refine_start_dilation", options.refine_start_dilation, 1,
                                  100000);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckRange("batch_size", options.batch_size, 1, 1024); !s.ok()) return s;
  if (absl::Status s =
          CheckRange("coalign_max_iterations", options.coalign.max_iterations, 1, 1000000);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckRange("coalign_patience", options.coalign.patience, 1, 1000000);
      !s.ok()) {
    return s;
  }
  if (!(options.coalign.tolerance > 0.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("coalign_tolerance must be > 0, got ", options.coalign.tolerance));
  }
  if (options.snippets.dilations.empty()) {
    return absl::InvalidArgumentError("dilations is empty; give at least [1]");
  }
  for (int d : options.snippets.dilations) {
    if (absl::Status s = CheckRange("dilation", d, 1, 100000); !s.ok()) return s;
  }
  if (std::find(options.snippets.dilations.begin(), options.snippets.dilations.end(), 1) ==
      options.snippets.dilations.end()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "dilations [", absl::StrJoin(options.snippets.dilations, ", "),
        "] must contain 1: dilation-1 snippets tie neighbouring frames together"));
  }
  for (int l : options.snippets.snippet_lengths) {
    if (absl::Status s = CheckRange("snippet length", l, 2, 4); !s.ok()) return s;
  }
  const std::string dtype = absl::AsciiStrToLower(options.dtype);
  if (dtype != "fp32" && dtype != "fp16" && dtype != "bf16" && !dtype.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown dtype '", options.dtype, "'; use fp32, fp16 or bf16"));
  }
  options.dtype = dtype;
  return options;
}

}  // namespace depthd
