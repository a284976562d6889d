// The names of the method's options, in a file of their own: no LibTorch, so the request
// parsing (server/job_spec.cc) builds and fuzzes without it.
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "core/coalign.h"
#include "core/video_session.h"

namespace depthd {

absl::StatusOr<CoalignScope> ParseCoalignScope(std::string_view name) {
  const std::string lower = absl::AsciiStrToLower(std::string(name));
  if (lower == "global") return CoalignScope::kGlobal;
  if (lower == "windowed") return CoalignScope::kWindowed;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown co-alignment scope '", std::string(name), "'; use global or windowed"));
}

std::string CoalignScopeName(CoalignScope scope) {
  return scope == CoalignScope::kGlobal ? "global" : "windowed";
}

absl::StatusOr<Normalization> ParseNormalization(std::string_view name) {
  const std::string lower = absl::AsciiStrToLower(std::string(name));
  if (lower == "global") return Normalization::kGlobal;
  if (lower == "aligned") return Normalization::kAligned;
  if (lower == "running") return Normalization::kRunning;
  return absl::InvalidArgumentError(absl::StrCat("unknown normalization '", std::string(name),
                                                 "'; use global, aligned or running"));
}

std::string NormalizationName(Normalization normalization) {
  switch (normalization) {
    case Normalization::kGlobal: return "global";
    case Normalization::kAligned: return "aligned";
    case Normalization::kRunning: return "running";
  }
  return "unknown";
}

absl::StatusOr<CoalignSolver> ParseCoalignSolver(std::string_view name) {
  const std::string lower = absl::AsciiStrToLower(std::string(name));
  if (lower.empty() || lower == "fast") return CoalignSolver::kFast;
  if (lower == "reference") return CoalignSolver::kReference;
  if (lower == "early_stop") return CoalignSolver::kEarlyStop;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown co-alignment solver '", std::string(name), "'; use fast, early_stop or reference"));
}

std::string CoalignSolverName(CoalignSolver solver) {
  switch (solver) {
    case CoalignSolver::kReference: return "reference";
    case CoalignSolver::kEarlyStop: return "early_stop";
    case CoalignSolver::kFast: return "fast";
  }
  return "unknown";
}

}  // namespace depthd
