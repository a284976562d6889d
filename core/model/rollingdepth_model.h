// The RollingDepth checkpoint (diffusers layout) as a DepthModel: frames are VAE-encoded once per
// video, snippets are denoised in batches, and co-aligned videos can be refined.
#ifndef DEPTHD_CORE_MODEL_ROLLINGDEPTH_MODEL_H_
#define DEPTHD_CORE_MODEL_ROLLINGDEPTH_MODEL_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/model/depth_model.h"
#include "core/model/diffusion/rollingdepth.h"

namespace depthd {

struct RollingDepthOptions {
  int max_vae_bs = 4;     // frames per VAE call (the reference's max_vae_bs)
  int denoise_steps = 1;  // initial inference steps per snippet (RollingDepth: 1)
  // kCpu: one noise for a seed on every device. kModelDevice: drawn on the model's device in its
  // dtype, as run_video.py does, so a GPU run reproduces the reference's noise for a seed.
  diffusion::NoiseSource noise_source = diffusion::NoiseSource::kCpu;
};

class RollingDepthModel : public DepthModel {
 public:
  static absl::StatusOr<std::unique_ptr<RollingDepthModel>> Create(
      const std::string& dir, DeviceKind device, DType dtype, const RollingDepthOptions& options);
  // Wraps an already built network (tests, benchmarks).
  static std::unique_ptr<RollingDepthModel> Wrap(std::unique_ptr<diffusion::RollingDepthNet> net,
                                                 std::string name, DeviceKind device, DType dtype,
                                                 const RollingDepthOptions& options);

  const ModelContract& contract() const override { return contract_; }
  DeviceKind device() const override { return device_; }
  DType dtype() const override { return dtype_; }
  // Each frame is VAE-encoded once when added; its latent stays on the device until released.
  absl::StatusOr<std::unique_ptr<ModelVideo>> NewVideo(int height, int width,
                                                       int64_t seed) override;

  diffusion::RollingDepthNet& net() { return *net_; }
  const RollingDepthOptions& options() const { return options_; }
  // Depth latents [B, 4, h, w] to depth [B, 1, H, W] float32 on the CPU, max_vae_bs at a time.
  absl::StatusOr<torch::Tensor> Decode(const torch::Tensor& latents);

 private:
  RollingDepthModel(std::unique_ptr<diffusion::RollingDepthNet> net, ModelContract contract,
                    DeviceKind device, DType dtype, const RollingDepthOptions& options);

  std::unique_ptr<diffusion::RollingDepthNet> net_;
  ModelContract contract_;
  DeviceKind device_;
  DType dtype_;
  RollingDepthOptions options_;
};

}  // namespace depthd

#endif  // DEPTHD_CORE_MODEL_ROLLINGDEPTH_MODEL_H_
