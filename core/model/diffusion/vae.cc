#include "core/model/diffusion/vae.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/model/diffusion/layers.h"
#include "core/status_macros.h"

namespace depthd::diffusion {
namespace {

namespace F = torch::nn::functional;
constexpr double kEps = 1e-6;  // the VAE's resnet and norm epsilon

torch::nn::Conv2d Conv(int in, int out, int kernel) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel).padding(kernel / 2));
}

}  // namespace

absl::StatusOr<VaeConfig> ParseVaeConfig(const ConfigFile& file) {
  VaeConfig c;
  DEPTHD_ASSIGN_OR_RETURN(c.in_channels, file.Int("in_channels", 3));
  DEPTHD_ASSIGN_OR_RETURN(c.out_channels, file.Int("out_channels", 3));
  DEPTHD_ASSIGN_OR_RETURN(c.latent_channels, file.Int("latent_channels", 4));
  DEPTHD_ASSIGN_OR_RETURN(c.block_out_channels, file.Ints("block_out_channels", {64}, 0));
  DEPTHD_ASSIGN_OR_RETURN(c.layers_per_block, file.Int("layers_per_block", 1));
  DEPTHD_ASSIGN_OR_RETURN(c.norm_num_groups, file.Int("norm_num_groups", 32));
  DEPTHD_ASSIGN_OR_RETURN(c.mid_block_add_attention, file.Bool("mid_block_add_attention", true));
  DEPTHD_ASSIGN_OR_RETURN(c.scaling_factor, file.Double("scaling_factor", 0.18215));
  const size_t blocks = c.block_out_channels.size();
  DEPTHD_ASSIGN_OR_RETURN(std::vector<std::string> down,
                          file.Strings("down_block_types", std::vector<std::string>(blocks, "DownEncoderBlock2D")));
  DEPTHD_ASSIGN_OR_RETURN(std::vector<std::string> up,
                          file.Strings("up_block_types", std::vector<std::string>(blocks, "UpDecoderBlock2D")));
  if (blocks == 0 || down.size() != blocks || up.size() != blocks) {
    return absl::InvalidArgumentError(absl::StrCat(
        file.path(), ": down_block_types, up_block_types and block_out_channels must have the "
                     "same, non-zero length"));
  }
  for (size_t i = 0; i < blocks; ++i) {
    DEPTHD_RETURN_IF_ERROR(RequireOneOf(file, "down_block_types", down[i], {"DownEncoderBlock2D"}));
    DEPTHD_RETURN_IF_ERROR(RequireOneOf(file, "up_block_types", up[i], {"UpDecoderBlock2D"}));
    if (c.block_out_channels[i] % c.norm_num_groups != 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          file.path(), ": block_out_channels must be multiples of norm_num_groups"));
    }
  }
  DEPTHD_ASSIGN_OR_RETURN(std::string act, file.String("act_fn", "silu"));
  DEPTHD_RETURN_IF_ERROR(RequireOneOf(file, "act_fn", act, {"silu"}));
  for (const char* off : {"use_quant_conv", "use_post_quant_conv"}) {
    DEPTHD_ASSIGN_OR_RETURN(bool on, file.Bool(off, true));
    if (!on) return absl::InvalidArgumentError(absl::StrCat(file.path(), ": ", off, " false is not supported"));
  }
  return c;
}

// The encoder or the decoder: conv_in, down_blocks or up_blocks, mid_block, conv_norm_out,
// conv_out, with diffusers' names.
struct Vae::Coder : torch::nn::Module {
  struct Stage : torch::nn::Module {
    std::vector<std::shared_ptr<ResnetBlock2D>> resnets;
    std::shared_ptr<Downsample2D> down;
    std::shared_ptr<Upsample2D> up;
  };
  torch::nn::Conv2d conv_in{nullptr}, conv_out{nullptr};
  torch::nn::GroupNorm conv_norm_out{nullptr};
  std::vector<std::shared_ptr<Stage>> stages;
  std::shared_ptr<ResnetBlock2D> mid_resnet0, mid_resnet1;
  std::shared_ptr<SpatialAttention> mid_attention;

  Coder(const VaeConfig& c, bool encoder) {
    const std::vector<int>& channels = c.block_out_channels;
    const int blocks = static_cast<int>(channels.size());
    const int groups = c.norm_num_groups;
    conv_in = register_module(
        "conv_in", encoder ? Conv(c.in_channels, channels[0], 3) : Conv(c.latent_channels, channels.back(), 3));
    // Encoder: down_blocks over channels in order, layers_per_block resnets, downsampling after
    // all but the last. Decoder: up_blocks over them reversed, one resnet more, upsampling.
    const std::vector<int> order = encoder ? channels : std::vector<int>(channels.rbegin(), channels.rend());
    const int layers = encoder ? c.layers_per_block : c.layers_per_block + 1;
    torch::nn::ModuleList list;
    int output_channel = order[0];
    for (int i = 0; i < blocks; ++i) {
      const int input_channel = output_channel;
      output_channel = order[i];
      auto stage = std::make_shared<Stage>();
      torch::nn::ModuleList resnets;
      for (int j = 0; j < layers; ++j) {
        stage->resnets.push_back(std::make_shared<ResnetBlock2D>(
            j == 0 ? input_channel : output_channel, output_channel, 0, groups, kEps));
        resnets->push_back(stage->resnets.back());
      }
      stage->register_module("resnets", resnets);
      if (i < blocks - 1) {
        torch::nn::ModuleList resampler;
        if (encoder) {
          stage->down = std::make_shared<Downsample2D>(output_channel, 0);
          resampler->push_back(stage->down);
        } else {
          stage->up = std::make_shared<Upsample2D>(output_channel);
          resampler->push_back(stage->up);
        }
        stage->register_module(encoder ? "downsamplers" : "upsamplers", resampler);
      }
      stages.push_back(stage);
      list->push_back(stage);
    }
    register_module(encoder ? "down_blocks" : "up_blocks", list);
    const int mid = channels.back();
    auto mid_block = std::make_shared<torch::nn::Module>();
    mid_resnet0 = std::make_shared<ResnetBlock2D>(mid, mid, 0, groups, kEps);
    mid_resnet1 = std::make_shared<ResnetBlock2D>(mid, mid, 0, groups, kEps);
    torch::nn::ModuleList mid_resnets;
    mid_resnets->push_back(mid_resnet0);
    mid_resnets->push_back(mid_resnet1);
    mid_block->register_module("resnets", mid_resnets);
    if (c.mid_block_add_attention) {
      mid_attention = std::make_shared<SpatialAttention>(mid, groups, kEps);
      torch::nn::ModuleList attentions;
      attentions->push_back(mid_attention);
      mid_block->register_module("attentions", attentions);
    }
    register_module("mid_block", mid_block);
    const int last = encoder ? channels.back() : channels[0];
    conv_norm_out = register_module(
        "conv_norm_out", torch::nn::GroupNorm(torch::nn::GroupNormOptions(groups, last).eps(kEps)));
    conv_out = register_module(
        "conv_out", encoder ? Conv(last, 2 * c.latent_channels, 3) : Conv(last, c.out_channels, 3));
  }

  torch::Tensor Mid(torch::Tensor h) {
    h = mid_resnet0->forward(h);
    if (mid_attention) h = mid_attention->forward(h);
    return mid_resnet1->forward(h);
  }

  torch::Tensor Encode(const torch::Tensor& x) {
    torch::Tensor h = conv_in(x);
    for (const auto& stage : stages) {
      for (const auto& resnet : stage->resnets) h = resnet->forward(h);
      if (stage->down) h = stage->down->forward(h);
    }
    return conv_out(F::silu(conv_norm_out(Mid(h))));
  }

  torch::Tensor Decode(const torch::Tensor& z) {
    torch::Tensor h = Mid(conv_in(z));
    for (const auto& stage : stages) {
      for (const auto& resnet : stage->resnets) h = resnet->forward(h);
      if (stage->up) h = stage->up->forward(h);
    }
    return conv_out(F::silu(conv_norm_out(h)));
  }
};

Vae::Vae(const VaeConfig& c) : config_(c) {
  encoder_ = register_module("encoder", std::make_shared<Coder>(c, true));
  decoder_ = register_module("decoder", std::make_shared<Coder>(c, false));
  quant_conv_ = register_module("quant_conv", Conv(2 * c.latent_channels, 2 * c.latent_channels, 1));
  post_quant_conv_ = register_module("post_quant_conv", Conv(c.latent_channels, c.latent_channels, 1));
}

int Vae::downscale() const { return 1 << (config_.block_out_channels.size() - 1); }

torch::Tensor Vae::Encode(const torch::Tensor& image) {
  torch::Tensor moments = quant_conv_(encoder_->Encode(image));
  return moments.narrow(1, 0, config_.latent_channels) * config_.scaling_factor;
}

torch::Tensor Vae::Decode(const torch::Tensor& latent) {
  return decoder_->Decode(post_quant_conv_(latent / config_.scaling_factor));
}

}  // namespace depthd::diffusion
