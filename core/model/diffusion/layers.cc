#include "core/model/diffusion/layers.h"

#include <cmath>

#include <torch/version.h>

namespace depthd::diffusion {
namespace {

namespace F = torch::nn::functional;

torch::nn::Conv2d Conv(int in, int out, int kernel, int stride = 1, int padding = 0) {
  return torch::nn::Conv2d(
      torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding));
}

torch::nn::Linear Dense(int in, int out, bool bias = true) {
  return torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(bias));
}

torch::nn::GroupNorm Norm(int groups, int channels, double eps) {
  return torch::nn::GroupNorm(torch::nn::GroupNormOptions(groups, channels).eps(eps));
}

}  // namespace

torch::Tensor Attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                     int heads, bool upcast, const torch::Tensor& mask) {
  const int64_t b = q.size(0), nq = q.size(1), nk = k.size(1), c = q.size(2);
  const int64_t d = c / heads;
  auto split = [&](const torch::Tensor& t, int64_t n) {
    return t.reshape({b, n, heads, d}).transpose(1, 2);  // [B, H, N, D]
  };
  torch::Tensor qh = split(q, nq), kh = split(k, nk), vh = split(v, nk);
  torch::Tensor out;
#if TORCH_VERSION_MAJOR >= 2
  // Its kernels accumulate the softmax in float32 for half inputs, which is what upcasting is for.
  out = mask.defined() ? at::scaled_dot_product_attention(qh, kh, vh, mask)
                       : at::scaled_dot_product_attention(qh, kh, vh);
#endif
  if (!out.defined()) {
    // Plain attention; with `upcast` the scores and softmax run in float32 (diffusers'
    // upcast_attention / upcast_softmax), which half precision needs for long token lists.
    const auto type = q.scalar_type();
    torch::Tensor qs = upcast ? qh.to(torch::kFloat32) : qh;
    torch::Tensor ks = upcast ? kh.to(torch::kFloat32) : kh;
    torch::Tensor scores = torch::matmul(qs, ks.transpose(-1, -2)) * (1.0 / std::sqrt(d));
    if (mask.defined()) scores = scores + mask;
    out = torch::matmul(scores.softmax(-1).to(type), vh);
  }
  return out.transpose(1, 2).reshape({b, nq, c});
}

ResnetBlock2D::ResnetBlock2D(int in_channels, int out_channels, int temb_channels, int groups,
                             double eps) {
  norm1_ = register_module("norm1", Norm(groups, in_channels, eps));
  conv1_ = register_module("conv1", Conv(in_channels, out_channels, 3, 1, 1));
  if (temb_channels > 0) {
    time_emb_proj_ = register_module("time_emb_proj", Dense(temb_channels, out_channels));
  }
  norm2_ = register_module("norm2", Norm(groups, out_channels, eps));
  conv2_ = register_module("conv2", Conv(out_channels, out_channels, 3, 1, 1));
  if (in_channels != out_channels) {
    conv_shortcut_ = register_module("conv_shortcut", Conv(in_channels, out_channels, 1));
  }
}

torch::Tensor ResnetBlock2D::forward(const torch::Tensor& x, const torch::Tensor& temb) {
  torch::Tensor h = conv1_(F::silu(norm1_(x)));
  if (time_emb_proj_ && temb.defined()) {
    h = h + time_emb_proj_(F::silu(temb)).unsqueeze(-1).unsqueeze(-1);
  }
  h = conv2_(F::silu(norm2_(h)));
  return (conv_shortcut_ ? conv_shortcut_(x) : x) + h;
}

Attention::Attention(int query_dim, int context_dim, int heads, int head_dim, bool qkv_bias,
                     bool upcast)
    : heads_(heads), upcast_(upcast) {
  const int inner = heads * head_dim;
  const int kv_dim = context_dim > 0 ? context_dim : query_dim;
  to_q_ = register_module("to_q", Dense(query_dim, inner, qkv_bias));
  to_k_ = register_module("to_k", Dense(kv_dim, inner, qkv_bias));
  to_v_ = register_module("to_v", Dense(kv_dim, inner, qkv_bias));
  torch::nn::ModuleList to_out;
  out_ = Dense(inner, query_dim);
  to_out->push_back(out_);  // to_out.1 is a dropout, without parameters
  register_module("to_out", to_out);
}

torch::Tensor Attention::forward(const torch::Tensor& x, const torch::Tensor& context,
                                 int frames) {
  torch::Tensor tokens = x;
  if (!context.defined() && frames > 1) {
    tokens = x.reshape({x.size(0) / frames, frames * x.size(1), x.size(2)});
  }
  const torch::Tensor& source = context.defined() ? context : tokens;
  torch::Tensor out = out_(Attend(to_q_(tokens), to_k_(source), to_v_(source), heads_, upcast_));
  return out.reshape(x.sizes());
}

SpatialAttention::SpatialAttention(int channels, int groups, double eps) {
  group_norm_ = register_module("group_norm", Norm(groups, channels, eps));
  // Registered flat (to_q, to_k, ... beside group_norm), as in diffusers' Attention.
  attention_ = std::make_shared<Attention>(channels, 0, 1, channels, /*qkv_bias=*/true,
                                           /*upcast=*/true);
  for (auto& child : attention_->named_children()) register_module(child.key(), child.value());
}

torch::Tensor SpatialAttention::forward(const torch::Tensor& x) {
  const int64_t b = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  torch::Tensor tokens = group_norm_(x).reshape({b, c, h * w}).transpose(1, 2);
  torch::Tensor out = attention_->forward(tokens);
  return out.transpose(1, 2).reshape({b, c, h, w}) + x;
}

TransformerBlock::TransformerBlock(int dim, int heads, int head_dim, int context_dim,
                                   bool upcast) {
  auto layer_norm = [&] {
    return torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-5));
  };
  norm1_ = register_module("norm1", layer_norm());
  attn1_ = register_module("attn1", std::make_shared<Attention>(dim, 0, heads, head_dim, false,
                                                                upcast));
  norm2_ = register_module("norm2", layer_norm());
  attn2_ = register_module(
      "attn2", std::make_shared<Attention>(dim, context_dim, heads, head_dim, false, upcast));
  norm3_ = register_module("norm3", layer_norm());
  // ff.net = [GEGLU (proj), Dropout, Linear]; only 0.proj and 2 hold parameters.
  auto geglu = std::make_shared<torch::nn::Module>();
  ff_in_ = geglu->register_module("proj", Dense(dim, dim * 4 * 2));
  torch::nn::ModuleList net;
  net->push_back(geglu);
  net->push_back(torch::nn::Dropout(0.0));
  ff_out_ = Dense(dim * 4, dim);
  net->push_back(ff_out_);
  auto ff = std::make_shared<torch::nn::Module>();
  ff->register_module("net", net);
  register_module("ff", ff);
}

torch::Tensor TransformerBlock::forward(const torch::Tensor& x, const torch::Tensor& context,
                                        int frames) {
  torch::Tensor h = attn1_->forward(norm1_(x), {}, frames) + x;
  h = attn2_->forward(norm2_(h), context) + h;
  std::vector<torch::Tensor> parts = ff_in_(norm3_(h)).chunk(2, -1);
  return ff_out_(parts[0] * F::gelu(parts[1])) + h;
}

Transformer2D::Transformer2D(int channels, int heads, int head_dim, int context_dim, int layers,
                             int groups, bool linear_projection, bool upcast)
    : linear_projection_(linear_projection) {
  const int inner = heads * head_dim;
  norm_ = register_module("norm", Norm(groups, channels, 1e-6));
  if (linear_projection) {
    proj_in_linear_ = register_module("proj_in", Dense(channels, inner));
  } else {
    proj_in_conv_ = register_module("proj_in", Conv(channels, inner, 1));
  }
  torch::nn::ModuleList list;
  for (int i = 0; i < layers; ++i) {
    blocks_.push_back(std::make_shared<TransformerBlock>(inner, heads, head_dim, context_dim,
                                                         upcast));
    list->push_back(blocks_.back());
  }
  register_module("transformer_blocks", list);
  if (linear_projection) {
    proj_out_linear_ = register_module("proj_out", Dense(inner, channels));
  } else {
    proj_out_conv_ = register_module("proj_out", Conv(inner, channels, 1));
  }
}

torch::Tensor Transformer2D::forward(const torch::Tensor& x, const torch::Tensor& context,
                                     int frames) {
  const int64_t b = x.size(0), h = x.size(2), w = x.size(3);
  auto to_tokens = [&](const torch::Tensor& t) {
    return t.permute({0, 2, 3, 1}).reshape({b, h * w, t.size(1)});
  };
  auto to_image = [&](const torch::Tensor& t) {
    return t.reshape({b, h, w, t.size(2)}).permute({0, 3, 1, 2});
  };
  torch::Tensor hidden = norm_(x);
  hidden = linear_projection_ ? proj_in_linear_(to_tokens(hidden)) : to_tokens(proj_in_conv_(hidden));
  // The text embedding is shared: repeat it over the batch.
  torch::Tensor ctx = context.size(0) == b ? context : context.expand({b, context.size(1), context.size(2)});
  for (const auto& block : blocks_) hidden = block->forward(hidden, ctx, frames);
  hidden = linear_projection_ ? to_image(proj_out_linear_(hidden)) : proj_out_conv_(to_image(hidden));
  return hidden + x;
}

Downsample2D::Downsample2D(int channels, int padding) : padding_(padding) {
  conv_ = register_module("conv", Conv(channels, channels, 3, 2, padding));
}

torch::Tensor Downsample2D::forward(const torch::Tensor& x) {
  if (padding_ == 0) return conv_(F::pad(x, F::PadFuncOptions({0, 1, 0, 1})));
  return conv_(x);
}

Upsample2D::Upsample2D(int channels) {
  conv_ = register_module("conv", Conv(channels, channels, 3, 1, 1));
}

torch::Tensor Upsample2D::forward(const torch::Tensor& x, std::vector<int64_t> size) {
  if (size.empty()) size = {x.size(2) * 2, x.size(3) * 2};
  // Nearest interpolation has no half-precision CPU kernel in older LibTorch; it is exact in
  // float32.
  torch::Tensor up = F::interpolate(
      x.device().is_cpu() && x.scalar_type() != torch::kFloat32 ? x.to(torch::kFloat32) : x,
      F::InterpolateFuncOptions().size(size).mode(torch::kNearest));
  return conv_(up.to(x.scalar_type()));
}

torch::Tensor TimestepEmbedding(const torch::Tensor& timesteps, int dim, bool flip_sin_to_cos,
                                double freq_shift) {
  const int half = dim / 2;
  torch::Tensor exponent =
      torch::arange(half, torch::TensorOptions().dtype(torch::kFloat32).device(timesteps.device())) *
      (-std::log(10000.0) / (half - freq_shift));
  torch::Tensor args = timesteps.to(torch::kFloat32).unsqueeze(1) * exponent.exp().unsqueeze(0);
  torch::Tensor sin = args.sin(), cos = args.cos();
  torch::Tensor emb = flip_sin_to_cos ? torch::cat({cos, sin}, 1) : torch::cat({sin, cos}, 1);
  if (dim % 2 == 1) emb = F::pad(emb, F::PadFuncOptions({0, 1}));
  return emb;
}

}  // namespace depthd::diffusion
