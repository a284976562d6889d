// A tiny random checkpoint in the exact diffusers layout, written by the test, loaded through
// the model loader and run end to end: snippet inference, co-alignment and refinement.
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/model/depth_model.h"
#include "core/model/diffusion/clip_text.h"
#include "core/model/diffusion/rollingdepth.h"
#include "core/model/model_loader.h"
#include "core/pipeline.h"
#include "tests/testing/tiny_rollingdepth.h"

namespace depthd {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class RollingDepthCheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("depthd_rd_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  absl::StatusOr<std::shared_ptr<DepthModel>> Load(const fs::path& dir) {
    ModelLoadOptions options;
    options.path = dir.string();
    options.device = "cpu";
    options.max_vae_bs = 3;
    return LoadDepthModel(options);
  }

  fs::path dir_;
};

// A short video with some structure: a gradient plus a moving square.
VideoFrames SmallVideo(int frames, int height, int width) {
  VideoFrames video;
  for (int f = 0; f < frames; ++f) {
    cv::Mat rgb(height, width, CV_8UC3);
    for (int y = 0; y < height; ++y) {
      for (int x = 0; x < width; ++x) {
        const bool square = std::abs(x - 4 - f) < 4 && std::abs(y - height / 2) < 4;
        rgb.at<cv::Vec3b>(y, x) = square ? cv::Vec3b(250, 30, 30)
                                         : cv::Vec3b(static_cast<uchar>(8 * y), 100, static_cast<uchar>(5 * x));
      }
    }
    video.frames.push_back(rgb);
  }
  return video;
}

TEST_F(RollingDepthCheckpointTest, LoadsAndRunsTheFullMethodWithRefinement) {
  ASSERT_TRUE(testing::WriteTinyRollingDepth(dir_.string()).ok());
  auto model = Load(dir_);
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ((*model)->contract().format, "diffusers");
  EXPECT_TRUE((*model)->contract().supports_refine);
  EXPECT_EQ((*model)->contract().size_multiple, 2);  // the tiny VAE downsamples once

  // The "full" preset: dilations [1, 10, 25] (capped), refinement with 10 steps.
  PipelineOverrides overrides;
  overrides.dilations = std::vector<int>{1, 3};
  overrides.refine_start_dilation = 2;
  auto options = ResolveOptions("full", overrides);
  ASSERT_TRUE(options.ok());
  ASSERT_EQ(options->refine_step, 10);
  std::vector<cv::Mat> frames;
  std::map<std::string, int> stages;
  PipelineCallbacks callbacks;
  callbacks.on_frame = [&](int index, const cv::Mat& depth) {
    EXPECT_EQ(index, static_cast<int>(frames.size()));
    frames.push_back(depth.clone());
    return absl::OkStatus();
  };
  callbacks.progress = [&](const std::string& stage, int, int) { stages[stage]++; };
  const VideoFrames video = SmallVideo(9, 13, 17);  // odd sizes: padded to the VAE's multiple
  auto summary = RunPipeline(**model, video, *options, callbacks);
  ASSERT_TRUE(summary.ok()) << summary.status();
  ASSERT_EQ(frames.size(), 9u);
  double lo = 1, hi = 0;
  for (const cv::Mat& f : frames) {
    ASSERT_EQ(f.rows, 13);
    ASSERT_EQ(f.cols, 17);
    ASSERT_TRUE(cv::checkRange(f));
    double a, b;
    cv::minMaxLoc(f, &a, &b);
    lo = std::min(lo, a);
    hi = std::max(hi, b);
  }
  EXPECT_NEAR(lo, 0.0, 1e-6);
  EXPECT_NEAR(hi, 1.0, 1e-6);
  EXPECT_GT(summary->stage_seconds.at(kStageRefine), 0.0);
  // Dilation 1: 7 snippets; dilation 3 is capped to 2 for 9 frames: 9 - 4 = 5.
  EXPECT_EQ(summary->snippets, 7 + 5);
  EXPECT_GT(stages[kStageInference], 0);

  // Same seed, same result; refinement changes the co-aligned result.
  std::vector<cv::Mat> again;
  callbacks.on_frame = [&](int, const cv::Mat& depth) {
    again.push_back(depth.clone());
    return absl::OkStatus();
  };
  ASSERT_TRUE(RunPipeline(**model, video, *options, callbacks).ok());
  EXPECT_EQ(cv::norm(frames[4], again[4], cv::NORM_INF), 0.0);
  std::vector<cv::Mat> unrefined;
  callbacks.on_frame = [&](int, const cv::Mat& depth) {
    unrefined.push_back(depth.clone());
    return absl::OkStatus();
  };
  PipelineOptions plain = *options;
  plain.refine_step = 0;
  ASSERT_TRUE(RunPipeline(**model, video, plain, callbacks).ok());
  EXPECT_GT(cv::norm(frames[4], unrefined[4], cv::NORM_INF), 1e-4);
}

TEST_F(RollingDepthCheckpointTest, SnippetPredictionsHaveTheRightShape) {
  ASSERT_TRUE(testing::WriteTinyRollingDepth(dir_.string(), {.prediction_type = "epsilon"}).ok());
  auto model = Load(dir_);
  ASSERT_TRUE(model.ok()) << model.status();
  auto depth = (*model)->PredictSnippets(torch::rand({2, 3, 3, 12, 16}) * 2 - 1);
  ASSERT_TRUE(depth.ok()) << depth.status();
  EXPECT_EQ(depth->sizes(), (std::vector<int64_t>{2, 3, 1, 12, 16}));
  EXPECT_TRUE(torch::isfinite(*depth).all().item<bool>());
  EXPECT_EQ(depth->device().type(), torch::kCPU);
}

TEST_F(RollingDepthCheckpointTest, HalfPrecisionFollowsFullPrecision) {
  // bfloat16 runs the same code path as fp16 on a GPU (casts, attention, interpolation).
  ASSERT_TRUE(testing::WriteTinyRollingDepth(dir_.string()).ok());
  ModelLoadOptions options;
  options.path = dir_.string();
  options.device = "cpu";
  auto full = LoadDepthModel(options);
  options.dtype = "bf16";
  auto half = LoadDepthModel(options);
  ASSERT_TRUE(full.ok()) << full.status();
  ASSERT_TRUE(half.ok()) << half.status();
  EXPECT_EQ((*half)->dtype(), DType::kBFloat16);
  torch::manual_seed(5);
  const torch::Tensor rgb = torch::rand({1, 3, 3, 16, 16}) * 2 - 1;
  auto a = (*full)->PredictSnippets(rgb);
  auto b = (*half)->PredictSnippets(rgb);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->scalar_type(), torch::kFloat32);
  EXPECT_TRUE(torch::isfinite(*b).all().item<bool>());
  const double spread = (*a - a->mean()).abs().mean().item<double>();
  EXPECT_LT((*a - *b).abs().mean().item<double>(), 0.1 * spread + 1e-3);
}

TEST_F(RollingDepthCheckpointTest, TextEncoderKeysWithOrWithoutTheirPrefixGiveOneEmbedding) {
  // transformers 4.x saved CLIPTextModel keys as "text_model.*", 5.x without the prefix.
  ASSERT_TRUE(testing::WriteTinyRollingDepth(dir_.string()).ok());
  auto prefixed = diffusion::EncodeEmptyPrompt(dir_.string());
  ASSERT_TRUE(prefixed.ok()) << prefixed.status();
  ASSERT_TRUE(testing::WriteTinyRollingDepth(dir_.string(), {.text_keys_unprefixed = true}).ok());
  auto plain = diffusion::EncodeEmptyPrompt(dir_.string());
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(prefixed->sizes(), (std::vector<int64_t>{1, 2, 32}));
  EXPECT_TRUE(torch::equal(*prefixed, *plain));
}

TEST_F(RollingDepthCheckpointTest, RefinementWithoutCapRefusesAShortVideoBeforeAnyStep) {
  // The snippet lists themselves are in refine_snippets_test.cc. Here the model: with
  // cap_dilation off (the paper preset) a start dilation of 6 needs 18 frames; 12 are refused
  // with INVALID_ARGUMENT, not refined with a silently lowered dilation. With the cap, the same
  // video refines (from dilation min(6, 12 / 3 - 1) = 3).
  ASSERT_TRUE(testing::WriteTinyRollingDepth(dir_.string()).ok());
  auto model = Load(dir_);
  ASSERT_TRUE(model.ok()) << model.status();
  constexpr int kFrames = 12;
  auto video = (*model)->NewVideo(8, 10, /*seed=*/3);
  ASSERT_TRUE(video.ok()) << video.status();
  torch::manual_seed(2);
  ASSERT_TRUE((*video)->AddFrames(torch::rand({kFrames, 3, 8, 10}) * 2 - 1, 0).ok());
  const torch::Tensor coaligned = torch::rand({kFrames, 1, 8, 10}) * 2 - 1;
  RefineOptions options;
  options.refine_step = 10;
  options.start_dilation = 6;
  options.cap_dilation = false;
  bool polled = false;
  options.cancelled = [&] {
    polled = true;
    return false;
  };
  auto refused = (*video)->Refine(coaligned, options);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.status().message(), HasSubstr("need at least 18 frames"));
  EXPECT_THAT(refused.status().message(), HasSubstr("the video has 12"));
  EXPECT_FALSE(polled);  // refused before the first refinement step
  options.cap_dilation = true;
  auto refined = (*video)->Refine(coaligned, options);
  ASSERT_TRUE(refined.ok()) << refined.status();
  EXPECT_EQ(refined->sizes(), (std::vector<int64_t>{kFrames, 1, 8, 10}));
  EXPECT_TRUE(polled);
}

TEST_F(RollingDepthCheckpointTest, MissingWeightIsNamed) {
  const std::string key = "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight";
  ASSERT_TRUE(testing::WriteTinyRollingDepth(dir_.string(), {.drop_unet_key = key}).ok());
  auto model = Load(dir_);
  ASSERT_FALSE(model.ok());
  EXPECT_THAT(model.status().message(), HasSubstr(key));
  EXPECT_THAT(model.status().message(), HasSubstr("unet/diffusion_pytorch_model.safetensors"));
}

TEST_F(RollingDepthCheckpointTest, MisShapedWeightIsNamed) {
  const std::string key = "conv_in.weight";
  ASSERT_TRUE(testing::WriteTinyRollingDepth(dir_.string(), {.reshape_unet_key = key}).ok());
  auto model = Load(dir_);
  ASSERT_FALSE(model.ok());
  EXPECT_THAT(model.status().message(), HasSubstr("'conv_in.weight' has shape"));
}

TEST_F(RollingDepthCheckpointTest, TruncatedFileAndBrokenConfigAreNamed) {
  ASSERT_TRUE(testing::WriteTinyRollingDepth(dir_.string()).ok());
  const fs::path weights = dir_ / "vae" / "diffusion_pytorch_model.safetensors";
  fs::resize_file(weights, fs::file_size(weights) / 2);
  auto truncated = Load(dir_);
  ASSERT_FALSE(truncated.ok());
  EXPECT_THAT(truncated.status().message(), HasSubstr("vae/diffusion_pytorch_model.safetensors"));

  ASSERT_TRUE(testing::WriteTinyRollingDepth(dir_.string()).ok());
  std::ofstream(dir_ / "unet" / "config.json") << R"({"block_out_channels": [32, 64], "in_channels": "eight"})";
  auto config = Load(dir_);
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(), HasSubstr("unet/config.json"));
  EXPECT_THAT(config.status().message(), HasSubstr("in_channels"));

  fs::remove(dir_ / "model_index.json");
  auto missing = Load(dir_);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("model_index.json"));
}

TEST_F(RollingDepthCheckpointTest, WeightsOfAnotherConfigAreRefused) {
  ASSERT_TRUE(testing::WriteTinyRollingDepth(dir_.string()).ok());
  // One layer per block in the weights, two in the config: keys are missing.
  std::string text = testing::TinyUNetConfigJson();
  text.replace(text.find("\"layers_per_block\": 1"), 21, "\"layers_per_block\": 2");
  std::ofstream(dir_ / "unet" / "config.json") << text;
  auto model = Load(dir_);
  ASSERT_FALSE(model.ok());
  EXPECT_THAT(model.status().message(), HasSubstr("is missing"));
}

}  // namespace
}  // namespace depthd
