// DeviceKind / DType to LibTorch's device and scalar type. Only model code includes this.
#ifndef DEPTHD_CORE_MODEL_TORCH_DEVICE_H_
#define DEPTHD_CORE_MODEL_TORCH_DEVICE_H_

#include <torch/types.h>

#include "core/model/device.h"

namespace depthd {

inline torch::Device TorchDevice(DeviceKind device) {
  switch (device) {
    case DeviceKind::kCuda: return torch::Device(torch::kCUDA);
    case DeviceKind::kMps: return torch::Device(torch::kMPS);
    case DeviceKind::kCpu: break;
  }
  return torch::Device(torch::kCPU);
}

inline torch::ScalarType TorchDType(DType dtype) {
  switch (dtype) {
    case DType::kFloat16: return torch::kHalf;
    case DType::kBFloat16: return torch::kBFloat16;
    case DType::kFloat32: break;
  }
  return torch::kFloat32;
}

}  // namespace depthd

#endif  // DEPTHD_CORE_MODEL_TORCH_DEVICE_H_
