// Device and dtype names, without LibTorch (see core/option_names.cc).
#include <string>

#include "core/model/device.h"

namespace depthd {

std::string DeviceName(DeviceKind device) {
  switch (device) {
    case DeviceKind::kCpu: return "cpu";
    case DeviceKind::kCuda: return "cuda";
    case DeviceKind::kMps: return "mps";
  }
  return "cpu";
}

std::string DTypeName(DType dtype) {
  switch (dtype) {
    case DType::kFloat32: return "fp32";
    case DType::kFloat16: return "fp16";
    case DType::kBFloat16: return "bf16";
  }
  return "fp32";
}

}  // namespace depthd
