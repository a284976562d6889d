#include "server/job_spec.h"

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"

namespace depthd::server {

absl::StatusOr<ResolvedJob> ResolveJobSpec(const v1::JobSpec& spec, const ModelInfo& model,
                                           const ServerLimits& limits) {
  PipelineOverrides o;
  if (spec.has_processing_res()) o.processing_res = spec.processing_res();
  if (!spec.resample_method().empty()) {
    DEPTHD_ASSIGN_OR_RETURN(o.resample, ParseResample(spec.resample_method()));
  }
  if (spec.dilations_size() > 0) o.dilations = std::vector<int>(spec.dilations().begin(), spec.dilations().end());
  if (spec.snippet_lengths_size() > 0) {
    o.snippet_lengths = std::vector<int>(spec.snippet_lengths().begin(), spec.snippet_lengths().end());
  }
  if (spec.has_cap_dilation()) o.cap_dilation = spec.cap_dilation();
  if (spec.has_refine_step()) o.refine_step = spec.refine_step();
  if (spec.has_refine_snippet_len()) o.refine_snippet_len = spec.refine_snippet_len();
  if (spec.has_refine_start_dilation()) o.refine_start_dilation = spec.refine_start_dilation();
  if (spec.has_restore_res()) o.restore_res = spec.restore_res();
  if (spec.has_seed()) o.seed = spec.seed();
  if (!spec.coalign_solver().empty()) {
    DEPTHD_ASSIGN_OR_RETURN(o.solver, ParseCoalignSolver(spec.coalign_solver()));
  }
  if (spec.has_coalign_max_iterations()) o.max_iterations = spec.coalign_max_iterations();
  if (spec.has_coalign_tolerance()) o.tolerance = spec.coalign_tolerance();
  if (spec.has_coalign_patience()) o.patience = spec.coalign_patience();

  const std::string dtype = absl::AsciiStrToLower(spec.dtype());
  if (!dtype.empty()) {
    o.dtype = dtype;
    if (dtype != DTypeName(model.dtype)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "dtype ", dtype, " was asked for, but this server runs ", model.contract.name, " in ",
          DTypeName(model.dtype), " on ", DeviceName(model.device),
          "; leave dtype empty or restart depthd with --dtype ", dtype));
    }
  }
  DEPTHD_ASSIGN_OR_RETURN(PipelineOptions pipeline, ResolveOptions(spec.preset(), o));
  if (pipeline.refine_step > 0 && !model.contract.supports_refine) {
    return absl::InvalidArgumentError(absl::StrCat(
        "refine_step ", pipeline.refine_step, " (preset '", pipeline.preset, "') needs a model ",
        "that can refine; ", model.contract.name,
        " cannot. Set refine_step 0, or serve a RollingDepth checkpoint"));
  }
  for (int length : pipeline.snippets.snippet_lengths) {
    if (length != model.contract.snippet_length) {
      return absl::InvalidArgumentError(absl::StrCat(
          "snippet length ", length, " cannot be honoured: ", model.contract.name,
          " takes snippets of ", model.contract.snippet_length, " frames"));
    }
  }
  ResolvedJob job;
  job.pipeline = pipeline;
  if (spec.has_start_frame()) job.read.start_frame = spec.start_frame();
  if (spec.has_frame_count()) job.read.frame_count = spec.frame_count();
  if (job.read.start_frame < 0 || job.read.frame_count < 0) {
    return absl::InvalidArgumentError("start_frame and frame_count must be >= 0");
  }
  job.read.processing_res = pipeline.processing_res;
  job.read.resample = pipeline.resample;
  job.read.max_frames = limits.max_frames;
  job.read.max_pixels = limits.max_pixels;
  switch (spec.depth_encoding()) {
    case v1::DEPTH_ENCODING_UNSPECIFIED:
    case v1::DEPTH_ENCODING_FLOAT32: job.encoding = v1::DEPTH_ENCODING_FLOAT32; break;
    case v1::DEPTH_ENCODING_FLOAT16: job.encoding = v1::DEPTH_ENCODING_FLOAT16; break;
    case v1::DEPTH_ENCODING_PNG16: job.encoding = v1::DEPTH_ENCODING_PNG16; break;
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown depth_encoding ", static_cast<int>(spec.depth_encoding()),
          "; use FLOAT32, FLOAT16 or PNG16"));
  }
  job.preview = spec.preview();
  return job;
}

}  // namespace depthd::server
