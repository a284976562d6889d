#include "core/model/device.h"

#include <thread>

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <torch/cuda.h>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace depthd {
namespace {

bool MpsAvailable() {
#if defined(__APPLE__)
  return at::hasMPS();
#else
  return false;
#endif
}

}  // namespace

absl::StatusOr<DeviceKind> ResolveDevice(std::string_view name) {
  const std::string lower = absl::AsciiStrToLower(std::string(name));
  if (lower.empty() || lower == "auto") {
    if (torch::cuda::is_available()) return DeviceKind::kCuda;
    if (MpsAvailable()) return DeviceKind::kMps;
    return DeviceKind::kCpu;
  }
  if (lower == "cpu") return DeviceKind::kCpu;
  if (lower == "cuda") {
    if (!torch::cuda::is_available()) {
      return absl::UnavailableError(
          "device cuda requested but LibTorch reports no CUDA device (is this a CUDA build of "
          "LibTorch, and is a GPU visible?)");
    }
    return DeviceKind::kCuda;
  }
  if (lower == "mps") {
    if (!MpsAvailable()) {
      return absl::UnavailableError("device mps requested but LibTorch reports no MPS device");
    }
    return DeviceKind::kMps;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown device '", std::string(name), "'; use auto, cpu, cuda or mps"));
}

absl::StatusOr<DType> ResolveDType(std::string_view name, DeviceKind device) {
  const std::string lower = absl::AsciiStrToLower(std::string(name));
  if (lower.empty()) return device == DeviceKind::kCpu ? DType::kFloat32 : DType::kFloat16;
  if (lower == "fp32" || lower == "float32") return DType::kFloat32;
  if (lower == "bf16" || lower == "bfloat16") return DType::kBFloat16;
  if (lower == "fp16" || lower == "float16") {
    if (device == DeviceKind::kCpu) {
      return absl::InvalidArgumentError("fp16 is not supported on cpu; use fp32 or bf16");
    }
    return DType::kFloat16;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown dtype '", std::string(name), "'; use fp32, fp16 or bf16"));
}

void SetTorchThreads(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(threads);
}

int TorchThreads() { return at::get_num_threads(); }

}  // namespace depthd
