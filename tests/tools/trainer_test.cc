// The trainer on tiny data: the loss falls, and a run resumed from a checkpoint goes on exactly
// as the uninterrupted run does (weights, optimiser, sampler, torch's generator, the clip pool).
#include "tools/train/trainer.h"

#include <filesystem>

#include <gtest/gtest.h>
#include <torch/script.h>

#include "core/model/device.h"

namespace depthd::train {
namespace {

namespace fs = std::filesystem;

fs::path TempDir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() /
                       ("depthd_trainer_test_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  return dir;
}

TrainOptions Tiny(const fs::path& out) {
  TrainOptions o;
  o.clips = 2;
  o.clip_frames = 8;
  o.held_out_clips = 1;
  o.width = 64;
  o.height = 64;
  o.batch = 2;
  o.lr = 2e-3;
  o.seed = 5;
  o.minutes = 60;  // never the limit: the schedule then depends on the step alone
  o.log_every = 1000;
  o.checkpoint_every = 1000;
  o.out = out.string();
  return o;
}

double Mean(const std::vector<double>& v, size_t from, size_t to) {
  double sum = 0;
  for (size_t i = from; i < to; ++i) sum += v[i];
  return sum / static_cast<double>(to - from);
}

TEST(TrainerTest, LossFallsOnTinyData) {
  SetTorchThreads(2);
  const fs::path dir = TempDir("falls");
  TrainOptions o = Tiny(dir);
  o.steps = 60;
  auto result = Train(o, {});
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->losses.size(), 60u);
  EXPECT_EQ(result->final_step, 60);
  const double first = Mean(result->losses, 0, 10), last = Mean(result->losses, 50, 60);
  EXPECT_LT(last, 0.8 * first) << "first ten steps " << first << ", last ten " << last;
  EXPECT_TRUE(fs::exists(dir / "last.pt") && fs::exists(dir / "best.pt") &&
              fs::exists(dir / "train.log"));
  fs::remove_all(dir);
}

TEST(TrainerTest, ResumedRunMatchesTheUninterruptedOne) {
  SetTorchThreads(2);
  const fs::path straight_dir = TempDir("straight"), split_dir = TempDir("split");
  TrainOptions o = Tiny(straight_dir);
  // Everything that draws: refreshed clips, the renderer's variety, camera effects (torch's
  // generator draws their noise).
  o.refresh_every = 3;
  o.variety = true;
  o.camera_effects = true;
  o.abs_rel_weight = 1.0;
  o.steps = 10;
  auto straight = Train(o, {});
  ASSERT_TRUE(straight.ok()) << straight.status();

  o.out = split_dir.string();
  o.stop_after = 5;  // the same schedule, paused half way
  auto first = Train(o, {});
  ASSERT_TRUE(first.ok()) << first.status();
  o.stop_after = 0;
  o.resume = (split_dir / "last.pt").string();
  auto second = Train(o, {});
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(second->losses.size(), 5u);
  // The batch and the weights at the resume are exactly those of the uninterrupted run, so its
  // first step's loss is the same number; after that the two runs agree to float rounding (the
  // restored optimiser's arithmetic is not bit for bit the same, ~1e-7 relative per step),
  // far below what another batch or a lost optimiser state would change.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(first->losses[i], straight->losses[i]) << "step " << i;
  EXPECT_EQ(second->losses[0], straight->losses[5]);
  for (int i = 1; i < 5; ++i) {
    EXPECT_NEAR(second->losses[i], straight->losses[5 + i],
                1e-5 * std::abs(straight->losses[5 + i]))
        << "step " << 5 + i;
  }
  auto a = torch::jit::load((straight_dir / "last.pt").string()),
       b = torch::jit::load((split_dir / "last.pt").string());
  std::vector<torch::Tensor> pa, pb;
  for (const torch::Tensor& p : a.parameters()) pa.push_back(p);
  for (const torch::Tensor& p : b.parameters()) pb.push_back(p);
  ASSERT_EQ(pa.size(), pb.size());
  double largest = 0;
  for (size_t i = 0; i < pa.size(); ++i)
    largest = std::max(largest, (pa[i] - pb[i]).abs().max().item<double>());
  EXPECT_LT(largest, 1e-4);
  fs::remove_all(straight_dir);
  fs::remove_all(split_dir);
}

TEST(TrainerTest, RefusesOptionsItCannotHonour) {
  TrainOptions o = Tiny(TempDir("refuses"));
  o.width = 70;
  EXPECT_EQ(Train(o, {}).status().code(), absl::StatusCode::kInvalidArgument);
  o = Tiny(TempDir("refuses"));
  o.photometric_weight = 1.0;  // without real clips
  EXPECT_EQ(Train(o, {}).status().code(), absl::StatusCode::kInvalidArgument);
  o = Tiny(TempDir("refuses"));
  o.textures = "/nonexistent";  // without --variety
  EXPECT_EQ(Train(o, {}).status().code(), absl::StatusCode::kInvalidArgument);
  o = Tiny(TempDir("refuses"));
  o.train_seed = 99999;
  EXPECT_EQ(Train(o, {}).status().code(), absl::StatusCode::kInvalidArgument);
  fs::remove_all(TempDir("refuses"));
}

}  // namespace
}  // namespace depthd::train
