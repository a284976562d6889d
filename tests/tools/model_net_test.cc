#include <filesystem>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/model_loader.h"
#include "core/depth_model.h"
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
    torch::optim::Adam adam(params, 1e-2);
    for (int i = 0; i < 3; ++i) {
      adam.zero_grad();
      auto out = trained.forward({x}).toTensor();
      auto loss = SnippetLoss(out, torch::rand({2, 3, 1, 64, 96}), torch::ones({2, 3, 1, 64, 96}));
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
  EXPECT_EQ((*model)->contract().name, "tinysnippet-v3");
  EXPECT_EQ((*model)->contract().size_multiple, kTinySnippetStride);
  auto out = (*model)->PredictSnippets(torch::zeros({2, 3, 3, 64, 96}));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->sizes(), (std::vector<int64_t>{2, 3, 1, 64, 96}));
}

TEST(SnippetLossTest, AffineDistortionCostsNothing) {
  torch::Tensor target = torch::rand({2, 3, 1, 32, 32});
  torch::Tensor mask = torch::ones_like(target);
  torch::Tensor pred = target * 3.0 - 1.0;
  EXPECT_LT(SnippetLoss(pred, target, mask).item<float>(), 1e-4);
  EXPECT_GT(SnippetLoss(torch::rand_like(target), target, mask).item<float>(), 0.05);
}

TEST(SnippetLossTest, L1WeightScalesOnlyTheL1Term) {
  torch::manual_seed(3);
  torch::Tensor target = torch::rand({2, 3, 1, 32, 32});
  torch::Tensor mask = torch::ones_like(target);
  torch::Tensor pred = torch::rand_like(target);
  const float l1 = SnippetLoss(pred, target, mask, 0.0).item<float>();
  const float gradient = SnippetLoss(pred, target, mask).item<float>() - l1;
  // The alignment stays unweighted, so a uniform weight of 3 triples the L1 term exactly.
  EXPECT_NEAR(SnippetLoss(pred, target, mask, 0.0, 4, torch::full_like(target, 3.0)).item<float>(),
              3.0f * l1, 1e-4);
  EXPECT_NEAR(SnippetLoss(pred, target, mask, 0.5, 4, torch::full_like(target, 3.0)).item<float>(),
              3.0f * l1 + gradient, 1e-4);
  // Weight only on the first snippet: the loss is its L1 share, with zero error elsewhere.
  torch::Tensor weight = torch::zeros_like(target);
  weight[0].fill_(1.0);
  EXPECT_LT(SnippetLoss(pred, target, mask, 0.0, 4, weight).item<float>(), l1);
}

}  // namespace
}  // namespace depthd::train
