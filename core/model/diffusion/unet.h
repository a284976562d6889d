// UNet2DConditionModel as in Stable Diffusion 2, with RollingDepth's cross-frame self-attention.
#ifndef DEPTHD_CORE_DIFFUSION_UNET_H_
#define DEPTHD_CORE_DIFFUSION_UNET_H_

#include <memory>
#include <string>
#include <vector>

#include <torch/nn.h>

#include "absl/status/statusor.h"
#include "core/model/diffusion/config_file.h"

namespace depthd::diffusion {

struct UNetConfig {
  int in_channels = 8;    // RGB latent + depth latent
  int out_channels = 4;
  std::vector<std::string> down_block_types, up_block_types;
  std::vector<int> block_out_channels = {320, 640, 1280, 1280};
  int layers_per_block = 2;
  std::vector<int> heads = {5, 10, 20, 20};  // diffusers' attention_head_dim (really head counts)
  int cross_attention_dim = 1024;
  int norm_num_groups = 32;
  double norm_eps = 1e-5;
  bool use_linear_projection = true;
  bool upcast_attention = false;
  bool flip_sin_to_cos = true;
  double freq_shift = 0;
  int transformer_layers_per_block = 1;
};

// Reads unet/config.json; INVALID_ARGUMENT names any field whose value is not supported.
absl::StatusOr<UNetConfig> ParseUNetConfig(const ConfigFile& config);

class UNet : public torch::nn::Module {
 public:
  explicit UNet(const UNetConfig& config);

  // sample [B*n, in_channels, h, w], timesteps [B*n], context [1 or B*n, T, cross_attention_dim];
  // `frames` = n, the frames of one snippet, which attend to each other. Returns [B*n, out, h, w].
  torch::Tensor forward(const torch::Tensor& sample, const torch::Tensor& timesteps,
                        const torch::Tensor& context, int frames);

  const UNetConfig& config() const { return config_; }

 private:
  struct Block;
  UNetConfig config_;
  torch::nn::Conv2d conv_in_{nullptr}, conv_out_{nullptr};
  torch::nn::Linear time_linear_1_{nullptr}, time_linear_2_{nullptr};
  torch::nn::GroupNorm conv_norm_out_{nullptr};
  std::vector<std::shared_ptr<Block>> down_, up_;
  std::shared_ptr<Block> mid_;
};

}  // namespace depthd::diffusion

#endif  // DEPTHD_CORE_DIFFUSION_UNET_H_
