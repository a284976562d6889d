// The self-supervised pieces of the trainer on two rendered views with a known camera motion:
// the warp reproduces the target with the true depth, the photometric loss prefers the true
// depth to a wrong one, and the motion estimated from tracked corners points the right way.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <opencv2/imgproc.hpp>

#include "tools/synth/scene.h"
#include "tools/synth/synth.h"
#include "tools/train/real_clips.h"
#include "tools/train/snippet_loss.h"

namespace depthd::train {
namespace {

using synth::CameraPose;
using synth::Primitive;
using synth::Scene;
using synth::Vec3;

// A textured room corner with a box: enough corners and depth to see parallax.
Scene TexturedScene() {
  Scene scene;
  auto plane = [](Vec3 point, Vec3 normal, uint32_t seed) {
    Primitive p;
    p.shape = synth::Shape::kPlane;
    p.center = point;
    p.normal = normal;
    p.material.texture = synth::Texture::kNoise;
    p.material.colour = {0.9, 0.8, 0.6};
    p.material.colour2 = {0.1, 0.2, 0.3};
    p.material.scale = 0.3;
    p.material.noise_seed = seed;
    return p;
  };
  scene.primitives.push_back(plane({0, 0, 5}, {0, 0, -1}, 1));    // back wall
  scene.primitives.push_back(plane({0, -1.2, 0}, {0, 1, 0}, 2));  // floor
  scene.primitives.push_back(plane({-2.5, 0, 0}, {1, 0, 0}, 3));  // left wall
  Primitive box;
  box.shape = synth::Shape::kBox;
  box.center = {0.4, -0.6, 2.5};
  box.half = {0.4, 0.6, 0.4};
  box.yaw = 0.5;
  box.material.texture = synth::Texture::kChecker;
  box.material.scale = 0.15;
  box.material.colour = {0.95, 0.95, 0.95};
  box.material.colour2 = {0.1, 0.1, 0.1};
  box.object = 1;
  scene.primitives.push_back(box);
  scene.light_dir = Vec3{0.3, 0.8, -0.5}.Normalized();
  scene.ambient = 0.6;
  return scene;
}

// World -> OpenCV camera (x right, y down, z forward) for a renderer camera looking along
// `forward` with the world's y up.
cv::Matx33d CameraRows(const CameraPose& pose) {
  const Vec3 f = Vec3{pose.forward[0], pose.forward[1], pose.forward[2]}.Normalized();
  const Vec3 right = f.Cross(Vec3{0, 1, 0}).Normalized() * -1.0;
  const Vec3 up = right.Cross(f) * -1.0;
  return {right.x, right.y, right.z, -up.x, -up.y, -up.z, f.x, f.y, f.z};
}

struct Pair {
  torch::Tensor target, source, depth, K, R, t;  // [1, ...]
  cv::Mat grey_a, grey_b;
  cv::Matx33d K_cv;
  cv::Vec3d t_unit;
};

torch::Tensor ImageTensor(const cv::Mat& rgb) {
  return torch::from_blob(rgb.data, {rgb.rows, rgb.cols, 3}, torch::kUInt8)
      .permute({2, 0, 1})
      .to(torch::kFloat32)
      .div(255)
      .unsqueeze(0);
}

Pair RenderPair() {
  const Scene scene = TexturedScene();
  CameraPose a, b;
  a.hfov_degrees = b.hfov_degrees = 70;
  b.position[0] = 0.25;  // a step to the right,
  b.position[2] = 0.1;   // a little forward,
  b.forward[0] = -0.05;  // turning slightly left
  const int W = 160, H = 128;
  cv::Mat rgb_a, rgb_b, depth_a, depth_b;
  synth::Intrinsics k;
  RenderView(scene, a, W, H, &rgb_a, &depth_a, &k);
  RenderView(scene, b, W, H, &rgb_b, &depth_b, &k);
  Pair pair;
  pair.target = ImageTensor(rgb_a);
  pair.source = ImageTensor(rgb_b);
  pair.depth = torch::from_blob(depth_a.data, {1, 1, H, W}, torch::kFloat32).clone();
  // The renderer's pixel centres sit at x + 0.5; here at integers.
  pair.K_cv = cv::Matx33d(k.fx, 0, k.cx - 0.5, 0, k.fy, k.cy - 0.5, 0, 0, 1);
  pair.K =
      torch::tensor({k.fx, 0.0, k.cx - 0.5, 0.0, k.fy, k.cy - 0.5, 0.0, 0.0, 1.0}, torch::kFloat32)
          .view({1, 3, 3});
  const cv::Matx33d Ma = CameraRows(a), Mb = CameraRows(b);
  const cv::Matx33d R = Mb * Ma.t();
  const cv::Vec3d t = Mb * cv::Vec3d(a.position[0] - b.position[0], a.position[1] - b.position[1],
                                     a.position[2] - b.position[2]);
  pair.R = torch::tensor(
               {R(0, 0), R(0, 1), R(0, 2), R(1, 0), R(1, 1), R(1, 2), R(2, 0), R(2, 1), R(2, 2)},
               torch::kFloat32)
               .view({1, 3, 3});
  pair.t = torch::tensor({t[0], t[1], t[2]}, torch::kFloat32).view({1, 3});
  pair.t_unit = t / cv::norm(t);
  cv::cvtColor(rgb_a, pair.grey_a, cv::COLOR_RGB2GRAY);
  cv::cvtColor(rgb_b, pair.grey_b, cv::COLOR_RGB2GRAY);
  return pair;
}

TEST(RealMotionTest, WarpWithTheTrueDepthReproducesTheTarget) {
  const Pair p = RenderPair();
  torch::Tensor in_view;
  const auto warped = WarpToTarget(p.source, p.depth, p.K, p.R, p.t, &in_view);
  const auto mask = in_view.expand_as(warped).to(torch::kFloat32);
  ASSERT_GT(in_view.to(torch::kFloat32).mean().item<double>(), 0.7);
  const double error =
      ((warped - p.target).abs() * mask).sum().item<double>() / mask.sum().item<double>();
  // Against the unwarped source: the warp must explain most of the difference.
  const double unwarped =
      ((p.source - p.target).abs() * mask).sum().item<double>() / mask.sum().item<double>();
  EXPECT_LT(error, 0.03);
  EXPECT_LT(error, 0.4 * unwarped);
}

TEST(RealMotionTest, IdentityMotionLeavesTheSourceAsItIs) {
  const Pair p = RenderPair();
  torch::Tensor in_view;
  const auto warped = WarpToTarget(p.source, p.depth, p.K, torch::eye(3).unsqueeze(0),
                                   torch::zeros({1, 3}), &in_view);
  const auto seen = p.depth > 0;  // the rest is sky: no point to move
  ASSERT_GT(seen.to(torch::kFloat32).mean().item<double>(), 0.5);
  EXPECT_LT(((warped - p.source).abs() * seen).max().item<double>(), 1e-4);
  EXPECT_TRUE(in_view.masked_select(seen).all().item<bool>());
}

TEST(RealMotionTest, PhotometricLossPrefersTheTrueDepth) {
  const Pair p = RenderPair();
  auto loss = [&](const torch::Tensor& depth) {
    return PhotometricLoss(p.target, {p.source}, {depth}, p.K, {p.R}, {p.t}).item<double>();
  };
  const double truth = loss(p.depth);
  EXPECT_LT(truth, loss(p.depth * 1.5));
  EXPECT_LT(truth, loss(p.depth * 0.6));
  EXPECT_LT(truth, loss(torch::full_like(p.depth, p.depth.mean().item<double>())));
  // Inverted depth (near far, far near) is what the self-supervision must rule out.
  EXPECT_LT(truth, loss(p.depth.max() + p.depth.min() - p.depth));
}

TEST(RealMotionTest, EstimatedMotionPointsTheRightWay) {
  const Pair p = RenderPair();
  PoseOptions options;
  options.min_points = 20;
  const auto motion = EstimateMotion(p.grey_a, p.grey_b, p.K_cv, options);
  ASSERT_TRUE(motion.has_value());
  EXPECT_GT(motion->t.dot(p.t_unit), 0.95);
  const cv::Mat R_true =
      (cv::Mat_<double>(3, 3) << p.R[0][0][0].item<double>(), p.R[0][0][1].item<double>(),
       p.R[0][0][2].item<double>(), p.R[0][1][0].item<double>(), p.R[0][1][1].item<double>(),
       p.R[0][1][2].item<double>(), p.R[0][2][0].item<double>(), p.R[0][2][1].item<double>(),
       p.R[0][2][2].item<double>());
  EXPECT_LT(cv::norm(cv::Mat(motion->R) - R_true), 0.02);
  // The triangulated corners carry depth in units of the baseline: times the true baseline
  // they must land on the rendered depth.
  const double baseline = torch::norm(p.t).item<double>();
  std::vector<double> ratios;
  for (size_t i = 0; i < motion->points_a.size(); ++i) {
    const float truth =
        p.depth[0][0][std::lround(motion->points_a[i].y)][std::lround(motion->points_a[i].x)]
            .item<float>();
    if (truth > 0) ratios.push_back(motion->depth_a[i] * baseline / truth);
  }
  ASSERT_GT(ratios.size(), 10u);
  std::sort(ratios.begin(), ratios.end());
  EXPECT_NEAR(ratios[ratios.size() / 2], 1.0, 0.1);
}

TEST(RealMotionTest, StaticCameraShowsNoDepth) {
  const Pair p = RenderPair();
  EXPECT_FALSE(EstimateMotion(p.grey_a, p.grey_a, p.K_cv, PoseOptions{}).has_value());
}

}  // namespace
}  // namespace depthd::train
