// The refinement's snippets against the reference's arithmetic (prs-eth/RollingDepth c233765,
// rollingdepth_pipeline.py): forward() first caps refine_start_dilation with
// cap_max_dilation(N, L, d) = min(d, int(N / L) - 1) when cap_dilation is on; refine() then asks
// get_snippet_indice(i, T, N, L, dilation_start = d, dilation_end = 1, stride = 1) for step i of
// T, whose gap is int((1 - i / T) * (d - 1)) in double precision and whose snippets start at
// every frame 0 .. N - window, window = (L - 1) * (gap + 1) + 1. Every expected list below was
// worked out by hand from those formulas.
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/model/diffusion/refine_plan.h"

namespace depthd {
namespace {

using ::testing::HasSubstr;
using Snippets = std::vector<std::vector<int>>;

// The gap of every step (snippet frames gap + 1 apart), and that all snippets of a step are that
// far apart and start at 0, 1, ..., N - window.
std::vector<int> Gaps(int frames, int start, bool cap, int steps) {
  std::vector<int> gaps;
  for (int i = 0; i < steps; ++i) {
    auto snippets = diffusion::RefineSnippets(frames, 3, start, cap, i, steps);
    EXPECT_TRUE(snippets.ok()) << snippets.status();
    if (!snippets.ok()) return {};
    const int gap = snippets->front()[1] - snippets->front()[0] - 1;
    const int window = 2 * (gap + 1) + 1;
    EXPECT_EQ(static_cast<int>(snippets->size()), frames - window + 1) << "step " << i;
    for (size_t s = 0; s < snippets->size(); ++s) {
      const int first = static_cast<int>(s);
      EXPECT_EQ((*snippets)[s], (std::vector<int>{first, first + gap + 1, first + 2 * (gap + 1)}));
    }
    gaps.push_back(gap);
  }
  return gaps;
}

TEST(RefineSnippetsTest, TenFramesStartSixFiveStepsAsTheReference) {
  // cap: min(6, int(10 / 3) - 1) = 2, so gap_start 1: int(1.0), int(0.8), ... = 1, 0, 0, 0, 0.
  EXPECT_EQ(diffusion::RefineStartDilation(10, 3, 6, true), 2);
  auto first = diffusion::RefineSnippets(10, 3, 6, true, 0, 5);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first, (Snippets{{0, 2, 4}, {1, 3, 5}, {2, 4, 6}, {3, 5, 7}, {4, 6, 8}, {5, 7, 9}}));
  auto second = diffusion::RefineSnippets(10, 3, 6, true, 1, 5);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(
      *second,
      (Snippets{
          {0, 1, 2}, {1, 2, 3}, {2, 3, 4}, {3, 4, 5}, {4, 5, 6}, {5, 6, 7}, {6, 7, 8}, {7, 8, 9}}));
  EXPECT_EQ(Gaps(10, 6, true, 5), (std::vector<int>{1, 0, 0, 0, 0}));
}

TEST(RefineSnippetsTest, ShortVideosCapTheStartBeforeTheGaps) {
  // 12 frames: cap min(6, 3) = 3, gap_start 2: int((1 - i/10) * 2) = 2, 1.8, 1.6, 1.4, 1.2, 1.0,
  // 0.8, 0.6, 0.4, 0.2 truncated.
  EXPECT_EQ(Gaps(12, 6, true, 10), (std::vector<int>{2, 1, 1, 1, 1, 1, 0, 0, 0, 0}));
  // 20 frames: cap min(6, 5) = 5, gap_start 4: 4, 3.6, 3.2, 2.8, 2.4, 2.0, 1.6, 1.2, 0.8, 0.4.
  EXPECT_EQ(Gaps(20, 6, true, 10), (std::vector<int>{4, 3, 3, 2, 2, 2, 1, 1, 0, 0}));
  // 21 frames: no cap (min(6, 6)), gap_start 5: 5, 4.5, 4.0, 3.5, 3.0, 2.5, 2.0, 1.5, and then
  // (1 - 0.8) * 5 = 0.9999999999999998 and (1 - 0.9) * 5 = 0.4999999999999999 in double.
  EXPECT_EQ(Gaps(21, 6, true, 10), (std::vector<int>{5, 4, 4, 3, 3, 2, 2, 1, 0, 0}));
  // 9 frames, start 2 (the checkpoint test's video): cap min(2, 2) = 2: gaps 1, 0, 0, 0, 0.
  EXPECT_EQ(Gaps(9, 2, true, 5), (std::vector<int>{1, 0, 0, 0, 0}));
  // A long video with a larger start: 100 frames, start 12, 10 steps: gap_start 11:
  // 11, 9.9, 8.8, 7.7, 6.6, 5.5, 4.4, 3.3, 2.2, 1.1 truncated.
  EXPECT_EQ(Gaps(100, 12, true, 10), (std::vector<int>{11, 9, 8, 7, 6, 5, 4, 3, 2, 1}));
}

TEST(RefineSnippetsTest, VideosBelowTwoSnippetsRefineWithDilationOne) {
  // int(5 / 3) - 1 = 0: the reference stops on an assertion (gap_start -1); depthd refines with
  // dilation 1, as its snippet plan caps the snippet dilations at 1.
  EXPECT_EQ(diffusion::RefineStartDilation(5, 3, 6, true), 1);
  auto snippets = diffusion::RefineSnippets(5, 3, 6, true, 0, 10);
  ASSERT_TRUE(snippets.ok()) << snippets.status();
  EXPECT_EQ(*snippets, (Snippets{{0, 1, 2}, {1, 2, 3}, {2, 3, 4}}));
  auto too_short = diffusion::RefineSnippets(2, 3, 6, true, 0, 5);
  EXPECT_EQ(too_short.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(too_short.status().message(), HasSubstr("at least refine_snippet_len (3) frames"));
}

TEST(RefineSnippetsTest, WithoutCapTheStartIsKeptOrTheVideoRefused) {
  // cap_dilation off (the paper preset): the reference keeps d = 6; step 0 has gap 5, so
  // snippets [s, s + 6, s + 12] for s = 0 .. N - 13, which cover every frame only from 18
  // frames on. Below 13 frames the reference's i_start_ls is empty (IndexError), from 13 to 17
  // some frame has no prediction (its assertion). depthd refuses both.
  for (int frames : {10, 12, 13, 17}) {
    auto refused = diffusion::RefineSnippets(frames, 3, 6, false, 0, 10);
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument) << frames;
    EXPECT_THAT(refused.status().message(), HasSubstr("at least 18 frames")) << frames;
    EXPECT_THAT(refused.status().message(), HasSubstr("cap_dilation")) << frames;
  }
  EXPECT_EQ(diffusion::RefineStartDilation(12, 3, 6, false), 6);
  auto first = diffusion::RefineSnippets(18, 3, 6, false, 0, 10);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first,
            (Snippets{{0, 6, 12}, {1, 7, 13}, {2, 8, 14}, {3, 9, 15}, {4, 10, 16}, {5, 11, 17}}));
  // 18 frames: the same gaps as any uncapped start 6 (see 21 frames above).
  EXPECT_EQ(Gaps(18, 6, false, 10), (std::vector<int>{5, 4, 4, 3, 3, 2, 2, 1, 0, 0}));
  // With the cap, the same 12 frames refine from d = 3 instead.
  EXPECT_TRUE(diffusion::RefineSnippets(12, 3, 6, true, 0, 10).ok());
}

TEST(RefineSnippetsTest, PlanHasOneEntryPerRefinementStep) {
  // int(refine_step / 0.5) scheduler steps, the first half skipped.
  EXPECT_EQ(diffusion::RefineStepCount(10), 10);
  EXPECT_EQ(diffusion::RefineStepCount(5), 5);
  EXPECT_EQ(diffusion::RefineStepCount(1), 1);
  EXPECT_EQ(diffusion::RefineStepCount(0), 0);
  RefineOptions options;
  options.refine_step = 10;
  auto plan = diffusion::RefinePlan(12, options);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->size(), 10u);
  EXPECT_EQ(plan->front().front(), (std::vector<int>{0, 3, 6}));
  EXPECT_EQ(plan->back().front(), (std::vector<int>{0, 1, 2}));
  options.cap_dilation = false;
  EXPECT_EQ(diffusion::RefinePlan(12, options).status().code(), absl::StatusCode::kInvalidArgument);
  options.refine_step = 0;
  EXPECT_EQ(diffusion::RefinePlan(30, options).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace depthd
