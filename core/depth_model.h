// The snippet network interface. Includes LibTorch: only model code and the pipeline include it.
#ifndef DEPTHD_CORE_DEPTH_MODEL_H_
#define DEPTHD_CORE_DEPTH_MODEL_H_

#include <torch/types.h>

#include "absl/status/statusor.h"
#include "core/device.h"
#include "core/model_contract.h"

namespace depthd {

class DepthModel {
 public:
  virtual ~DepthModel() = default;

  virtual const ModelContract& contract() const = 0;
  virtual DeviceKind device() const = 0;
  virtual DType dtype() const = 0;

  // rgb: [B, L, 3, H, W] float in [-1, 1] (any device; moved to the model's), H and W multiples
  // of contract().size_multiple. Returns [B, L, 1, H, W] float32 on the CPU.
  virtual absl::StatusOr<torch::Tensor> PredictSnippets(const torch::Tensor& rgb) = 0;
};

}  // namespace depthd

#endif  // DEPTHD_CORE_DEPTH_MODEL_H_
