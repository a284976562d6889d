// AutoencoderKL (the Stable Diffusion VAE): RGB <-> 4-channel latents at 1/8 resolution.
#ifndef DEPTHD_CORE_DIFFUSION_VAE_H_
#define DEPTHD_CORE_DIFFUSION_VAE_H_

#include <memory>
#include <vector>

#include <torch/nn.h>

#include "absl/status/statusor.h"
#include "core/model/diffusion/config_file.h"

namespace depthd::diffusion {

struct VaeConfig {
  int in_channels = 3;
  int out_channels = 3;
  int latent_channels = 4;
  std::vector<int> block_out_channels = {128, 256, 512, 512};
  int layers_per_block = 2;
  int norm_num_groups = 32;
  bool mid_block_add_attention = true;
  double scaling_factor = 0.18215;
};

absl::StatusOr<VaeConfig> ParseVaeConfig(const ConfigFile& config);

class Vae : public torch::nn::Module {
 public:
  explicit Vae(const VaeConfig& config);

  // [B, 3, H, W] in [-1, 1] -> the latent mean times scaling_factor, [B, 4, H/8, W/8].
  torch::Tensor Encode(const torch::Tensor& image);
  // Latents (scaled) -> [B, out_channels, H, W].
  torch::Tensor Decode(const torch::Tensor& latent);

  const VaeConfig& config() const { return config_; }
  // The spatial factor between image and latent (2^(blocks-1)).
  int downscale() const;

 private:
  struct Coder;
  VaeConfig config_;
  std::shared_ptr<Coder> encoder_, decoder_;
  torch::nn::Conv2d quant_conv_{nullptr}, post_quant_conv_{nullptr};
};

}  // namespace depthd::diffusion

#endif  // DEPTHD_CORE_DIFFUSION_VAE_H_
