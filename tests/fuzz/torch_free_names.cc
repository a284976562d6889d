// TEMPORARY, until these move out of the LibTorch translation units they live in (see the
// fuzzing report): byte-for-byte copies of the name functions server::ResolveJobSpec calls,
//   ParseCoalignScope, CoalignScopeName  (core/video_session.cc)
//   ParseCoalignSolver, CoalignSolverName (core/coalign.cc)
//   DeviceName, DTypeName                 (core/model/device.cc)
// Those files include LibTorch 1.13 headers, which Clang 14 cannot compile in C++20 mode against
// libstdc++ 12 (ATen/core/List.h instantiates std::vector<c10::IValue> while IValue is
// incomplete; pytorch/pytorch#97689), and libFuzzer needs Clang. request_fuzz links this file
// instead of them; the day they sit in files of their own, it links those and this file goes.
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "core/coalign.h"
#include "core/model/device.h"
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

absl::StatusOr<CoalignSolver> ParseCoalignSolver(std::string_view name) {
  const std::string lower = absl::AsciiStrToLower(std::string(name));
  if (lower.empty() || lower == "fast") return CoalignSolver::kFast;
  if (lower == "reference") return CoalignSolver::kReference;
  if (lower == "early_stop") return CoalignSolver::kEarlyStop;
  return absl::InvalidArgumentError(absl::StrCat("unknown co-alignment solver '", std::string(name),
                                                 "'; use fast, early_stop or reference"));
}

std::string CoalignSolverName(CoalignSolver solver) {
  switch (solver) {
    case CoalignSolver::kReference:
      return "reference";
    case CoalignSolver::kEarlyStop:
      return "early_stop";
    case CoalignSolver::kFast:
      return "fast";
  }
  return "unknown";
}

std::string DeviceName(DeviceKind device) {
  switch (device) {
    case DeviceKind::kCpu:
      return "cpu";
    case DeviceKind::kCuda:
      return "cuda";
    case DeviceKind::kMps:
      return "mps";
  }
  return "cpu";
}

std::string DTypeName(DType dtype) {
  switch (dtype) {
    case DType::kFloat32:
      return "fp32";
    case DType::kFloat16:
      return "fp16";
    case DType::kBFloat16:
      return "bf16";
  }
  return "fp32";
}

}  // namespace depthd
