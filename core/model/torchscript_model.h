// The TorchScript backend of DepthModel: a .pt file with its JSON sidecar. Its per-video state
// is the frames that snippets still need, as planes in [-1, 1].
#ifndef DEPTHD_CORE_MODEL_TORCHSCRIPT_MODEL_H_
#define DEPTHD_CORE_MODEL_TORCHSCRIPT_MODEL_H_

#include <memory>
#include <string>

#include <torch/script.h>

#include "absl/status/statusor.h"
#include "core/model/depth_model.h"

namespace depthd {

class TorchScriptModel : public DepthModel {
 public:
  // Reads <stem>.json beside `path`, loads the module, moves it to the device and dtype.
  static absl::StatusOr<std::unique_ptr<TorchScriptModel>> Create(const std::string& path,
                                                                  DeviceKind device, DType dtype);

  const ModelContract& contract() const override { return contract_; }
  DeviceKind device() const override { return device_; }
  DType dtype() const override { return dtype_; }
  absl::StatusOr<std::unique_ptr<ModelVideo>> NewVideo(int height, int width,
                                                       int64_t seed) override;

  // rgb [B, L, 3, H, W] through the module; [B, L, 1, H, W] float32 on the CPU.
  absl::StatusOr<torch::Tensor> Forward(const torch::Tensor& rgb);

 private:
  TorchScriptModel(torch::jit::Module module, ModelContract contract, DeviceKind device,
                   DType dtype);

  torch::jit::Module module_;
  ModelContract contract_;
  DeviceKind device_;
  DType dtype_;
};

}  // namespace depthd

#endif  // DEPTHD_CORE_MODEL_TORCHSCRIPT_MODEL_H_
