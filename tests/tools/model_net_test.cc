#include <filesystem>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/model/model_loader.h"
#include "core/model/depth_model.h"
#include "tools/train/snippet_loss.h"
#include "tools/train/tiny_snippet_net.h"

namespace depthd::train {
namespace {

TEST(TinySnippetNetTest, SizeShapesAndCrossFrameMixing) {
  torch::jit::Module net = BuildTinySnippetNet(1);
  EXPECT_LE(ParameterCount(net), 3'000'000);
  net.eval();
  torch::NoGradGuard no_grad;
  torch::Tensor x = torch::rand({2, 3, 3, 64, 96}) * 2 - 1;
  torch::Tensor y = net.forward({x}).toTensor();
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 3, 1, 64, 96}));
  EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
  // Train one step so the attention output is not the identity it starts as.
  torch::jit::Module trained = BuildTinySnippetNet(2);
  std::vector<torch::Tensor> params;
  for (torch::Tensor p : trained.parameters()) {
    p.set_requires_grad(true);
    params.push_back(p);
  }
  {
    torch::AutoGradMode grad(true);
    torch::optim::Adam adam(params, 1e-3);
    for (int i = 0; i < 3; ++i) {
      adam.zero_grad();
      auto out = trained.forward({x}).toTensor();
      auto loss = LogDepthLoss(out, torch::rand({2, 3, 1, 64, 96}) + 0.5);
      loss.backward();
      adam.step();
    }
  }
  torch::Tensor changed = x.clone();
  changed.index_put_({0, 0}, torch::rand({3, 64, 96}));
  const torch::Tensor a = trained.forward({x}).toTensor();
  const torch::Tensor b = trained.forward({changed}).toTensor();
  EXPECT_GT((a[0][1] - b[0][1]).abs().max().item<float>(), 0.0f) << "frame 1 must see frame 0";
  EXPECT_GT((a[0][2] - b[0][2]).abs().max().item<float>(), 0.0f);
  EXPECT_EQ((a[1] - b[1]).abs().max().item<float>(), 0.0f) << "snippets stay independent";
}

TEST(TinySnippetNetTest, SaveLoadRoundTrip) {
  torch::jit::Module net = BuildTinySnippetNet(3);
  net.eval();
  const std::string path = std::filesystem::temp_directory_path() / "tinysnippet_roundtrip.pt";
  net.save(path);
  torch::jit::Module loaded = torch::jit::load(path);
  torch::Tensor x = torch::rand({1, 3, 3, 32, 64});
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(net.forward({x}).toTensor(), loaded.forward({x}).toTensor()));
  std::filesystem::remove(path);
}

TEST(TinySnippetNetTest, ShippedModelLoadsThroughTheBackend) {
  const std::string path = std::string(DEPTHD_SOURCE_DIR) + "/models/tinysnippet.pt";
  ASSERT_TRUE(std::filesystem::exists(path)) << "the embedded model must ship in models/";
  EXPECT_LE(std::filesystem::file_size(path), 20u << 20);
  ModelLoadOptions options;
  options.path = path;
  options.device = "cpu";
  auto model = LoadDepthModel(options);
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ((*model)->contract().name, "tinysnippet-v5");
  EXPECT_EQ((*model)->contract().size_multiple, kTinySnippetStride);
  auto out = (*model)->PredictSnippets(torch::zeros({2, 3, 3, 64, 96}));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->sizes(), (std::vector<int64_t>{2, 3, 1, 64, 96}));
}

TEST(LogDepthLossTest, OnlyAPositiveScaleIsFree) {
  torch::manual_seed(4);
  torch::Tensor depth = torch::rand({2, 3, 1, 32, 32}) * 20 + 0.5;
  EXPECT_LT(LogDepthLoss(depth * 3.0, depth).item<float>(), 1e-5);
  // Each snippet has its own scale.
  torch::Tensor scaled = depth.clone();
  scaled[1] *= 0.01;
  EXPECT_LT(LogDepthLoss(scaled, depth).item<float>(), 1e-5);
  // A shift is not free, and an inverted prediction (disparity) is far off.
  EXPECT_GT(LogDepthLoss(depth + 5.0, depth).item<float>(), 0.05);
  EXPECT_GT(LogDepthLoss(1.0 / depth, depth).item<float>(), 1.0);
}

TEST(LogDepthLossTest, SkyIsAskedToBeTheFarthestDepth) {
  torch::Tensor depth = torch::full({1, 3, 1, 8, 8}, 2.0);
  depth.narrow(3, 4, 4).fill_(10.0);
  depth.narrow(3, 0, 2).fill_(0.0);  // sky rows
  torch::Tensor pred = torch::where(depth > 0, depth, torch::full_like(depth, 10.0));
  EXPECT_LT(LogDepthLoss(pred, depth, 0.0).item<float>(), 1e-6);
  torch::Tensor near_sky = torch::where(depth > 0, depth, torch::full_like(depth, 1.0));
  // Only the sky is wrong, by log(10), on 16 of 64 pixels per frame at weight 0.2.
  const double expected = 0.2 * 16 * std::log(10.0) / (48 + 0.2 * 16);
  EXPECT_NEAR(LogDepthLoss(near_sky, depth, 0.0).item<float>(), expected, 1e-4);
}

TEST(AlignedAbsRelTest, ScoresLikeTheEvaluation) {
  torch::Tensor depth = torch::rand({2, 3, 1, 16, 16}) * 10 + 1;
  depth[0][0][0][0].fill_(0.0);  // sky row: ignored
  EXPECT_LT(AlignedAbsRel(depth * 0.2 + 3.0, depth).item<float>(), 1e-5);
  // Near pixels (under 3 m, about a fifth) twice too far: no scale and shift can hide it.
  torch::Tensor bent = torch::where(depth < 3.0, depth * 2.0, depth);
  EXPECT_GT(AlignedAbsRel(bent, depth).item<float>(), 0.05);
  EXPECT_GT(AlignedAbsRel(1.0 / depth.clamp_min(1.0), depth).item<float>(), 0.3)
      << "inverted depth is not turned round";
}

TEST(AlignPerSnippetTest, FitsScaleAndShiftButNeverFlips) {
  torch::Tensor target = torch::rand({2, 3, 1, 16, 16});
  torch::Tensor mask = torch::ones_like(target);
  EXPECT_LT((AlignPerSnippet(target * 3.0 - 1.0, target, mask) - target).abs().max().item<float>(), 1e-4);
  // -target would fit exactly with scale -1; held at >= 0 it becomes each snippet's mean.
  torch::Tensor flipped = AlignPerSnippet(-target, target, mask);
  EXPECT_LT((flipped[0] - target[0].mean()).abs().max().item<float>(), 1e-4);
}

}  // namespace
}  // namespace depthd::train
