// The building blocks shared by the UNet and the VAE, named as in diffusers so that checkpoint
// keys map one to one onto parameter names (e.g. "resnets.0.conv1.weight").
#ifndef DEPTHD_CORE_DIFFUSION_LAYERS_H_
#define DEPTHD_CORE_DIFFUSION_LAYERS_H_

#include <memory>

#include <torch/nn.h>

namespace depthd::diffusion {

// Multi-head attention over tokens [B, N, C]; `mask` (optional) is added to the scores, e.g.
// -inf above the diagonal for causal attention.
torch::Tensor Attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                     int heads, bool upcast, const torch::Tensor& mask = {});

// diffusers' ResnetBlock2D (time_embedding_norm "default", output_scale_factor 1). With
// temb_channels 0 it has no time_emb_proj (the VAE's blocks).
class ResnetBlock2D : public torch::nn::Module {
 public:
  ResnetBlock2D(int in_channels, int out_channels, int temb_channels, int groups, double eps);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& temb = {});

 private:
  torch::nn::GroupNorm norm1_{nullptr}, norm2_{nullptr};
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, conv_shortcut_{nullptr};
  torch::nn::Linear time_emb_proj_{nullptr};
};

// diffusers' Attention with to_q/to_k/to_v/to_out.0. For self-attention, `frames` > 1 makes the
// tokens of all frames of a snippet attend to each other: RollingDepth's cross-frame attention
// reshapes (b*n, hw, c) to (b, n*hw, c) around the attention.
class Attention : public torch::nn::Module {
 public:
  Attention(int query_dim, int context_dim, int heads, int head_dim, bool qkv_bias,
            bool upcast);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& context = {},
                        int frames = 1);

 private:
  int heads_;
  bool upcast_;
  torch::nn::Linear to_q_{nullptr}, to_k_{nullptr}, to_v_{nullptr}, out_{nullptr};
};

// The VAE's mid-block attention: group_norm + single-head attention over pixels + residual.
class SpatialAttention : public torch::nn::Module {
 public:
  SpatialAttention(int channels, int groups, double eps);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::GroupNorm group_norm_{nullptr};
  std::shared_ptr<Attention> attention_;
};

// BasicTransformerBlock: self-attention (attn1), cross-attention (attn2), GEGLU feed-forward.
class TransformerBlock : public torch::nn::Module {
 public:
  TransformerBlock(int dim, int heads, int head_dim, int context_dim, bool upcast);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& context, int frames);

 private:
  torch::nn::LayerNorm norm1_{nullptr}, norm2_{nullptr}, norm3_{nullptr};
  std::shared_ptr<Attention> attn1_, attn2_;
  torch::nn::Linear ff_in_{nullptr}, ff_out_{nullptr};  // ff.net.0.proj (GEGLU), ff.net.2
};

// Transformer2DModel with linear projections (use_linear_projection true, as in SD 2).
class Transformer2D : public torch::nn::Module {
 public:
  Transformer2D(int channels, int heads, int head_dim, int context_dim, int layers, int groups,
                bool linear_projection, bool upcast);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& context, int frames);

 private:
  bool linear_projection_;
  torch::nn::GroupNorm norm_{nullptr};
  // Linear projections (SD 2), or 1x1 convolutions (use_linear_projection false).
  torch::nn::Linear proj_in_linear_{nullptr}, proj_out_linear_{nullptr};
  torch::nn::Conv2d proj_in_conv_{nullptr}, proj_out_conv_{nullptr};
  std::vector<std::shared_ptr<TransformerBlock>> blocks_;
};

// Downsample2D: a stride-2 3x3 conv; `padding` 0 pads right and bottom first (the VAE encoder).
class Downsample2D : public torch::nn::Module {
 public:
  Downsample2D(int channels, int padding);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  int padding_;
  torch::nn::Conv2d conv_{nullptr};
};

// Upsample2D: nearest-neighbour to `size` (twice the input unless the skip says otherwise),
// then a 3x3 conv.
class Upsample2D : public torch::nn::Module {
 public:
  explicit Upsample2D(int channels);
  torch::Tensor forward(const torch::Tensor& x, std::vector<int64_t> size = {});

 private:
  torch::nn::Conv2d conv_{nullptr};
};

// Sinusoidal timestep embedding as diffusers' Timesteps: [N] -> [N, dim].
torch::Tensor TimestepEmbedding(const torch::Tensor& timesteps, int dim, bool flip_sin_to_cos,
                                double freq_shift);

}  // namespace depthd::diffusion

#endif  // DEPTHD_CORE_DIFFUSION_LAYERS_H_
