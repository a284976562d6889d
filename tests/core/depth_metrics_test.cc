#include "core/depth_metrics.h"

#include <gtest/gtest.h>

namespace depthd {
namespace {

std::vector<cv::Mat> Ramp(int frames, float offset = 0.0f) {
  std::vector<cv::Mat> video;
  for (int f = 0; f < frames; ++f) {
    cv::Mat d(16, 16, CV_32FC1);
    for (int y = 0; y < 16; ++y) {
      for (int x = 0; x < 16; ++x) d.at<float>(y, x) = 1.0f + 0.1f * x + 0.05f * y + 0.02f * f + offset;
    }
    video.push_back(d);
  }
  return video;
}

TEST(DepthMetricsTest, PerfectPredictionScoresZeroAndOne) {
  const auto gt = Ramp(4);
  auto accuracy = EvaluateDepth(gt, gt);
  ASSERT_TRUE(accuracy.ok());
  EXPECT_NEAR(accuracy->abs_rel, 0.0, 1e-6);
  EXPECT_DOUBLE_EQ(accuracy->delta1, 1.0);
}

TEST(DepthMetricsTest, AffineDistortionIsRemoved) {
  const auto gt = Ramp(3);
  std::vector<cv::Mat> pred;
  for (const cv::Mat& g : gt) pred.push_back((g - 3.0f) * 0.5f);  // g = 2 p + 3
  auto accuracy = EvaluateDepth(pred, gt);
  ASSERT_TRUE(accuracy.ok());
  EXPECT_NEAR(accuracy->fit.scale, 2.0, 1e-4);
  EXPECT_NEAR(accuracy->fit.shift, 3.0, 1e-4);
  EXPECT_NEAR(accuracy->abs_rel, 0.0, 1e-5);
}

TEST(DepthMetricsTest, InvertedPredictionIsNotTurnedRound) {
  // Disparity-like output (falls where depth rises) fits no better than a constant.
  const auto gt = Ramp(3);
  std::vector<cv::Mat> pred;
  for (const cv::Mat& g : gt) pred.push_back(10.0f - g);
  auto accuracy = EvaluateDepth(pred, gt);
  ASSERT_TRUE(accuracy.ok());
  EXPECT_EQ(accuracy->fit.scale, 0.0);
  double mean = 0;
  for (const cv::Mat& g : gt) mean += cv::mean(g)[0] / gt.size();
  EXPECT_NEAR(accuracy->fit.shift, mean, 1e-4);
  EXPECT_GT(accuracy->abs_rel, 0.1);
}

TEST(DepthMetricsTest, InvalidGroundTruthIsIgnored) {
  auto gt = Ramp(2);
  auto pred = Ramp(2);
  gt[0].at<float>(0, 0) = 0.0f;  // sky
  pred[0].at<float>(0, 0) = 1000.0f;
  auto accuracy = EvaluateDepth(pred, gt);
  ASSERT_TRUE(accuracy.ok());
  EXPECT_NEAR(accuracy->abs_rel, 0.0, 1e-5);
}

TEST(DepthMetricsTest, CompareIdenticalAndShifted) {
  const auto a = Ramp(5);
  auto same = CompareDepth(a, a);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->mae, 0.0);
  EXPECT_EQ(same->p90, 0.0);
  EXPECT_NEAR(same->temporal_ratio, 1.0, 1e-9);
  auto shifted = CompareDepth(Ramp(5, 0.1f), a);
  ASSERT_TRUE(shifted.ok());
  EXPECT_NEAR(shifted->mae, 0.1, 1e-5);
  EXPECT_NEAR(shifted->rmse, 0.1, 1e-5);
  EXPECT_NEAR(shifted->smooth_mae, 0.1, 1e-5);
  EXPECT_NE(shifted->ToJson().find("\"temporal_ratio\""), std::string::npos);
  EXPECT_FALSE(CompareDepth(Ramp(2), Ramp(3)).ok());
}

TEST(DepthMetricsTest, TemporalChange) {
  EXPECT_NEAR(MeanTemporalChange(Ramp(3)), 0.02, 1e-6);
}

}  // namespace
}  // namespace depthd
