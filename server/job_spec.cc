#include "server/job_spec.h"

#include <algorithm>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"

namespace depthd::server {
namespace {

// Frames a depth frame waits in a live job: the last snippet covering it ends (L - 1) x the
// largest dilation later, a solve follows each batch, and a batch is one snippet per dilation.
int LiveLatency(int length, int max_dilation, int window) { return (length - 1) * max_dilation + window; }

}  // namespace

absl::StatusOr<ResolvedJob> ResolveJobSpec(const v1::JobSpec& spec, const ModelInfo& model,
                                           const ServerLimits& limits, const JobDefaults& defaults) {
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

  ResolvedJob job;
  job.live = spec.live();
  if (!job.live && (spec.has_max_latency_frames() || spec.skip_frames_when_behind())) {
    return absl::InvalidArgumentError(
        "max_latency_frames and skip_frames_when_behind are for live jobs; set live or leave them unset");
  }
  if (job.live) {
    if (spec.has_cap_dilation() && spec.cap_dilation()) {
      return absl::InvalidArgumentError(
          "cap_dilation needs the video's length, which a live stream does not have; leave it unset");
    }
    o.cap_dilation = false;
    if (spec.has_max_latency_frames() && spec.dilations_size() > 0) {
      return absl::InvalidArgumentError(
          "give either dilations or max_latency_frames for a live job; the dilations follow from the latency");
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

  SessionOptions& session = job.session;
  session.scope = defaults.scope;
  session.window = defaults.window;
  session.solve_every = defaults.solve_every;
  if (!spec.coalign_scope().empty()) {
    DEPTHD_ASSIGN_OR_RETURN(session.scope, ParseCoalignScope(spec.coalign_scope()));
  } else if (pipeline.refine_step > 0 || pipeline.coalign.solver != CoalignSolver::kFast) {
    session.scope = CoalignScope::kGlobal;  // refinement and the Adam solvers work on the whole video
  }
  if (spec.has_coalign_window()) session.window = spec.coalign_window();
  if (spec.has_coalign_solve_every()) session.solve_every = spec.coalign_solve_every();
  if (session.window < 0 || session.window > 100000 || session.solve_every < 1 ||
      session.solve_every > 100000) {
    return absl::InvalidArgumentError(absl::StrCat(
        "coalign_window must be 0..100000 and coalign_solve_every 1..100000, got ", session.window,
        " and ", session.solve_every));
  }
  switch (spec.normalization()) {
    case v1::NORMALIZATION_UNSPECIFIED:
      session.normalization = job.live ? Normalization::kRunning : Normalization::kGlobal;
      break;
    case v1::NORMALIZATION_GLOBAL: session.normalization = Normalization::kGlobal; break;
    case v1::NORMALIZATION_ALIGNED: session.normalization = Normalization::kAligned; break;
    case v1::NORMALIZATION_RUNNING: session.normalization = Normalization::kRunning; break;
    default:
      return absl::InvalidArgumentError(absl::StrCat("unknown normalization ", spec.normalization(),
                                                     "; use GLOBAL, ALIGNED or RUNNING"));
  }

  if (job.live) {
    if (session.scope == CoalignScope::kGlobal && !spec.coalign_scope().empty()) {
      return absl::InvalidArgumentError(
          "a live job co-aligns in a window (coalign_scope windowed); global needs the whole video");
    }
    if (pipeline.refine_step > 0) {
      return absl::InvalidArgumentError("refinement needs the whole video; set refine_step 0 for a live job");
    }
    if (session.normalization == Normalization::kGlobal) {
      return absl::InvalidArgumentError(
          "normalization GLOBAL holds every frame until the video ends, which a live stream does "
          "not; use RUNNING (the default) or ALIGNED");
    }
    session.scope = CoalignScope::kWindowed;
    if (!spec.has_coalign_window()) session.window = 0;
    if (!spec.has_coalign_solve_every()) session.solve_every = 1;
    const int length = pipeline.snippets.snippet_lengths.front();
    if (spec.dilations_size() == 0) {
      const int budget = spec.has_max_latency_frames() ? spec.max_latency_frames()
                                                       : defaults.live_latency_frames;
      const int largest = (budget - session.window) / (length - 1);
      if (largest < 1) {
        return absl::InvalidArgumentError(absl::StrCat(
            "max_latency_frames ", budget, " is below the ", (length - 1) + session.window,
            " frames the smallest snippet needs"));
      }
      pipeline.snippets.dilations = largest >= 2 ? std::vector<int>{1, largest} : std::vector<int>{1};
    }
    // One snippet per dilation completes with each frame: batch them together.
    pipeline.batch_size = static_cast<int>(pipeline.snippets.dilations.size());
    const int largest = *std::max_element(pipeline.snippets.dilations.begin(), pipeline.snippets.dilations.end());
    job.latency_frames = LiveLatency(length, largest, session.window) + session.solve_every - 1;
    if (spec.has_max_latency_frames() && job.latency_frames > spec.max_latency_frames()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "these dilations and window give a latency of ", job.latency_frames,
          " frames, above max_latency_frames ", spec.max_latency_frames()));
    }
    job.skip_frames = spec.skip_frames_when_behind();
  }

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
  if (job.encoding == v1::DEPTH_ENCODING_PNG16 && session.normalization == Normalization::kAligned) {
    return absl::InvalidArgumentError(
        "PNG16 stores [0, 1] and ALIGNED frames have no range until the video ends; use FLOAT32 or "
        "FLOAT16 with ALIGNED, or GLOBAL or RUNNING with PNG16");
  }
  job.preview = spec.preview();
  session.pipeline = pipeline;
  // Checked here so that a bad combination is refused before the upload, not after it.
  if (session.scope == CoalignScope::kWindowed && pipeline.refine_step > 0) {
    return absl::InvalidArgumentError(
        "refinement works on the whole co-aligned video: use coalign_scope global with refine_step > 0");
  }
  if (session.scope == CoalignScope::kWindowed && pipeline.coalign.solver != CoalignSolver::kFast) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the windowed co-alignment scope runs the fast solver; solver ",
        CoalignSolverName(pipeline.coalign.solver), " needs coalign_scope global"));
  }
  if (!job.live && session.scope == CoalignScope::kWindowed &&
      session.normalization != Normalization::kGlobal) {
    const int length = pipeline.snippets.snippet_lengths.front();
    const int largest = *std::max_element(pipeline.snippets.dilations.begin(), pipeline.snippets.dilations.end());
    const int groups = static_cast<int>(pipeline.snippets.dilations.size());
    job.latency_frames = (length - 1) * largest + session.window + session.solve_every - 1 +
                         (pipeline.batch_size + groups - 1) / groups - 1;
  }

  if (spec.has_start_frame()) job.read.start_frame = spec.start_frame();
  if (spec.has_frame_count()) job.read.frame_count = spec.frame_count();
  if (job.read.start_frame < 0 || job.read.frame_count < 0) {
    return absl::InvalidArgumentError("start_frame and frame_count must be >= 0");
  }
  job.read.processing_res = pipeline.processing_res;
  job.read.resample = pipeline.resample;
  // A live stream has no length to limit: its memory is bounded by its window instead.
  job.read.max_frames = job.live ? std::numeric_limits<int>::max() : limits.max_frames;
  job.read.max_pixels = limits.max_pixels;
  return job;
}

}  // namespace depthd::server
