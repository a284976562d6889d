// The RollingDepth network and its inference flow (diffusers layout checkpoint): VAE latents per
// frame, one-step snippet denoising with cross-frame attention, decoding, and the refinement of a
// co-aligned depth video. Needs LibTorch, Abseil and nlohmann_json only (no OpenCV, no gRPC).
#ifndef DEPTHD_CORE_DIFFUSION_ROLLINGDEPTH_H_
#define DEPTHD_CORE_DIFFUSION_ROLLINGDEPTH_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "absl/status/statusor.h"
#include "core/model/diffusion/ddim.h"
#include "core/model/diffusion/refine_plan.h"
#include "core/model/diffusion/unet.h"
#include "core/model/diffusion/vae.h"
#include "core/model/refine_options.h"

namespace depthd::diffusion {

struct RollingDepthConfig {
  UNetConfig unet;
  VaeConfig vae;
  DdimConfig scheduler;
  std::string description;  // model_index.json's class and versions, for logs
};

// Reads model_index.json, unet/, vae/, scheduler/ configs of a checkpoint folder.
absl::StatusOr<RollingDepthConfig> ReadRollingDepthConfig(const std::string& dir);

// Where the video's shared initial noise latent is drawn.
enum class NoiseSource {
  kCpu,          // LibTorch's CPU generator in float32: one noise for a seed on every device
  kModelDevice,  // a generator of the model's device, in the model's dtype: the reference's
};

// The noise latent [channels, height, width] for `seed`, on `device`. kModelDevice draws as
// run_video.py does (torch.Generator(device=device).manual_seed(seed), then torch.randn(...,
// device=device, dtype=pipe.dtype)), so that on a GPU the same seed gives the reference's
// noise; kCpu draws float32 on the CPU and moves it (the same as kModelDevice for a CPU model in
// float32). Returned in the dtype it was drawn in.
torch::Tensor DrawNoise(int64_t channels, int64_t height, int64_t width, uint64_t seed,
                        NoiseSource source, torch::Device device, torch::ScalarType dtype);

class RollingDepthNet {
 public:
  // Loads a checkpoint folder (diffusers layout), computes the empty-prompt embedding with the
  // text encoder, then drops the text encoder. Errors name the file and tensor at fault.
  static absl::StatusOr<std::unique_ptr<RollingDepthNet>> Load(const std::string& dir,
                                                               torch::Device device,
                                                               torch::ScalarType dtype);
  // Random weights (for benchmarks and tests): `text_embedding` stands for the empty prompt.
  static std::unique_ptr<RollingDepthNet> Random(const RollingDepthConfig& config,
                                                 const torch::Tensor& text_embedding,
                                                 torch::Device device, torch::ScalarType dtype);

  // [B, 3, H, W] in [-1, 1] (any device) -> scaled latent means [B, 4, H/8, W/8] on the device.
  torch::Tensor EncodeRgb(const torch::Tensor& rgb);
  // Latents [B, 4, h, w] -> depth [B, 1, H, W] (mean of the decoded channels), float32, device.
  torch::Tensor DecodeDepth(const torch::Tensor& latents);

  // Initial snippet inference: rgb and noise latents [S, n, 4, h, w] -> depth latents, denoised
  // over `steps` scheduler steps (RollingDepth uses 1).
  absl::StatusOr<torch::Tensor> DenoiseSnippets(const torch::Tensor& rgb_latents,
                                                const torch::Tensor& noise, int steps);

  // Refinement: rgb and co-aligned depth latents [N, 4, h, w], the shared noise [4, h, w] ->
  // refined depth latents [N, 4, h, w]. Every step replaces each frame's latent by the mean of
  // its predictions from all snippets of that step.
  absl::StatusOr<torch::Tensor> Refine(const torch::Tensor& rgb_latents,
                                       const torch::Tensor& depth_latents,
                                       const torch::Tensor& noise, const RefineOptions& options);

  // Channels-last memory layout for the convolutions. Off by default: on an H100 with LibTorch
  // 2.11 it made the fast preset 13% slower (bench_rollingdepth --layouts, docs/benchmarks.md).
  void SetChannelsLast(bool on);
  bool channels_last() const { return channels_last_; }

  const RollingDepthConfig& config() const { return config_; }
  torch::Device device() const { return device_; }
  torch::ScalarType dtype() const { return dtype_; }
  int latent_channels() const { return config_.vae.latent_channels; }
  int downscale() const { return vae_->downscale(); }

 private:
  RollingDepthNet(RollingDepthConfig config, std::shared_ptr<UNet> unet, std::shared_ptr<Vae> vae,
                  torch::Tensor text_embedding, torch::Device device, torch::ScalarType dtype);
  torch::Tensor Layout(const torch::Tensor& x) const;  // [B, C, H, W] in the chosen layout
  torch::Tensor SingleStep(const torch::Tensor& rgb, const torch::Tensor& depth, int timestep);

  RollingDepthConfig config_;
  std::shared_ptr<UNet> unet_;
  std::shared_ptr<Vae> vae_;
  DdimScheduler scheduler_;
  torch::Tensor text_embedding_;  // [1, T, cross_attention_dim] on the device
  torch::Device device_;
  torch::ScalarType dtype_;
  bool channels_last_ = false;
};

}  // namespace depthd::diffusion

#endif  // DEPTHD_CORE_DIFFUSION_ROLLINGDEPTH_H_
