#include "core/pipeline.h"

#include <atomic>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/model/depth_model.h"
#include "core/merge.h"
#include "tests/testing/fixture_model.h"
#include "tests/testing/synthetic_snippets.h"

namespace depthd {
namespace {

using ::testing::HasSubstr;

using testing::DepthAsVideo;
using testing::FixtureModel;

PipelineOptions Options() {
  PipelineOverrides overrides;
  overrides.dilations = std::vector<int>{1, 25};
  auto options = ResolveOptions("fast", overrides);
  EXPECT_TRUE(options.ok());
  return *options;
}

TEST(PipelineTest, StreamsEveryFrameInOrderInUnitRange) {
  FixtureModel model(/*size_multiple=*/8);
  const VideoFrames video = DepthAsVideo(30, 37, 50);  // not multiples of 8: padded and cropped
  std::vector<int> order;
  std::vector<std::string> stages;
  PipelineCallbacks callbacks;
  callbacks.on_frame = [&](int index, const cv::Mat& depth) {
    EXPECT_EQ(depth.type(), CV_32FC1);
    EXPECT_EQ(depth.rows, 37);
    EXPECT_EQ(depth.cols, 50);
    double lo, hi;
    cv::minMaxLoc(depth, &lo, &hi);
    EXPECT_GE(lo, 0.0);
    EXPECT_LE(hi, 1.0);
    order.push_back(index);
    return absl::OkStatus();
  };
  callbacks.progress = [&](const std::string& stage, int, int) {
    if (stages.empty() || stages.back() != stage) stages.push_back(stage);
  };
  auto summary = RunPipeline(model, video, Options(), callbacks);
  ASSERT_TRUE(summary.ok()) << summary.status();
  ASSERT_EQ(order.size(), 30u);
  for (int i = 0; i < 30; ++i) EXPECT_EQ(order[i], i);
  EXPECT_EQ(summary->frames, 30);
  EXPECT_EQ(summary->dilations, (std::vector<int>{1, 9}));  // 25 capped to 30 / 3 - 1
  EXPECT_EQ(summary->snippets, 28 + 12);
  EXPECT_EQ(model.batches(), (40 + 3) / 4);
  EXPECT_EQ(stages, (std::vector<std::string>{kStageInference, kStageCoalign, kStageMerge}));
  for (const char* stage : {kStageInference, kStageCoalign, kStageMerge, kStageEncodeOutput}) {
    EXPECT_TRUE(summary->stage_seconds.count(stage)) << stage;
  }
  EXPECT_TRUE(summary->coalign.converged);
}

TEST(PipelineTest, CoalignmentRecoversTheDepthBetterThanNone) {
  FixtureModel model;
  const VideoFrames video = DepthAsVideo(40, 36, 64);
  const auto truth = testing::MakeDepthVideo(40, 36, 64);
  auto depths = PredictSnippetDepths(model, video, Options());
  ASSERT_TRUE(depths.ok()) << depths.status();
  auto aligned = Coalign(*depths, {});
  ASSERT_TRUE(aligned.ok());
  const double with = testing::AlignedMae(*MergeToFrames(*depths, *aligned), truth);
  const double without = testing::AlignedMae(*MergeToFrames(*depths, IdentityAlignment(*depths)),
                                             truth);
  EXPECT_LT(with, without);
  EXPECT_LT(with, 0.02);  // the fixture quantises depth to 8 bits
}

TEST(PipelineTest, RestoresTheInputResolution) {
  FixtureModel model;
  const VideoFrames video = DepthAsVideo(6, 20, 30);
  PipelineOptions options = Options();
  options.restore_res = true;
  int frames = 0;
  PipelineCallbacks callbacks;
  callbacks.on_frame = [&](int, const cv::Mat& depth) {
    EXPECT_EQ(depth.cols, 60);
    EXPECT_EQ(depth.rows, 40);
    ++frames;
    return absl::OkStatus();
  };
  auto summary = RunPipeline(model, video, options, callbacks);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(frames, 6);
  EXPECT_EQ(summary->output_width, 60);
  EXPECT_EQ(summary->output_height, 40);
}

TEST(PipelineTest, RefinementWithAModelThatCannotRefineIsAClearError) {
  FixtureModel model;
  auto options = ResolveOptions("full", {});
  ASSERT_TRUE(options.ok());
  auto summary = RunPipeline(model, DepthAsVideo(6, 16, 16), *options, {});
  ASSERT_FALSE(summary.ok());
  EXPECT_EQ(summary.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(summary.status().message(), HasSubstr("refine_step 10"));
}

TEST(PipelineTest, SnippetLengthTheModelCannotTakeIsAClearError) {
  FixtureModel model;
  PipelineOptions options = Options();
  options.snippets.snippet_lengths = {4};
  auto summary = RunPipeline(model, DepthAsVideo(8, 16, 16), options, {});
  ASSERT_FALSE(summary.ok());
  EXPECT_THAT(summary.status().message(), HasSubstr("snippets of 3 frames"));
}

TEST(PipelineTest, TooShortVideoIsAClearError) {
  FixtureModel model;
  auto summary = RunPipeline(model, DepthAsVideo(2, 16, 16), Options(), {});
  ASSERT_FALSE(summary.ok());
  EXPECT_EQ(summary.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(PipelineTest, CancellationStopsWithinOneBatch) {
  FixtureModel model;
  std::atomic<bool> cancel{false};
  PipelineCallbacks callbacks;
  callbacks.cancelled = [&] { return cancel.load(); };
  callbacks.progress = [&](const std::string& stage, int done, int) {
    if (stage == kStageInference && done >= 4) cancel = true;
  };
  auto summary = RunPipeline(model, DepthAsVideo(30, 16, 16), Options(), callbacks);
  ASSERT_FALSE(summary.ok());
  EXPECT_EQ(summary.status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(model.batches(), 1);
}

TEST(PipelineTest, SinkErrorStopsTheRun) {
  FixtureModel model;
  PipelineCallbacks callbacks;
  callbacks.on_frame = [](int index, const cv::Mat&) {
    return index == 2 ? absl::UnavailableError("client went away") : absl::OkStatus();
  };
  auto summary = RunPipeline(model, DepthAsVideo(10, 16, 16), Options(), callbacks);
  ASSERT_FALSE(summary.ok());
  EXPECT_EQ(summary.status().code(), absl::StatusCode::kUnavailable);
}

TEST(PipelineTest, SameInputTwiceIsBitIdentical) {
  const VideoFrames video = DepthAsVideo(20, 24, 32);
  std::vector<cv::Mat> runs[2];
  for (int r = 0; r < 2; ++r) {
    FixtureModel model;
    PipelineCallbacks callbacks;
    callbacks.on_frame = [&](int, const cv::Mat& depth) {
      runs[r].push_back(depth.clone());
      return absl::OkStatus();
    };
    ASSERT_TRUE(RunPipeline(model, video, Options(), callbacks).ok());
  }
  ASSERT_EQ(runs[0].size(), runs[1].size());
  for (size_t i = 0; i < runs[0].size(); ++i) {
    EXPECT_EQ(cv::norm(runs[0][i], runs[1][i], cv::NORM_INF), 0.0);
  }
}

}  // namespace
}  // namespace depthd
