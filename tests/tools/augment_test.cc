// TurnCamera against the renderer: turning a rendered frame must give what a camera rolled and
// pitched at the same place renders, image and depth.
#include "tools/train/augment.h"

#include <cmath>

#include <gtest/gtest.h>

#include "tools/synth/scene.h"
#include "tools/synth/synth.h"

namespace depthd::train {
namespace {

using synth::CameraPose;
using synth::Primitive;
using synth::Vec3;

synth::Scene Room() {
  synth::Scene scene;
  auto plane = [](Vec3 point, Vec3 normal, synth::Texture texture, uint32_t seed) {
    Primitive p;
    p.shape = synth::Shape::kPlane;
    p.center = point;
    p.normal = normal;
    p.material.texture = texture;
    p.material.colour = {0.9, 0.7, 0.5};
    p.material.colour2 = {0.1, 0.2, 0.4};
    p.material.scale = 0.5;
    p.material.noise_seed = seed;
    return p;
  };
  scene.primitives.push_back(plane({0, 0, 4}, {0, 0, -1}, synth::Texture::kChecker, 1));
  scene.primitives.push_back(plane({0, -1.5, 0}, {0, 1, 0}, synth::Texture::kStripes, 2));
  scene.primitives.push_back(plane({-2, 0, 0}, {1, 0, 0}, synth::Texture::kNoise, 3));
  scene.primitives.push_back(plane({2, 0, 0}, {-1, 0, 0}, synth::Texture::kBricks, 4));
  Primitive ball;
  ball.shape = synth::Shape::kSphere;
  ball.center = {0.3, -0.2, 2.0};
  ball.half = {0.5, 0.5, 0.5};
  scene.primitives.push_back(ball);
  scene.ambient = 1.0;  // no shading: the image depends on the surface point only
  return scene;
}

torch::Tensor Image(const cv::Mat& rgb) {
  return torch::from_blob(rgb.data, {rgb.rows, rgb.cols, 3}, torch::kUInt8)
             .permute({2, 0, 1})
             .to(torch::kFloat32) /
         255.0;
}

TEST(AugmentTest, TurnCameraMatchesARenderedTurnedCamera) {
  const int W = 192, H = 128;
  const double roll = 0.08, pitch = 0.05, zoom = 1.1;
  CameraPose a;
  a.hfov_degrees = 70;
  cv::Mat rgb_a, depth_a, rgb_b, depth_b;
  synth::Intrinsics k;
  RenderView(Room(), a, W, H, &rgb_a, &depth_a, &k);
  // The turned camera's axes, from the rows of R = Rz(roll) Rx(pitch) (x right, y down, z
  // forward), in the renderer's world (y up).
  const double cr = std::cos(roll), sr = std::sin(roll), cp = std::cos(pitch), sp = std::sin(pitch);
  CameraPose b = a;
  b.forward[0] = 0, b.forward[1] = -sp, b.forward[2] = cp;  // third row, y flipped
  b.up[0] = -sr, b.up[1] = cr * cp, b.up[2] = cr * sp;      // minus the second row, y flipped
  b.hfov_degrees =
      2.0 * std::atan(std::tan(0.5 * a.hfov_degrees * M_PI / 180.0) / zoom) * 180.0 / M_PI;
  RenderView(Room(), b, W, H, &rgb_b, &depth_b, &k);

  torch::Tensor rgb, depth;
  const double fx = 0.5 * W / std::tan(0.5 * a.hfov_degrees * M_PI / 180.0);
  TurnCamera(Image(rgb_a), torch::from_blob(depth_a.data, {H, W}, torch::kFloat32), fx,
             0.5 * W - 0.5, 0.5 * H - 0.5, roll, pitch, zoom, &rgb, &depth);
  const auto truth = torch::from_blob(depth_b.data, {H, W}, torch::kFloat32);
  const auto known = depth > 0;
  ASSERT_GT(known.to(torch::kFloat32).mean().item<double>(), 0.8);
  // Depth: nearest-neighbour lookups differ at edges only.
  const auto relative = ((depth - truth).abs() / truth).masked_select(known);
  EXPECT_LT(std::get<0>(relative.sort()).select(0, relative.numel() * 9 / 10).item<double>(), 0.01);
  EXPECT_LT(relative.median().item<double>(), 0.002);
  // The image: bilinear resampling of a rendered texture.
  const auto difference = (rgb - Image(rgb_b)).abs().mean(0).masked_select(known);
  EXPECT_LT(difference.median().item<double>(), 0.03);
  // Without a turn and a zoom, nothing moves.
  TurnCamera(Image(rgb_a), torch::from_blob(depth_a.data, {H, W}, torch::kFloat32), fx,
             0.5 * W - 0.5, 0.5 * H - 0.5, 0, 0, 1, &rgb, &depth);
  EXPECT_LT((rgb - Image(rgb_a)).abs().max().item<double>(), 1e-4);
  EXPECT_LT(
      (depth - torch::from_blob(depth_a.data, {H, W}, torch::kFloat32)).abs().max().item<double>(),
      1e-4);
}

TEST(AugmentTest, PixelsFromOutsideTheFrameAreUnknownAndSkyStaysSky) {
  const int W = 64, H = 48;
  auto rgb = torch::rand({3, H, W});
  auto depth = torch::full({H, W}, 3.0f);
  depth.narrow(0, 0, 10).fill_(0);  // sky along the top
  torch::Tensor out_rgb, out_depth;
  TurnCamera(rgb, depth, 60, 31.5, 23.5, 0.3, 0, 1, &out_rgb, &out_depth);
  EXPECT_GT((out_depth == -1).sum().item<int64_t>(), 0);  // a 17-degree roll uncovers the corners
  EXPECT_GT((out_depth == 0).sum().item<int64_t>(), 0);
  EXPECT_EQ(((out_depth > 0) & (out_depth < 2.5)).sum().item<int64_t>(), 0);  // no invented depth
}

}  // namespace
}  // namespace depthd::train
