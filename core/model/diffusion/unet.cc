#include "core/model/diffusion/unet.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/model/diffusion/layers.h"
#include "core/status_macros.h"

namespace depthd::diffusion {
namespace {

namespace F = torch::nn::functional;

bool HasAttention(const std::string& type) { return type.rfind("CrossAttn", 0) == 0; }

}  // namespace

absl::StatusOr<UNetConfig> ParseUNetConfig(const ConfigFile& file) {
  UNetConfig c;
  DEPTHD_ASSIGN_OR_RETURN(c.in_channels, file.Int("in_channels", 4));
  DEPTHD_ASSIGN_OR_RETURN(c.out_channels, file.Int("out_channels", 4));
  DEPTHD_ASSIGN_OR_RETURN(c.block_out_channels,
                          file.Ints("block_out_channels", {320, 640, 1280, 1280}, 0));
  const int blocks = static_cast<int>(c.block_out_channels.size());
  DEPTHD_ASSIGN_OR_RETURN(
      c.down_block_types,
      file.Strings("down_block_types", {"CrossAttnDownBlock2D", "CrossAttnDownBlock2D",
                                        "CrossAttnDownBlock2D", "DownBlock2D"}));
  DEPTHD_ASSIGN_OR_RETURN(
      c.up_block_types, file.Strings("up_block_types", {"UpBlock2D", "CrossAttnUpBlock2D",
                                                        "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"}));
  DEPTHD_ASSIGN_OR_RETURN(c.layers_per_block, file.Int("layers_per_block", 2));
  // diffusers reads num_attention_heads, falling back to attention_head_dim (a historical
  // misnomer: in SD configs it holds the number of heads).
  DEPTHD_ASSIGN_OR_RETURN(std::vector<int> heads, file.Ints("attention_head_dim", {8}, blocks));
  DEPTHD_ASSIGN_OR_RETURN(c.heads, file.Ints("num_attention_heads", heads, blocks));
  if (c.heads.size() == 1) c.heads.assign(blocks, c.heads[0]);
  DEPTHD_ASSIGN_OR_RETURN(c.cross_attention_dim, file.Int("cross_attention_dim", 1280));
  DEPTHD_ASSIGN_OR_RETURN(c.norm_num_groups, file.Int("norm_num_groups", 32));
  DEPTHD_ASSIGN_OR_RETURN(c.norm_eps, file.Double("norm_eps", 1e-5));
  DEPTHD_ASSIGN_OR_RETURN(c.use_linear_projection, file.Bool("use_linear_projection", false));
  DEPTHD_ASSIGN_OR_RETURN(c.upcast_attention, file.Bool("upcast_attention", false));
  DEPTHD_ASSIGN_OR_RETURN(c.flip_sin_to_cos, file.Bool("flip_sin_to_cos", true));
  DEPTHD_ASSIGN_OR_RETURN(c.freq_shift, file.Double("freq_shift", 0));
  DEPTHD_ASSIGN_OR_RETURN(c.transformer_layers_per_block,
                          file.Int("transformer_layers_per_block", 1));

  if (blocks == 0 || c.down_block_types.size() != c.block_out_channels.size() ||
      c.up_block_types.size() != c.block_out_channels.size() ||
      static_cast<int>(c.heads.size()) != blocks) {
    return absl::InvalidArgumentError(absl::StrCat(
        file.path(), ": down_block_types, up_block_types, block_out_channels and ",
        "attention_head_dim must have the same length"));
  }
  for (size_t i = 0; i < c.down_block_types.size(); ++i) {
    DEPTHD_RETURN_IF_ERROR(RequireOneOf(file, "down_block_types", c.down_block_types[i],
                                        {"CrossAttnDownBlock2D", "DownBlock2D"}));
    DEPTHD_RETURN_IF_ERROR(RequireOneOf(file, "up_block_types", c.up_block_types[i],
                                        {"CrossAttnUpBlock2D", "UpBlock2D"}));
  }
  for (int channels : c.block_out_channels) {
    if (channels <= 0 || channels % c.norm_num_groups != 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          file.path(), ": block_out_channels must be positive multiples of norm_num_groups"));
    }
  }
  // Fields whose other values change the architecture in ways this implementation lacks.
  DEPTHD_ASSIGN_OR_RETURN(std::string mid, file.String("mid_block_type", "UNetMidBlock2DCrossAttn"));
  DEPTHD_RETURN_IF_ERROR(RequireOneOf(file, "mid_block_type", mid, {"UNetMidBlock2DCrossAttn"}));
  DEPTHD_ASSIGN_OR_RETURN(std::string act, file.String("act_fn", "silu"));
  DEPTHD_RETURN_IF_ERROR(RequireOneOf(file, "act_fn", act, {"silu"}));
  DEPTHD_ASSIGN_OR_RETURN(std::string shift, file.String("resnet_time_scale_shift", "default"));
  DEPTHD_RETURN_IF_ERROR(RequireOneOf(file, "resnet_time_scale_shift", shift, {"default"}));
  DEPTHD_ASSIGN_OR_RETURN(std::string time_type, file.String("time_embedding_type", "positional"));
  DEPTHD_RETURN_IF_ERROR(RequireOneOf(file, "time_embedding_type", time_type, {"positional"}));
  for (const char* absent : {"class_embed_type", "addition_embed_type", "num_class_embeds",
                             "encoder_hid_dim", "time_cond_proj_dim"}) {
    if (file.Has(absent)) {
      return absl::InvalidArgumentError(
          absl::StrCat(file.path(), ": ", absent, " is set; it is not supported (expected null)"));
    }
  }
  for (const char* off : {"only_cross_attention", "dual_cross_attention", "center_input_sample"}) {
    DEPTHD_ASSIGN_OR_RETURN(bool on, file.Bool(off, false));
    if (on) {
      return absl::InvalidArgumentError(
          absl::StrCat(file.path(), ": ", off, " true is not supported"));
    }
  }
  for (const char* kernel : {"conv_in_kernel", "conv_out_kernel"}) {
    DEPTHD_ASSIGN_OR_RETURN(int k, file.Int(kernel, 3));
    if (k != 3) {
      return absl::InvalidArgumentError(absl::StrCat(file.path(), ": ", kernel, " must be 3"));
    }
  }
  return c;
}

// One down, mid or up block: resnets, optional attentions, optional resampler. Keeps the
// diffusers structure: "<block>.resnets.<j>", "<block>.attentions.<j>",
// "<block>.downsamplers.0" / "<block>.upsamplers.0".
struct UNet::Block : torch::nn::Module {
  std::vector<std::shared_ptr<ResnetBlock2D>> resnets;
  std::vector<std::shared_ptr<Transformer2D>> attentions;
  std::shared_ptr<Downsample2D> downsampler;
  std::shared_ptr<Upsample2D> upsampler;

  void Register() {
    torch::nn::ModuleList r, a;
    for (auto& m : resnets) r->push_back(m);
    for (auto& m : attentions) a->push_back(m);
    if (!attentions.empty()) register_module("attentions", a);
    register_module("resnets", r);
    if (downsampler) {
      torch::nn::ModuleList d;
      d->push_back(downsampler);
      register_module("downsamplers", d);
    }
    if (upsampler) {
      torch::nn::ModuleList u;
      u->push_back(upsampler);
      register_module("upsamplers", u);
    }
  }
};

UNet::UNet(const UNetConfig& c) : config_(c) {
  const std::vector<int>& channels = c.block_out_channels;
  const int blocks = static_cast<int>(channels.size());
  const int temb = channels[0] * 4;
  const int groups = c.norm_num_groups;
  const double eps = c.norm_eps;
  auto transformer = [&](int ch, int heads) {
    return std::make_shared<Transformer2D>(ch, heads, ch / heads, c.cross_attention_dim,
                                           c.transformer_layers_per_block, groups,
                                           c.use_linear_projection, c.upcast_attention);
  };

  conv_in_ = register_module(
      "conv_in", torch::nn::Conv2d(torch::nn::Conv2dOptions(c.in_channels, channels[0], 3).padding(1)));
  auto time_embedding = std::make_shared<torch::nn::Module>();
  time_linear_1_ = time_embedding->register_module("linear_1", torch::nn::Linear(channels[0], temb));
  time_linear_2_ = time_embedding->register_module("linear_2", torch::nn::Linear(temb, temb));
  register_module("time_embedding", time_embedding);

  torch::nn::ModuleList down_list;
  int output_channel = channels[0];
  for (int i = 0; i < blocks; ++i) {
    const int input_channel = output_channel;
    output_channel = channels[i];
    auto block = std::make_shared<Block>();
    for (int j = 0; j < c.layers_per_block; ++j) {
      block->resnets.push_back(std::make_shared<ResnetBlock2D>(
          j == 0 ? input_channel : output_channel, output_channel, temb, groups, eps));
      if (HasAttention(c.down_block_types[i])) {
        block->attentions.push_back(transformer(output_channel, c.heads[i]));
      }
    }
    if (i < blocks - 1) block->downsampler = std::make_shared<Downsample2D>(output_channel, 1);
    block->Register();
    down_.push_back(block);
    down_list->push_back(block);
  }
  register_module("down_blocks", down_list);

  torch::nn::ModuleList up_list;
  std::vector<int> reversed(channels.rbegin(), channels.rend());
  std::vector<int> reversed_heads(c.heads.rbegin(), c.heads.rend());
  output_channel = reversed[0];
  for (int i = 0; i < blocks; ++i) {
    const int prev_output_channel = output_channel;
    output_channel = reversed[i];
    const int input_channel = reversed[std::min(i + 1, blocks - 1)];
    auto block = std::make_shared<Block>();
    const int layers = c.layers_per_block + 1;
    for (int j = 0; j < layers; ++j) {
      const int skip = j == layers - 1 ? input_channel : output_channel;
      const int in = j == 0 ? prev_output_channel : output_channel;
      block->resnets.push_back(
          std::make_shared<ResnetBlock2D>(in + skip, output_channel, temb, groups, eps));
      if (HasAttention(c.up_block_types[i])) {
        block->attentions.push_back(transformer(output_channel, reversed_heads[i]));
      }
    }
    if (i < blocks - 1) block->upsampler = std::make_shared<Upsample2D>(output_channel);
    block->Register();
    up_.push_back(block);
    up_list->push_back(block);
  }
  register_module("up_blocks", up_list);

  mid_ = std::make_shared<Block>();
  const int mid_channels = channels.back();
  mid_->resnets.push_back(std::make_shared<ResnetBlock2D>(mid_channels, mid_channels, temb, groups, eps));
  mid_->attentions.push_back(transformer(mid_channels, c.heads.back()));
  mid_->resnets.push_back(std::make_shared<ResnetBlock2D>(mid_channels, mid_channels, temb, groups, eps));
  mid_->Register();
  register_module("mid_block", mid_);

  conv_norm_out_ = register_module(
      "conv_norm_out", torch::nn::GroupNorm(torch::nn::GroupNormOptions(groups, channels[0]).eps(eps)));
  conv_out_ = register_module(
      "conv_out", torch::nn::Conv2d(torch::nn::Conv2dOptions(channels[0], c.out_channels, 3).padding(1)));
}

torch::Tensor UNet::forward(const torch::Tensor& sample, const torch::Tensor& timesteps,
                            const torch::Tensor& context, int frames) {
  torch::Tensor emb = TimestepEmbedding(timesteps, config_.block_out_channels[0],
                                        config_.flip_sin_to_cos, config_.freq_shift)
                          .to(sample.scalar_type());
  emb = time_linear_2_(F::silu(time_linear_1_(emb)));
  torch::Tensor ctx = context.to(sample.scalar_type());

  torch::Tensor h = conv_in_(sample);
  std::vector<torch::Tensor> skips = {h};
  for (const auto& block : down_) {
    for (size_t j = 0; j < block->resnets.size(); ++j) {
      h = block->resnets[j]->forward(h, emb);
      if (!block->attentions.empty()) h = block->attentions[j]->forward(h, ctx, frames);
      skips.push_back(h);
    }
    if (block->downsampler) {
      h = block->downsampler->forward(h);
      skips.push_back(h);
    }
  }
  h = mid_->resnets[0]->forward(h, emb);
  h = mid_->attentions[0]->forward(h, ctx, frames);
  h = mid_->resnets[1]->forward(h, emb);
  for (const auto& block : up_) {
    for (size_t j = 0; j < block->resnets.size(); ++j) {
      torch::Tensor skip = skips.back();
      skips.pop_back();
      h = block->resnets[j]->forward(torch::cat({h, skip}, 1), emb);
      if (!block->attentions.empty()) h = block->attentions[j]->forward(h, ctx, frames);
    }
    // Upsample to the size of the skip it meets next, so sizes that are not multiples of the
    // total stride come back exactly (diffusers' forward_upsample_size).
    if (block->upsampler) h = block->upsampler->forward(h, {skips.back().size(2), skips.back().size(3)});
  }
  return conv_out_(F::silu(conv_norm_out_(h)));
}

}  // namespace depthd::diffusion
