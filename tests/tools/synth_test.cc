#include "tools/synth/synth.h"

#include <gtest/gtest.h>

#include "tools/synth/scene.h"

namespace depthd::synth {
namespace {

TEST(SynthTest, DeterministicForASeed) {
  SceneOptions options;
  options.seed = 1234;
  options.width = 64;
  options.height = 40;
  options.num_frames = 4;
  auto a = RenderVideo(options);
  auto b = RenderVideo(options);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->rgb.size(), 4u);
  for (int f = 0; f < 4; ++f) {
    EXPECT_EQ(cv::norm(a->rgb[f], b->rgb[f], cv::NORM_INF), 0.0);
    EXPECT_EQ(cv::norm(a->depth[f], b->depth[f], cv::NORM_INF), 0.0);
    EXPECT_EQ(a->rgb[f].type(), CV_8UC3);
    EXPECT_EQ(a->depth[f].type(), CV_32FC1);
  }
  options.seed = 1235;
  auto c = RenderVideo(options);
  EXPECT_GT(cv::norm(a->rgb[0], c->rgb[0], cv::NORM_L1), 0.0);
}

TEST(SynthTest, PlaneAtKnownDistanceRendersExactDepth) {
  Scene scene;
  Primitive plane;
  plane.shape = Shape::kPlane;
  plane.center = {0, 0, 3};
  plane.normal = {0, 0, -1};
  scene.primitives.push_back(plane);
  CameraPose camera;
  cv::Mat rgb, depth;
  Intrinsics k;
  RenderView(scene, camera, 40, 30, &rgb, &depth, &k);
  double lo, hi;
  cv::minMaxLoc(depth, &lo, &hi);
  EXPECT_NEAR(lo, 3.0, 1e-5);
  EXPECT_NEAR(hi, 3.0, 1e-5);
}

TEST(SynthTest, GroundPlaneFollowsThePinholeModelAndSkyIsZero) {
  Scene scene;
  scene.has_sky = true;
  Primitive ground;
  ground.shape = Shape::kPlane;
  ground.center = {0, 0, 0};
  ground.normal = {0, 1, 0};
  scene.primitives.push_back(ground);
  CameraPose camera;
  camera.position[1] = 1.5;  // level camera 1.5 m above the ground
  cv::Mat rgb, depth;
  Intrinsics k;
  RenderView(scene, camera, 80, 60, &rgb, &depth, &k);
  for (int y : {35, 45, 59}) {
    const double v = y + 0.5;
    EXPECT_NEAR(depth.at<float>(y, 40), k.fy * 1.5 / (v - k.cy), 1e-3) << y;
  }
  EXPECT_EQ(depth.at<float>(5, 40), 0.0f);  // above the horizon: sky
}

TEST(SynthTest, MovingObjectsMove) {
  Scene scene;
  Primitive ball;
  ball.shape = Shape::kSphere;
  ball.center = {0, 1, 5};
  ball.half = {0.5, 0.5, 0.5};
  ball.velocity = {1.0, 0, 0};
  ball.bounds = 1.0;
  scene.primitives.push_back(ball);
  EXPECT_NE(AtTime(scene, 0.0).primitives[0].center.x, AtTime(scene, 0.5).primitives[0].center.x);
}

// Camera paths used to run through boxes and balls into the lens (seed 100100 began with a box
// 1.4 cm away filling the frame). Depth is along the optical axis, so an object 0.5 m away at
// the edge of an 80-degree view can read ~0.35 m; nothing may come nearer than 0.3 m.
TEST(SynthTest, NoObjectComesNearerThanTheCameraClearance) {
  SceneOptions options;
  options.width = 48;
  options.height = 27;
  options.num_frames = 60;
  std::vector<uint64_t> seeds = {100100, 100102};
  for (uint64_t seed = 0; seed < 60; ++seed) seeds.push_back(seed);
  for (uint64_t seed : seeds) {
    options.seed = seed;
    auto video = RenderVideo(options);
    ASSERT_TRUE(video.ok()) << video.status();
    double nearest = 1e9;
    for (const cv::Mat& depth : video->depth) {
      for (auto it = depth.begin<float>(); it != depth.end<float>(); ++it) {
        if (*it > 0) nearest = std::min<double>(nearest, *it);  // 0 is sky
      }
    }
    EXPECT_GT(nearest, 0.3) << "seed " << seed;
  }
}

// The variety draws from a stream of its own: the same seed renders the same video with it, a
// different one from the base renderer's, and photographs show up as textures.
TEST(SynthTest, VarietyIsDeterministicAndChangesThePicture) {
  std::vector<cv::Mat> photos = {cv::Mat(32, 32, CV_8UC3, cv::Scalar(250, 10, 10)),
                                 cv::Mat(32, 32, CV_8UC3, cv::Scalar(10, 250, 10))};
  SceneOptions options;
  options.width = 64;
  options.height = 40;
  options.num_frames = 2;
  int differ = 0;
  for (uint64_t seed = 10; seed < 16; ++seed) {
    options.seed = seed;
    options.variety = false;
    auto base = RenderVideo(options);
    options.variety = true;
    options.image_textures = &photos;
    auto a = RenderVideo(options), b = RenderVideo(options);
    ASSERT_TRUE(base.ok() && a.ok() && b.ok());
    EXPECT_EQ(cv::norm(a->rgb[1], b->rgb[1], cv::NORM_INF), 0.0) << seed;
    EXPECT_EQ(cv::norm(a->depth[1], b->depth[1], cv::NORM_INF), 0.0) << seed;
    if (cv::norm(a->rgb[0], base->rgb[0], cv::NORM_L1) > 0) ++differ;
  }
  EXPECT_EQ(differ, 6);
}

// Tabletop scenes: the camera looks down on a table within a few metres, never through a thing.
TEST(SynthTest, TabletopScenesAreNearAndClearOfTheCamera) {
  SceneOptions options;
  options.kind = SceneKind::kTabletop;
  options.width = 48;
  options.height = 27;
  options.num_frames = 30;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    options.seed = seed;
    options.variety = seed % 2 == 1;
    auto video = RenderVideo(options);
    ASSERT_TRUE(video.ok()) << video.status();
    double nearest = 1e9, sum = 0, n = 0;
    for (const cv::Mat& depth : video->depth) {
      for (auto it = depth.begin<float>(); it != depth.end<float>(); ++it) {
        EXPECT_GT(*it, 0.0f) << "a room has no sky, seed " << seed;
        nearest = std::min<double>(nearest, *it);
        sum += *it, n += 1;
      }
    }
    EXPECT_GT(nearest, 0.15) << "seed " << seed;
    EXPECT_LT(sum / n, 4.0) << "seed " << seed;  // a table, not a hall
  }
}

TEST(SynthTest, RejectsBadOptions) {
  SceneOptions options;
  options.width = 2;
  EXPECT_FALSE(RenderVideo(options).ok());
}

}  // namespace
}  // namespace depthd::synth
