// The LibTorch modules carry diffusers' parameter names exactly, and RollingDepth's cross-frame
// attention mixes the frames of a snippet.
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/model/diffusion/clip_text.h"
#include "core/model/diffusion/layers.h"
#include "core/model/diffusion/unet.h"
#include "core/model/diffusion/vae.h"
#include "core/model/diffusion/weights.h"
#include "tests/testing/tiny_rollingdepth.h"

namespace depthd::diffusion {
namespace {

using Keys = std::set<std::string>;

void Add(Keys& keys, const std::string& prefix, std::initializer_list<const char*> names,
         bool bias = true) {
  for (const char* name : names) {
    keys.insert(prefix + name + ".weight");
    if (bias) keys.insert(prefix + name + ".bias");
  }
}

// Written from diffusers' module layout, independently of the implementation.
void Resnet(Keys& keys, const std::string& p, bool shortcut, bool temb) {
  Add(keys, p, {"norm1", "conv1", "norm2", "conv2"});
  if (temb) Add(keys, p, {"time_emb_proj"});
  if (shortcut) Add(keys, p, {"conv_shortcut"});
}

void Transformer(Keys& keys, const std::string& p) {
  Add(keys, p, {"norm", "proj_in", "proj_out"});
  const std::string b = p + "transformer_blocks.0.";
  Add(keys, b, {"norm1", "norm2", "norm3", "attn1.to_out.0", "attn2.to_out.0", "ff.net.0.proj", "ff.net.2"});
  Add(keys, b, {"attn1.to_q", "attn1.to_k", "attn1.to_v", "attn2.to_q", "attn2.to_k", "attn2.to_v"},
      /*bias=*/false);
}

Keys ActualKeys(const torch::nn::Module& module) {
  std::vector<std::string> names = ParameterNames(module);
  return Keys(names.begin(), names.end());
}

TEST(DiffusionModulesTest, UNetKeysMatchDiffusers) {
  auto file = ConfigFile::Parse(testing::TinyUNetConfigJson(), "unet/config.json");
  ASSERT_TRUE(file.ok());
  auto config = ParseUNetConfig(*file);
  ASSERT_TRUE(config.ok()) << config.status();
  Keys expected;
  Add(expected, "", {"conv_in", "time_embedding.linear_1", "time_embedding.linear_2", "conv_norm_out", "conv_out"});
  Resnet(expected, "down_blocks.0.resnets.0.", false, true);
  Transformer(expected, "down_blocks.0.attentions.0.");
  Add(expected, "down_blocks.0.downsamplers.0.", {"conv"});
  Resnet(expected, "down_blocks.1.resnets.0.", true, true);
  Resnet(expected, "mid_block.resnets.0.", false, true);
  Transformer(expected, "mid_block.attentions.0.");
  Resnet(expected, "mid_block.resnets.1.", false, true);
  Resnet(expected, "up_blocks.0.resnets.0.", true, true);
  Resnet(expected, "up_blocks.0.resnets.1.", true, true);
  Add(expected, "up_blocks.0.upsamplers.0.", {"conv"});
  Resnet(expected, "up_blocks.1.resnets.0.", true, true);
  Resnet(expected, "up_blocks.1.resnets.1.", true, true);
  Transformer(expected, "up_blocks.1.attentions.0.");
  Transformer(expected, "up_blocks.1.attentions.1.");
  UNet unet(*config);
  EXPECT_EQ(ActualKeys(unet), expected);
}

TEST(DiffusionModulesTest, VaeKeysMatchDiffusers) {
  auto file = ConfigFile::Parse(testing::TinyVaeConfigJson(), "vae/config.json");
  auto config = ParseVaeConfig(*file);
  ASSERT_TRUE(config.ok()) << config.status();
  Keys expected;
  Add(expected, "", {"quant_conv", "post_quant_conv"});
  for (const std::string coder : {"encoder.", "decoder."}) {
    Add(expected, coder, {"conv_in", "conv_norm_out", "conv_out"});
    Resnet(expected, coder + "mid_block.resnets.0.", false, false);
    Resnet(expected, coder + "mid_block.resnets.1.", false, false);
    Add(expected, coder + "mid_block.attentions.0.", {"group_norm", "to_q", "to_k", "to_v", "to_out.0"});
  }
  Resnet(expected, "encoder.down_blocks.0.resnets.0.", false, false);
  Add(expected, "encoder.down_blocks.0.downsamplers.0.", {"conv"});
  Resnet(expected, "encoder.down_blocks.1.resnets.0.", true, false);
  Resnet(expected, "decoder.up_blocks.0.resnets.0.", false, false);
  Resnet(expected, "decoder.up_blocks.0.resnets.1.", false, false);
  Add(expected, "decoder.up_blocks.0.upsamplers.0.", {"conv"});
  Resnet(expected, "decoder.up_blocks.1.resnets.0.", true, false);
  Resnet(expected, "decoder.up_blocks.1.resnets.1.", false, false);
  Vae vae(*config);
  EXPECT_EQ(ActualKeys(vae), expected);
}

TEST(DiffusionModulesTest, ClipTextKeysMatchTransformers) {
  auto file = ConfigFile::Parse(testing::TinyTextEncoderConfigJson(), "text_encoder/config.json");
  auto config = ParseClipTextConfig(*file);
  ASSERT_TRUE(config.ok()) << config.status();
  Keys expected;
  Add(expected, "text_model.embeddings.", {"token_embedding", "position_embedding"}, false);
  Add(expected, "text_model.", {"final_layer_norm"});
  for (int i = 0; i < 2; ++i) {
    Add(expected, "text_model.encoder.layers." + std::to_string(i) + ".",
        {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.out_proj",
         "layer_norm1", "layer_norm2", "mlp.fc1", "mlp.fc2"});
  }
  ClipTextEncoder text(*config);
  EXPECT_EQ(ActualKeys(text), expected);
}

TEST(DiffusionModulesTest, CrossFrameAttentionMixesTheFramesOfASnippet) {
  torch::manual_seed(3);
  Attention attention(8, 0, 2, 4, false, false);
  torch::NoGradGuard no_grad;
  torch::Tensor x = torch::randn({3, 5, 8});  // 3 frames of one snippet, 5 tokens each
  torch::Tensor changed = x.clone();
  changed[2] += 1.0;
  torch::Tensor a = attention.forward(x, {}, 3), b = attention.forward(changed, {}, 3);
  EXPECT_GT((a[0] - b[0]).abs().max().item<float>(), 1e-4) << "frame 0 must see frame 2";
  EXPECT_GT((a[1] - b[1]).abs().max().item<float>(), 1e-4);
  // Per-frame attention (n = 1) keeps frames apart.
  torch::Tensor c = attention.forward(x, {}, 1), d = attention.forward(changed, {}, 1);
  EXPECT_LT((c[0] - d[0]).abs().max().item<float>(), 1e-6);
  // With n frames it is plain self-attention over all their tokens together.
  torch::Tensor joint = attention.forward(x.reshape({1, 15, 8}), {}, 1).reshape({3, 5, 8});
  EXPECT_TRUE(torch::allclose(a, joint, 1e-5, 1e-6));
}

TEST(DiffusionModulesTest, SingleFrameAttentionIsPlainSelfAttention) {
  torch::manual_seed(4);
  torch::NoGradGuard no_grad;
  Attention attention(8, 0, 2, 4, false, false);
  torch::Tensor x = torch::randn({2, 6, 8});
  auto params = attention.named_parameters();
  torch::Tensor q = torch::matmul(x, params["to_q.weight"].t());
  torch::Tensor k = torch::matmul(x, params["to_k.weight"].t());
  torch::Tensor v = torch::matmul(x, params["to_v.weight"].t());
  std::vector<torch::Tensor> heads;
  for (int h = 0; h < 2; ++h) {
    auto slice = [&](const torch::Tensor& t) { return t.narrow(2, h * 4, 4); };
    torch::Tensor w = torch::softmax(torch::matmul(slice(q), slice(k).transpose(1, 2)) / 2.0, -1);
    heads.push_back(torch::matmul(w, slice(v)));
  }
  torch::Tensor expected = torch::matmul(torch::cat(heads, 2), params["to_out.0.weight"].t()) +
                           params["to_out.0.bias"];
  EXPECT_TRUE(torch::allclose(attention.forward(x, {}, 1), expected, 1e-5, 1e-6));
}

TEST(DiffusionModulesTest, UNetRunsOnSizesThatAreNotMultiplesOfItsStride) {
  auto config = ParseUNetConfig(*ConfigFile::Parse(testing::TinyUNetConfigJson(), "unet"));
  UNet unet(*config);
  torch::NoGradGuard no_grad;
  torch::Tensor out = unet.forward(torch::randn({3, 8, 7, 9}), torch::full({3}, 999, torch::kInt64),
                                   torch::randn({1, 2, 32}), 3);
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{3, 4, 7, 9}));
  EXPECT_TRUE(torch::isfinite(out).all().item<bool>());
}

TEST(DiffusionModulesTest, UnsupportedUNetFieldsAreRefusedByName) {
  auto file = ConfigFile::Parse(R"({"class_embed_type": "timestep"})", "unet/config.json");
  auto config = ParseUNetConfig(*file);
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("class_embed_type"), std::string::npos);
  EXPECT_NE(config.status().message().find("unet/config.json"), std::string::npos);
}

}  // namespace
}  // namespace depthd::diffusion
