#include "core/pipeline_options.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace depthd {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(PipelineOptionsTest, PresetsMatchRunVideo) {
  auto fast = ResolveOptions("fast", {});
  ASSERT_TRUE(fast.ok());
  EXPECT_EQ(fast->processing_res, 768);
  EXPECT_THAT(fast->snippets.dilations, ElementsAre(1, 25));
  EXPECT_THAT(fast->snippets.snippet_lengths, ElementsAre(3));
  EXPECT_TRUE(fast->snippets.cap_dilation);
  EXPECT_EQ(fast->refine_step, 0);
  EXPECT_EQ(fast->dtype, "fp16");

  auto fast1024 = ResolveOptions("fast1024", {});
  EXPECT_EQ(fast1024->processing_res, 1024);
  EXPECT_THAT(fast1024->snippets.dilations, ElementsAre(1, 25));
  EXPECT_EQ(fast1024->refine_step, 0);

  auto full = ResolveOptions("full", {});
  EXPECT_EQ(full->processing_res, 1024);
  EXPECT_THAT(full->snippets.dilations, ElementsAre(1, 10, 25));
  EXPECT_EQ(full->refine_step, 10);
  EXPECT_EQ(full->refine_snippet_len, 3);
  EXPECT_EQ(full->refine_start_dilation, 6);

  auto paper = ResolveOptions("paper", {});
  EXPECT_EQ(paper->processing_res, 768);
  EXPECT_THAT(paper->snippets.dilations, ElementsAre(1, 10, 25));
  EXPECT_FALSE(paper->snippets.cap_dilation);
  EXPECT_EQ(paper->dtype, "fp32");
  EXPECT_EQ(paper->refine_step, 10);
}

TEST(PipelineOptionsTest, DefaultPresetIsFastAndSolverIsFast) {
  auto options = ResolveOptions("", {});
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->preset, "fast");
  EXPECT_EQ(options->coalign.solver, CoalignSolver::kFast);
}

TEST(PipelineOptionsTest, ExplicitOptionsOverrideThePreset) {
  PipelineOverrides overrides;
  overrides.processing_res = 384;
  overrides.dilations = std::vector<int>{1, 10};
  overrides.refine_step = 0;
  overrides.cap_dilation = false;
  overrides.solver = CoalignSolver::kEarlyStop;
  overrides.tolerance = 1e-3;
  auto options = ResolveOptions("full", overrides);
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->processing_res, 384);
  EXPECT_THAT(options->snippets.dilations, ElementsAre(1, 10));
  EXPECT_EQ(options->refine_step, 0);
  EXPECT_FALSE(options->snippets.cap_dilation);
  EXPECT_EQ(options->coalign.solver, CoalignSolver::kEarlyStop);
  EXPECT_DOUBLE_EQ(options->coalign.tolerance, 1e-3);
}

TEST(PipelineOptionsTest, RejectsUnknownPresetAndBadValues) {
  auto unknown = ResolveOptions("turbo", {});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(unknown.status().message(), HasSubstr("fast1024"));

  PipelineOverrides negative;
  negative.processing_res = -1;
  EXPECT_THAT(ResolveOptions("fast", negative).status().message(), HasSubstr("processing_res"));
  PipelineOverrides zero_tol;
  zero_tol.tolerance = 0.0;
  EXPECT_FALSE(ResolveOptions("fast", zero_tol).ok());
  PipelineOverrides dtype;
  dtype.dtype = "int8";
  EXPECT_THAT(ResolveOptions("fast", dtype).status().message(), HasSubstr("dtype"));
  PipelineOverrides length;
  length.snippet_lengths = std::vector<int>{5};
  EXPECT_FALSE(ResolveOptions("fast", length).ok());
}

}  // namespace
}  // namespace depthd
