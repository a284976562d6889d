// The DDIM scheduler against values computed by hand from the diffusers formulas.
#include "core/model/diffusion/ddim.h"

#include <gtest/gtest.h>

namespace depthd::diffusion {
namespace {

// Betas 0.1, 0.2, 0.3, 0.4: alphas_cumprod 0.9, 0.72, 0.504, 0.3024.
DdimConfig FourStepConfig(const std::string& prediction, const std::string& spacing) {
  DdimConfig c;
  c.num_train_timesteps = 4;
  c.beta_start = 0.1;
  c.beta_end = 0.4;
  c.beta_schedule = "linear";
  c.prediction_type = prediction;
  c.timestep_spacing = spacing;
  c.set_alpha_to_one = false;
  c.clip_sample = false;
  return c;
}

double StepValue(const DdimScheduler& scheduler, int t, int steps) {
  torch::Tensor x = torch::full({1}, 1.0), m = torch::full({1}, 0.5);
  return scheduler.Step(m, t, x, steps).item<double>();
}

TEST(DdimTest, AlphasCumprodOfALinearSchedule) {
  DdimScheduler s(FourStepConfig("epsilon", "leading"));
  EXPECT_NEAR(s.AlphaCumprod(0), 0.9, 1e-12);
  EXPECT_NEAR(s.AlphaCumprod(1), 0.72, 1e-12);
  EXPECT_NEAR(s.AlphaCumprod(2), 0.504, 1e-12);
  EXPECT_NEAR(s.AlphaCumprod(3), 0.3024, 1e-12);
}

TEST(DdimTest, TimestepSpacings) {
  EXPECT_EQ(*DdimScheduler(FourStepConfig("epsilon", "leading")).Timesteps(2), (std::vector<int>{2, 0}));
  EXPECT_EQ(*DdimScheduler(FourStepConfig("epsilon", "trailing")).Timesteps(2), (std::vector<int>{3, 1}));
  EXPECT_EQ(*DdimScheduler(FourStepConfig("epsilon", "linspace")).Timesteps(2), (std::vector<int>{3, 0}));
  DdimConfig offset = FourStepConfig("epsilon", "leading");
  offset.steps_offset = 1;
  EXPECT_EQ(*DdimScheduler(offset).Timesteps(2), (std::vector<int>{3, 1}));
  // RollingDepth's single step with trailing spacing starts at the last training timestep.
  DdimConfig thousand;
  thousand.timestep_spacing = "trailing";
  EXPECT_EQ(*DdimScheduler(thousand).Timesteps(1), (std::vector<int>{999}));
  EXPECT_EQ(*DdimScheduler(thousand).Timesteps(20), (std::vector<int>{999, 949, 899, 849, 799, 749, 699, 649, 599, 549, 499, 449, 399, 349, 299, 249, 199, 149, 99, 49}));
  EXPECT_FALSE(DdimScheduler(thousand).Timesteps(0).ok());
  EXPECT_FALSE(DdimScheduler(thousand).Timesteps(1001).ok());
}

TEST(DdimTest, StepForEachPredictionType) {
  // From t = 3 to t = 1 (2 steps of 4): a = 0.3024, a_prev = 0.72, sample 1.0, output 0.5.
  EXPECT_NEAR(StepValue(DdimScheduler(FourStepConfig("epsilon", "trailing")), 3, 2), 1.1632189231, 1e-6);
  EXPECT_NEAR(StepValue(DdimScheduler(FourStepConfig("sample", "trailing")), 3, 2), 0.8836112081, 1e-6);
  EXPECT_NEAR(StepValue(DdimScheduler(FourStepConfig("v_prediction", "trailing")), 3, 2), 0.6997091188, 1e-6);
}

TEST(DdimTest, FinalStepUsesTheFinalAlpha) {
  // From t = 1 with 2 steps, prev = -1: alphas_cumprod[0] = 0.9 unless set_alpha_to_one.
  EXPECT_NEAR(StepValue(DdimScheduler(FourStepConfig("epsilon", "trailing")), 1, 2), 0.9803438826, 1e-6);
  DdimConfig one = FourStepConfig("epsilon", "trailing");
  one.set_alpha_to_one = true;
  // a_prev = 1: the step returns x0 = (1 - sqrt(0.28) * 0.5) / sqrt(0.72).
  EXPECT_NEAR(StepValue(DdimScheduler(one), 1, 2), (1 - std::sqrt(0.28) * 0.5) / std::sqrt(0.72), 1e-6);
}

TEST(DdimTest, ClipSampleClampsThePredictedOriginal) {
  DdimConfig c = FourStepConfig("sample", "trailing");
  c.clip_sample = true;
  c.clip_sample_range = 0.25;
  // x0 = 0.5 is clipped to 0.25; epsilon is computed from the unclipped x0 (as diffusers does).
  const double eps = (1 - std::sqrt(0.3024) * 0.5) / std::sqrt(0.6976);
  EXPECT_NEAR(StepValue(DdimScheduler(c), 3, 2), std::sqrt(0.72) * 0.25 + std::sqrt(0.28) * eps, 1e-6);
}

TEST(DdimTest, AddNoise) {
  DdimScheduler s(FourStepConfig("epsilon", "leading"));
  EXPECT_NEAR(s.AddNoise(torch::full({1}, 2.0), torch::full({1}, -1.0), 2).item<double>(),
              0.7155864735, 1e-6);
}

TEST(DdimTest, ScaledLinearAndZeroTerminalSnr) {
  DdimConfig c;
  c.beta_schedule = "scaled_linear";
  c.beta_start = 0.00085;
  c.beta_end = 0.012;
  DdimScheduler plain(c);
  EXPECT_NEAR(plain.AlphaCumprod(0), 1 - 0.00085, 1e-9);
  c.rescale_betas_zero_snr = true;
  DdimScheduler rescaled(c);
  EXPECT_NEAR(rescaled.AlphaCumprod(0), 1 - 0.00085, 1e-9);
  EXPECT_NEAR(rescaled.AlphaCumprod(999), 0.0, 1e-12);
}

TEST(DdimTest, ConfigErrorsNameTheField) {
  auto file = ConfigFile::Parse(R"({"prediction_type": "flow"})", "scheduler_config.json");
  ASSERT_TRUE(file.ok());
  auto config = ParseDdimConfig(*file);
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("scheduler_config.json"), std::string::npos);
  EXPECT_NE(config.status().message().find("prediction_type"), std::string::npos);
  auto typed = ConfigFile::Parse(R"({"num_train_timesteps": "many"})", "s.json");
  EXPECT_FALSE(ParseDdimConfig(*typed).ok());
}

}  // namespace
}  // namespace depthd::diffusion
