#include "core/coalign.h"

#include <cmath>
#include <limits>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/coalign_window.h"
#include "core/merge.h"
#include "tests/testing/synthetic_snippets.h"

namespace depthd {
namespace {

using ::testing::HasSubstr;
using testing::AlignedMae;
using testing::DistortedSnippets;
using testing::MakeDepthVideo;

constexpr int kFrames = 60;
constexpr int kHeight = 72;
constexpr int kWidth = 128;

SnippetPlan Plan(int frames, std::vector<int> dilations) {
  SnippetPlanOptions options;
  options.dilations = std::move(dilations);
  auto plan = PlanSnippets(frames, options);
  EXPECT_TRUE(plan.ok()) << plan.status();
  return *plan;
}

class CoalignTest : public ::testing::Test {
 protected:
  void SetUp() override {
    truth_ = MakeDepthVideo(kFrames, kHeight, kWidth);
    depths_ = DistortedSnippets(truth_, Plan(kFrames, {1, 25}), {});
  }

  CoalignResult Solve(CoalignSolver solver, int max_iterations = 2000, double tolerance = 1e-4) {
    CoalignOptions options;
    options.solver = solver;
    options.max_iterations = max_iterations;
    options.tolerance = tolerance;
    auto result = Coalign(depths_, options);
    EXPECT_TRUE(result.ok()) << result.status();
    return *result;
  }

  double MaeToTruth(const CoalignResult& alignment) {
    auto merged = MergeToFrames(depths_, alignment);
    EXPECT_TRUE(merged.ok()) << merged.status();
    return AlignedMae(*merged, truth_);
  }

  std::vector<cv::Mat> truth_;
  SnippetDepths depths_;
};

// The objective written out densely, straight from the formula.
double NaiveObjective(const SnippetDepths& depths, const CoalignResult& a, int border,
                      int factor) {
  const SnippetPlan& plan = depths.plan();
  float mn = std::numeric_limits<float>::infinity();
  for (int64_t k = 0; k < depths.num_slots(); ++k) {
    for (int64_t p = 0; p < depths.pixels(); ++p) {
      mn = std::min(mn, depths.SlotData(k)[p]);
    }
  }
  std::vector<std::pair<int, int>> pixels;
  for (int y = border; y < depths.height() - border; y += factor) {
    for (int x = border; x < depths.width() - border; x += factor) pixels.push_back({y, x});
  }
  const int N = plan.num_frames;
  const int P = static_cast<int>(pixels.size());
  std::vector<double> m(N * P, 0), md(N * P, 0), count(N, 0);
  auto value = [&](int g, int i, int j, int p) {
    const float x = depths.Slot(g, i, j)[pixels[p].first * depths.width() + pixels[p].second] - mn;
    return static_cast<double>(a.scales[g][i] * x + a.shifts[g][i]);
  };
  for (size_t g = 0; g < plan.groups.size(); ++g) {
    for (size_t i = 0; i < plan.groups[g].snippets.size(); ++i) {
      for (int j = 0; j < plan.groups[g].snippet_length; ++j) {
        const int f = plan.groups[g].snippets[i][j];
        count[f] += 1;
        for (int p = 0; p < P; ++p) {
          const double v = value(g, i, j, p);
          m[f * P + p] += v;
          md[f * P + p] += 1.0 / std::max(v, 1e-3);
        }
      }
    }
  }
  std::vector<double> c(N, 0), cd(N, 0);
  for (int f = 0; f < N; ++f) {
    for (int p = 0; p < P; ++p) {
      m[f * P + p] /= count[f];
      md[f * P + p] /= count[f];
      c[f] += std::fabs(m[f * P + p]) / P;
      cd[f] += std::fabs(md[f * P + p]) / P;
    }
  }
  double rows = 0;
  for (const auto& group : plan.groups) rows += group.snippet_length;
  const double Z = rows * N * P;
  double loss = 0;
  for (size_t g = 0; g < plan.groups.size(); ++g) {
    double reg_s = 0, reg_t = 0;
    const int S = static_cast<int>(plan.groups[g].snippets.size());
    for (int i = 0; i < S; ++i) {
      for (int j = 0; j < plan.groups[g].snippet_length; ++j) {
        const int f = plan.groups[g].snippets[i][j];
        for (int p = 0; p < P; ++p) {
          const double v = value(g, i, j, p);
          loss += std::fabs(v - m[f * P + p]) / c[f] / Z;
          loss += std::fabs(1.0 / std::max(v, 1e-3) - md[f * P + p]) / cd[f] / Z;
        }
      }
      reg_s += std::pow(std::max(0.0, 1.0 - a.scales[g][i]), 2);
      reg_t += std::pow(a.shifts[g][i], 2);
    }
    loss += 0.1 * reg_s / S + 10.0 * reg_t / S;
  }
  return loss;
}

TEST_F(CoalignTest, ObjectiveMatchesTheFormula) {
  CoalignResult perturbed = IdentityAlignment(depths_);
  for (auto& group : perturbed.scales) {
    for (size_t i = 0; i < group.size(); ++i) group[i] = 0.9f + 0.01f * (i % 7);
  }
  for (auto& group : perturbed.shifts) {
    for (size_t i = 0; i < group.size(); ++i) group[i] = 0.002f * (i % 5);
  }
  auto objective = ReferenceObjective(depths_, perturbed);
  ASSERT_TRUE(objective.ok()) << objective.status();
  EXPECT_NEAR(*objective, NaiveObjective(depths_, perturbed, 2, 10), 1e-5 * *objective);
}

TEST_F(CoalignTest, ReferenceBeatsNoAlignment) {
  const double unaligned = MaeToTruth(IdentityAlignment(depths_));
  const CoalignResult reference = Solve(CoalignSolver::kReference);
  const double aligned = MaeToTruth(reference);
  EXPECT_EQ(reference.iterations, 2000);
  EXPECT_LT(aligned, unaligned);
  RecordProperty("mae_unaligned", std::to_string(unaligned));
  RecordProperty("mae_reference", std::to_string(aligned));
  std::cout << "no alignment MAE " << unaligned << ", reference MAE " << aligned
            << ", reference loss " << reference.final_loss << "\n";
}

TEST_F(CoalignTest, EarlyStopStopsEarlyAndStaysCloseToReference) {
  const CoalignResult reference = Solve(CoalignSolver::kReference);
  const CoalignResult early = Solve(CoalignSolver::kEarlyStop);
  EXPECT_TRUE(early.converged);
  EXPECT_LT(early.iterations, 2000);
  auto a = MergeToFrames(depths_, early);
  auto b = MergeToFrames(depths_, reference);
  ASSERT_TRUE(a.ok() && b.ok());
  double mae = 0;
  for (int f = 0; f < kFrames; ++f) mae += cv::norm((*a)[f], (*b)[f], cv::NORM_L1) / (*a)[f].total();
  mae /= kFrames;
  std::cout << "early_stop: " << early.iterations << " iterations, MAE vs reference " << mae
            << "\n";
  EXPECT_LT(mae, 0.02);
}

TEST_F(CoalignTest, FastReachesAtLeastTheReferenceOptimum) {
  // The benchmark's harder setting (scale and shift sigma 0.3), where 2000 Adam steps are far
  // from the optimum.
  testing::Distortion strong;
  strong.log_scale_sigma = 0.3;
  strong.shift_sigma = 0.3;
  depths_ = DistortedSnippets(truth_, depths_.plan(), strong);
  const CoalignResult reference = Solve(CoalignSolver::kReference);
  const CoalignResult fast = Solve(CoalignSolver::kFast);
  EXPECT_TRUE(fast.converged);
  EXPECT_LE(fast.final_loss, reference.final_loss);
  const double fast_mae = MaeToTruth(fast);
  const double reference_mae = MaeToTruth(reference);
  std::cout << "fast: " << fast.iterations << " sweeps, loss " << fast.final_loss
            << " (reference " << reference.final_loss << "), MAE " << fast_mae
            << " (reference " << reference_mae << ")\n";
  EXPECT_LE(fast_mae, reference_mae);
}

TEST_F(CoalignTest, FastIsConvergedForReal) {
  const CoalignResult loose = Solve(CoalignSolver::kFast, 2000, 1e-4);
  const CoalignResult tight = Solve(CoalignSolver::kFast, 2000, 1e-6);
  auto a = MergeToFrames(depths_, loose);
  auto b = MergeToFrames(depths_, tight);
  ASSERT_TRUE(a.ok() && b.ok());
  double mae = 0;
  for (int f = 0; f < kFrames; ++f) mae += cv::norm((*a)[f], (*b)[f], cv::NORM_L1) / (*a)[f].total();
  EXPECT_LE(mae / kFrames, 0.002);
}

TEST_F(CoalignTest, SameInputGivesBitIdenticalOutput) {
  for (CoalignSolver solver : {CoalignSolver::kFast, CoalignSolver::kEarlyStop}) {
    const CoalignResult first = Solve(solver);
    const CoalignResult second = Solve(solver);
    EXPECT_EQ(first.scales, second.scales);
    EXPECT_EQ(first.shifts, second.shifts);
    auto a = MergeToFrames(depths_, first);
    auto b = MergeToFrames(depths_, second);
    ASSERT_TRUE(a.ok() && b.ok());
    for (int f = 0; f < kFrames; ++f) {
      EXPECT_EQ(cv::norm((*a)[f], (*b)[f], cv::NORM_INF), 0.0);
    }
  }
}

TEST(CoalignDegenerateTest, SingleSnippet) {
  const auto truth = MakeDepthVideo(3, 32, 48);
  SnippetDepths depths = DistortedSnippets(truth, Plan(3, {1}), {});
  for (CoalignSolver solver :
       {CoalignSolver::kFast, CoalignSolver::kEarlyStop, CoalignSolver::kReference}) {
    CoalignOptions options;
    options.solver = solver;
    options.max_iterations = 300;
    auto result = Coalign(depths, options);
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_TRUE(std::isfinite(result->final_loss));
    auto merged = MergeToFrames(depths, *result);
    ASSERT_TRUE(merged.ok());
    EXPECT_EQ(merged->size(), 3u);
  }
}

TEST(CoalignDegenerateTest, ConstantDepthDoesNotHang) {
  SnippetDepths depths(Plan(10, {1, 25}), 24, 24);
  for (int64_t k = 0; k < depths.num_slots(); ++k) {
    std::fill_n(depths.MutableSlotData(k), depths.pixels(), 0.5f);
  }
  CoalignOptions options;
  auto result = Coalign(depths, options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(std::isfinite(result->final_loss));
  auto merged = MergeToFrames(depths, *result);
  ASSERT_TRUE(merged.ok());
  for (const cv::Mat& frame : *merged) EXPECT_EQ(cv::countNonZero(frame != frame), 0);
}

TEST(CoalignDegenerateTest, OneDilationOnly) {
  const auto truth = MakeDepthVideo(20, 32, 48);
  SnippetDepths depths = DistortedSnippets(truth, Plan(20, {1}), {});
  auto result = Coalign(depths, {});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->converged);
  EXPECT_LT(AlignedMae(*MergeToFrames(depths, *result), truth),
            AlignedMae(*MergeToFrames(depths, IdentityAlignment(depths)), truth) + 1e-6);
}

TEST(CoalignDegenerateTest, NanOrInfIsAClearError) {
  const auto truth = MakeDepthVideo(10, 32, 48);
  SnippetDepths depths = DistortedSnippets(truth, Plan(10, {1}), {});
  depths.Slot(0, 2, 1)[5] = std::numeric_limits<float>::quiet_NaN();
  for (CoalignSolver solver : {CoalignSolver::kFast, CoalignSolver::kReference}) {
    CoalignOptions options;
    options.solver = solver;
    auto result = Coalign(depths, options);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(result.status().message(), HasSubstr("NaN or Inf"));
  }
  depths.Slot(0, 2, 1)[5] = std::numeric_limits<float>::infinity();
  EXPECT_FALSE(Coalign(depths, {}).ok());
}

TEST(CoalignDegenerateTest, CancelStopsTheSolver) {
  const auto truth = MakeDepthVideo(30, 32, 48);
  SnippetDepths depths = DistortedSnippets(truth, Plan(30, {1, 25}), {});
  CoalignOptions options;
  options.solver = CoalignSolver::kReference;
  int polls = 0;
  options.cancelled = [&] { return ++polls > 5; };
  auto result = Coalign(depths, options);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kCancelled);
}

TEST(CoalignOptionsTest, ParsesSolverNames) {
  EXPECT_EQ(*ParseCoalignSolver("fast"), CoalignSolver::kFast);
  EXPECT_EQ(*ParseCoalignSolver(""), CoalignSolver::kFast);
  EXPECT_EQ(*ParseCoalignSolver("early_stop"), CoalignSolver::kEarlyStop);
  EXPECT_EQ(*ParseCoalignSolver("Reference"), CoalignSolver::kReference);
  EXPECT_EQ(ParseCoalignSolver("adam").status().code(), absl::StatusCode::kInvalidArgument);
}

// Windowed solves average the soft constraints over the video's snippets so far, up to
// `soft_horizon` per group: a horizon above the video's snippet count changes nothing, a short
// one changes the result (the option is honoured) and the solve still converges.
TEST(CoalignWindowTest, SoftConstraintsAverageOverAtMostTheHorizon) {
  const std::vector<cv::Mat> truth = MakeDepthVideo(120, 24, 40);
  const SnippetDepths depths = DistortedSnippets(truth, Plan(120, {1, 10}), {});
  auto run = [&](int horizon, WindowStats* stats) {
    WindowOptions options;
    options.window = 20;
    options.soft_horizon = horizon;
    std::vector<cv::Mat> frames;
    const absl::Status status = CoalignWindowedOffline(
        depths, options,
        [&](int, const cv::Mat& depth) {
          frames.push_back(depth.clone());
          return absl::OkStatus();
        },
        stats);
    EXPECT_TRUE(status.ok()) << status;
    return frames;
  };
  WindowStats unbounded_stats, above_stats, short_stats;
  const std::vector<cv::Mat> unbounded = run(1 << 30, &unbounded_stats);
  const std::vector<cv::Mat> above = run(120, &above_stats);
  const std::vector<cv::Mat> short_horizon = run(5, &short_stats);
  ASSERT_EQ(unbounded.size(), 120u);
  ASSERT_EQ(short_horizon.size(), 120u);
  double same = 0.0, changed = 0.0;
  for (size_t f = 0; f < unbounded.size(); ++f) {
    same = std::max(same, cv::norm(unbounded[f], above[f], cv::NORM_INF));
    changed = std::max(changed, cv::norm(unbounded[f], short_horizon[f], cv::NORM_INF));
  }
  EXPECT_EQ(same, 0.0);
  EXPECT_GT(changed, 0.0);
  EXPECT_TRUE(short_stats.converged);
  EXPECT_LT(testing::AlignedMae(short_horizon, truth), 0.05);
}

}  // namespace
}  // namespace depthd
