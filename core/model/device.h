// Device and dtype names, and what each device can run.
#ifndef DEPTHD_CORE_MODEL_DEVICE_H_
#define DEPTHD_CORE_MODEL_DEVICE_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace depthd {

enum class DeviceKind { kCpu, kCuda, kMps };
enum class DType { kFloat32, kFloat16, kBFloat16 };

// "auto" picks cuda, then mps, then cpu. UNAVAILABLE when the asked device is not present.
absl::StatusOr<DeviceKind> ResolveDevice(std::string_view name);
std::string DeviceName(DeviceKind device);

// "" picks the device's default (fp16 on cuda and mps, fp32 on cpu). "fp16" on cpu is refused.
absl::StatusOr<DType> ResolveDType(std::string_view name, DeviceKind device);
std::string DTypeName(DType dtype);

// Sets LibTorch's intra-op thread count (0: the number of cores).
void SetTorchThreads(int threads);
int TorchThreads();

}  // namespace depthd

#endif  // DEPTHD_CORE_MODEL_DEVICE_H_
