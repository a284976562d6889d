// depthd serving a RollingDepth checkpoint folder (diffusers layout) with the full method:
// snippet inference, co-alignment and refinement, over loopback with the real binary.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/server/e2e_support.h"
#include "tests/testing/tiny_rollingdepth.h"

namespace depthd {
namespace {

using ::testing::HasSubstr;

TEST(ServerRollingDepthTest, ServesTheFullPresetWithRefinement) {
  const std::string dir = testing::TempDir("rollingdepth");
  const std::string checkpoint = dir + "/rollingdepth-tiny";
  ASSERT_TRUE(testing::WriteTinyRollingDepth(checkpoint).ok());
  testing::DepthdProcess server({"--model", checkpoint, "--device", "cpu", "--max_vae_bs", "2"});
  ASSERT_TRUE(server.WaitServing()) << server.log();

  grpc::ClientContext info_context;
  v1::ServerInfo info;
  ASSERT_TRUE(server.Stub()->GetServerInfo(&info_context, {}, &info).ok());
  EXPECT_EQ(info.model().name(), "rollingdepth-tiny");
  EXPECT_TRUE(info.model().supports_refine());

  v1::JobSpec spec = testing::SmallJobSpec();
  spec.set_preset("full");
  spec.set_processing_res(48);
  const std::string video = testing::ReadFile(testing::WriteTestVideo(dir, 10, 96, 56));
  testing::EstimateResult result = testing::Estimate(*server.Stub(), spec, video);
  ASSERT_TRUE(result.status.ok()) << result.status.error_message() << "\n" << server.log();
  EXPECT_EQ(result.frames().size(), 10u);
  const v1::Summary* summary = result.summary();
  ASSERT_NE(summary, nullptr);
  EXPECT_EQ(summary->preset(), "full");
  EXPECT_EQ(summary->model(), "rollingdepth-tiny");
  bool refined = false;
  for (const auto& stage : summary->stage_times()) {
    if (stage.stage() == "refine") refined = stage.seconds() > 0;
  }
  EXPECT_TRUE(refined) << summary->DebugString();

  // An option the method cannot honour is still a clear error, not a crash.
  v1::JobSpec bad = testing::SmallJobSpec();
  bad.set_refine_snippet_len(4);
  bad.set_refine_step(2);
  bad.set_processing_res(48);
  testing::EstimateResult short_video =
      testing::Estimate(*server.Stub(), bad, testing::ReadFile(testing::WriteTestVideo(dir, 3, 96, 56)));
  EXPECT_FALSE(short_video.status.ok());
  EXPECT_THAT(short_video.status.error_message(), HasSubstr("refine"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace depthd
