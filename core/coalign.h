// Co-alignment: one scale and shift per snippet so that all snippets agree on every frame.
#ifndef DEPTHD_CORE_COALIGN_H_
#define DEPTHD_CORE_COALIGN_H_

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/snippet_depths.h"

namespace depthd {

enum class CoalignSolver {
  kReference,  // the reference's Adam loop, max_iterations steps, faithful
  kEarlyStop,  // the same loop, stopped when |delta loss| < tolerance for `patience` steps
  kFast,       // scatter/gather Gauss-Newton/IRLS on the same objective (default)
};

absl::StatusOr<CoalignSolver> ParseCoalignSolver(std::string_view name);
std::string CoalignSolverName(CoalignSolver solver);

struct CoalignOptions {
  CoalignSolver solver = CoalignSolver::kFast;
  int max_iterations = 2000;  // reference default; `fast` counts sweeps against its own cap
  double tolerance = 1e-4;    // early_stop: |delta loss|; fast: largest step, relative to depth
  int patience = 30;          // early_stop only
  // Sampling of the reference: crop `border` pixels, keep every `factor`-th pixel.
  int border = 2;
  int factor = 10;
  double learning_rate = 1e-3;  // Adam (reference, early_stop)
  // Polled between iterations; when it returns true the solver stops with CANCELLED.
  std::function<bool()> cancelled;
  // Called now and then with (iterations done, max_iterations).
  std::function<void(int, int)> progress;
};

struct CoalignResult {
  // Per group, per snippet. Applied to (prediction - min_offset).
  std::vector<std::vector<float>> scales;
  std::vector<std::vector<float>> shifts;
  float min_offset = 0.0f;  // global minimum over all predictions, subtracted first
  int iterations = 0;
  double final_loss = 0.0;  // the reference objective at the returned scales and shifts
  bool converged = false;
  CoalignSolver solver = CoalignSolver::kFast;
};

// INVALID_ARGUMENT for NaN/Inf predictions or an empty set; CANCELLED when `cancelled` fires.
absl::StatusOr<CoalignResult> Coalign(const SnippetDepths& depths, const CoalignOptions& options);

// Scales 1 and shifts 0 (the merge without alignment), with min_offset set as Coalign does.
CoalignResult IdentityAlignment(const SnippetDepths& depths);

// The reference objective (data terms + soft constraints) at `alignment`, on the reference's
// sampled pixels. Used by tests and benchmarks to compare solvers.
absl::StatusOr<double> ReferenceObjective(const SnippetDepths& depths,
                                          const CoalignResult& alignment,
                                          const CoalignOptions& options = {});

}  // namespace depthd

#endif  // DEPTHD_CORE_COALIGN_H_
