#include "core/snippet_plan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace depthd {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::vector<int>> V(std::initializer_list<std::vector<int>> v) { return v; }

TEST(SnippetPlanTest, DilationOneCoversConsecutiveFrames) {
  SnippetPlanOptions options;
  options.dilations = {1};
  auto plan = PlanSnippets(5, options);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->groups.size(), 1u);
  EXPECT_EQ(plan->groups[0].snippets, V({{0, 1, 2}, {1, 2, 3}, {2, 3, 4}}));
  EXPECT_THAT(plan->CoverageCounts(), ElementsAre(1, 2, 3, 2, 1));
}

TEST(SnippetPlanTest, DilatedSnippetsAndCapping) {
  // 12 frames, L = 3: cap = floor(12 / 3) - 1 = 3, so dilation 25 becomes 3.
  SnippetPlanOptions options;
  options.dilations = {1, 25};
  auto plan = PlanSnippets(12, options);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->groups.size(), 2u);
  EXPECT_EQ(plan->groups[1].requested_dilation, 25);
  EXPECT_EQ(plan->groups[1].dilation, 3);
  // window = 2 * 3 + 1 = 7: starts 0..5.
  EXPECT_EQ(plan->groups[1].snippets,
            V({{0, 3, 6}, {1, 4, 7}, {2, 5, 8}, {3, 6, 9}, {4, 7, 10}, {5, 8, 11}}));
  EXPECT_EQ(plan->groups[0].snippets.size(), 10u);
  EXPECT_EQ(plan->TotalSnippets(), 16);
}

TEST(SnippetPlanTest, HundredFramesDilation25) {
  SnippetPlanOptions options;
  options.dilations = {1, 25};
  auto plan = PlanSnippets(100, options);
  ASSERT_TRUE(plan.ok());
  // cap = 100 / 3 - 1 = 32 >= 25: unchanged. window 51: starts 0..49.
  EXPECT_EQ(plan->groups[1].dilation, 25);
  ASSERT_EQ(plan->groups[1].snippets.size(), 50u);
  EXPECT_EQ(plan->groups[1].snippets.front(), (std::vector<int>{0, 25, 50}));
  EXPECT_EQ(plan->groups[1].snippets.back(), (std::vector<int>{49, 74, 99}));
}

TEST(SnippetPlanTest, LengthFourAndPerDilationLengths) {
  SnippetPlanOptions options;
  options.dilations = {1, 2};
  options.snippet_lengths = {4, 2};
  options.cap_dilation = false;
  auto plan = PlanSnippets(6, options);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->groups[0].snippets, V({{0, 1, 2, 3}, {1, 2, 3, 4}, {2, 3, 4, 5}}));
  EXPECT_EQ(plan->groups[1].snippets, V({{0, 2}, {1, 3}, {2, 4}, {3, 5}}));
}

TEST(SnippetPlanTest, CapDilationFormula) {
  EXPECT_EQ(CapDilation(100, 3, 25), 25);
  EXPECT_EQ(CapDilation(60, 3, 25), 19);
  EXPECT_EQ(CapDilation(10, 3, 25), 2);
  EXPECT_EQ(CapDilation(5, 3, 25), 1);  // never below 1
  EXPECT_EQ(CapDilation(3, 3, 10), 1);
}

TEST(SnippetPlanTest, ShortVideoWithoutCapIsAClearError) {
  SnippetPlanOptions options;
  options.dilations = {1, 25};
  options.cap_dilation = false;
  auto plan = PlanSnippets(20, options);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(plan.status().message(), HasSubstr("cap_dilation"));
}

TEST(SnippetPlanTest, VideoShorterThanOneSnippet) {
  SnippetPlanOptions options;
  auto plan = PlanSnippets(2, options);
  ASSERT_FALSE(plan.ok());
  EXPECT_THAT(plan.status().message(), HasSubstr("2 frame"));
  // Exactly one window still works, with dilations capped to 1.
  auto three = PlanSnippets(3, options);
  ASSERT_TRUE(three.ok()) << three.status();
  EXPECT_EQ(three->groups[0].snippets, V({{0, 1, 2}}));
  EXPECT_EQ(three->groups[1].snippets, V({{0, 1, 2}}));
}

TEST(SnippetPlanTest, RefusesBadConfigurations) {
  SnippetPlanOptions no_one;
  no_one.dilations = {2, 5};
  EXPECT_EQ(PlanSnippets(30, no_one).status().code(), absl::StatusCode::kInvalidArgument);
  SnippetPlanOptions bad_length;
  bad_length.snippet_lengths = {5};
  EXPECT_EQ(PlanSnippets(30, bad_length).status().code(), absl::StatusCode::kInvalidArgument);
  SnippetPlanOptions mismatched;
  mismatched.dilations = {1, 10, 25};
  mismatched.snippet_lengths = {3, 3};
  EXPECT_EQ(PlanSnippets(30, mismatched).status().code(), absl::StatusCode::kInvalidArgument);
  SnippetPlanOptions repeated;
  repeated.dilations = {1, 1};
  EXPECT_EQ(PlanSnippets(30, repeated).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace depthd
