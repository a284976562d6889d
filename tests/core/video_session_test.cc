#include "core/video_session.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/coalign.h"
#include "core/media/depth_image.h"
#include "core/merge.h"
#include "core/pipeline.h"
#include "tests/testing/fixture_model.h"
#include "tests/testing/synthetic_snippets.h"

namespace depthd {
namespace {

using ::testing::HasSubstr;
using testing::DepthAsVideo;
using testing::FixtureModel;

SessionOptions Options(CoalignScope scope, Normalization normalization) {
  PipelineOverrides overrides;
  overrides.dilations = std::vector<int>{1, 25};
  auto pipeline = ResolveOptions("fast", overrides);
  EXPECT_TRUE(pipeline.ok());
  SessionOptions options;
  options.pipeline = *pipeline;
  options.scope = scope;
  options.normalization = normalization;
  return options;
}

struct SessionRun {
  std::vector<cv::Mat> frames;
  std::vector<int> frames_in_at_emit;  // frames pushed when each frame left
  PipelineSummary summary;
  int64_t peak_bytes = 0;
  int latency = 0;
};

SessionRun RunSession(const VideoFrames& video, SessionOptions options, FixtureModel* model_out = nullptr) {
  FixtureModel local;
  FixtureModel& model = model_out != nullptr ? *model_out : local;
  SessionRun run;
  VideoSession* session_ptr = nullptr;
  options.on_frame = [&](int index, const cv::Mat& depth) {
    EXPECT_EQ(index, static_cast<int>(run.frames.size()));
    run.frames.push_back(depth.clone());
    run.frames_in_at_emit.push_back(session_ptr->frames_in());
    return absl::OkStatus();
  };
  auto session = VideoSession::Create(model, options);
  EXPECT_TRUE(session.ok()) << session.status();
  if (!session.ok()) return run;
  session_ptr = session->get();
  run.latency = (*session)->latency_frames();
  for (const cv::Mat& frame : video.frames) {
    EXPECT_TRUE((*session)->PushFrame(frame).ok());
    run.peak_bytes = std::max(run.peak_bytes, (*session)->memory_bytes());
  }
  absl::Status finished = (*session)->Finish();
  EXPECT_TRUE(finished.ok()) << finished;
  run.summary = (*session)->summary();
  return run;
}

double MaxDifference(const std::vector<cv::Mat>& a, const std::vector<cv::Mat>& b) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0.0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    worst = std::max(worst, cv::norm(a[i], b[i], cv::NORM_INF));
  }
  return worst;
}

// The session with the global scope is the whole-video method: predictions of every snippet,
// one co-alignment, the two-pass merge, bit for bit.
TEST(VideoSessionTest, GlobalScopeIsBitIdenticalToTheWholeVideoPath) {
  const VideoFrames video = DepthAsVideo(90, 24, 40);
  SessionOptions options = Options(CoalignScope::kGlobal, Normalization::kGlobal);
  FixtureModel model;
  auto depths = PredictSnippetDepths(model, video, options.pipeline);
  ASSERT_TRUE(depths.ok()) << depths.status();
  auto alignment = Coalign(*depths, options.pipeline.coalign);
  ASSERT_TRUE(alignment.ok());
  auto expected = MergeToFrames(*depths, *alignment);
  ASSERT_TRUE(expected.ok());

  const SessionRun run = RunSession(video, options);
  EXPECT_EQ(MaxDifference(run.frames, *expected), 0.0);
  EXPECT_EQ(run.summary.coalign.iterations, alignment->iterations);
  EXPECT_EQ(run.summary.snippets, depths->plan().TotalSnippets());
}

// ALIGNED frames with the summary's range give GLOBAL's bytes, for both scopes.
TEST(VideoSessionTest, AlignedFramesAndTheRangeReproduceGlobalExactly) {
  const VideoFrames video = DepthAsVideo(100, 24, 40);
  for (CoalignScope scope : {CoalignScope::kGlobal, CoalignScope::kWindowed}) {
    const SessionRun global = RunSession(video, Options(scope, Normalization::kGlobal));
    const SessionRun aligned = RunSession(video, Options(scope, Normalization::kAligned));
    ASSERT_EQ(aligned.frames.size(), 100u);
    std::vector<cv::Mat> normalised;
    for (const cv::Mat& frame : aligned.frames) {
      cv::Mat copy = frame.clone();
      NormalizeDepth(aligned.summary.depth_min, aligned.summary.depth_max, &copy);
      normalised.push_back(copy);
    }
    EXPECT_EQ(MaxDifference(normalised, global.frames), 0.0) << CoalignScopeName(scope);
    EXPECT_EQ(aligned.summary.depth_min, global.summary.depth_min);
    EXPECT_EQ(aligned.summary.depth_max, global.summary.depth_max);
  }
}

TEST(VideoSessionTest, WindowedMatchesGlobalAfterOneAffineFit) {
  const VideoFrames video = DepthAsVideo(160, 24, 40);
  const auto truth = testing::MakeDepthVideo(160, 24, 40);
  const SessionRun global = RunSession(video, Options(CoalignScope::kGlobal, Normalization::kGlobal));
  const SessionRun windowed = RunSession(video, Options(CoalignScope::kWindowed, Normalization::kGlobal));
  EXPECT_LT(testing::AlignedMae(windowed.frames, global.frames), 0.01);
  const double error_global = testing::AlignedMae(global.frames, truth);
  const double error_windowed = testing::AlignedMae(windowed.frames, truth);
  EXPECT_LE(error_windowed, 1.05 * error_global + 1e-4);
  EXPECT_GT(windowed.summary.solves, 5);
}

// With ALIGNED (or RUNNING) a frame leaves once the snippets covering it left the window, not at
// the end, and never later than the latency the session states.
TEST(VideoSessionTest, FramesLeaveWithinTheStatedLatency) {
  const VideoFrames video = DepthAsVideo(200, 16, 24);
  for (Normalization normalization : {Normalization::kAligned, Normalization::kRunning}) {
    const SessionRun run = RunSession(video, Options(CoalignScope::kWindowed, normalization));
    ASSERT_EQ(run.frames.size(), 200u);
    EXPECT_GT(run.latency, 2 * 25);
    EXPECT_LT(run.latency, 200);
    for (size_t i = 0; i < run.frames.size(); ++i) {
      EXPECT_LE(run.frames_in_at_emit[i], std::min<int>(200, static_cast<int>(i) + 1 + run.latency))
          << "frame " << i;
    }
    EXPECT_LT(run.frames_in_at_emit[0], 200) << "the first frame must leave before the end";
    for (const cv::Mat& frame : run.frames) {
      double lo, hi;
      cv::minMaxLoc(frame, &lo, &hi);
      if (normalization == Normalization::kRunning) {
        EXPECT_GE(lo, 0.0);
        EXPECT_LE(hi, 1.0);
      }
    }
  }
}

// What the session holds depends on the window and the dilations, not on the video's length.
TEST(VideoSessionTest, MemoryDoesNotGrowWithLength) {
  SessionOptions options = Options(CoalignScope::kWindowed, Normalization::kAligned);
  FixtureModel short_model, long_model;
  const SessionRun short_run = RunSession(DepthAsVideo(150, 16, 24), options, &short_model);
  const SessionRun long_run = RunSession(DepthAsVideo(450, 16, 24), options, &long_model);
  ASSERT_EQ(long_run.frames.size(), 450u);
  EXPECT_LE(long_run.peak_bytes, short_run.peak_bytes * 11 / 10);
  EXPECT_EQ(long_model.max_frames_held(), short_model.max_frames_held());
  // Until a video is 3 x (25 + 1) frames long, cap_dilation may still lower 25: the frames wait.
  EXPECT_LE(long_model.max_frames_held(), 3 * (25 + 1));
  // The global scope keeps every prediction: three times the video, about three times the bytes.
  const SessionOptions global = Options(CoalignScope::kGlobal, Normalization::kGlobal);
  const SessionRun global_short = RunSession(DepthAsVideo(150, 16, 24), global);
  const SessionRun global_long = RunSession(DepthAsVideo(450, 16, 24), global);
  EXPECT_GT(global_long.peak_bytes, 2 * global_short.peak_bytes);
}

TEST(VideoSessionTest, ShortVideosCapTheDilationAtTheEnd) {
  const SessionRun run = RunSession(DepthAsVideo(30, 16, 16),
                             Options(CoalignScope::kWindowed, Normalization::kGlobal));
  EXPECT_EQ(run.frames.size(), 30u);
  EXPECT_EQ(run.summary.dilations, (std::vector<int>{1, 9}));
}

TEST(VideoSessionTest, OptionsThatCannotBeHonouredAreClearErrors) {
  FixtureModel model;
  SessionOptions refine = Options(CoalignScope::kWindowed, Normalization::kGlobal);
  refine.pipeline.refine_step = 10;
  FixtureModel refining(1, /*can_refine=*/true);
  auto a = VideoSession::Create(refining, refine);
  EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(a.status().message(), HasSubstr("global"));
  SessionOptions solver = Options(CoalignScope::kWindowed, Normalization::kGlobal);
  solver.pipeline.coalign.solver = CoalignSolver::kReference;
  EXPECT_THAT(VideoSession::Create(model, solver).status().message(), HasSubstr("fast solver"));
  SessionOptions window = Options(CoalignScope::kWindowed, Normalization::kGlobal);
  window.solve_every = 0;
  EXPECT_EQ(VideoSession::Create(model, window).status().code(), absl::StatusCode::kInvalidArgument);
  auto session = VideoSession::Create(model, Options(CoalignScope::kWindowed, Normalization::kGlobal));
  ASSERT_TRUE(session.ok());
  EXPECT_EQ((*session)->Finish().code(), absl::StatusCode::kInvalidArgument);  // no frames
}

TEST(VideoSessionTest, CancellationAndSinkErrorsStopTheRun) {
  FixtureModel model;
  SessionOptions options = Options(CoalignScope::kWindowed, Normalization::kAligned);
  bool cancel = false;
  options.cancelled = [&] { return cancel; };
  options.on_frame = [&](int index, const cv::Mat&) {
    return index == 3 ? absl::UnavailableError("client went away") : absl::OkStatus();
  };
  auto session = VideoSession::Create(model, options);
  ASSERT_TRUE(session.ok());
  const VideoFrames video = DepthAsVideo(200, 16, 16);
  absl::Status status;
  for (const cv::Mat& frame : video.frames) {
    status = (*session)->PushFrame(frame);
    if (!status.ok()) break;
  }
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  cancel = true;
  auto second = VideoSession::Create(model, options);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ((*second)->PushFrame(video.frames[0]).code(), absl::StatusCode::kCancelled);
}

}  // namespace
}  // namespace depthd
