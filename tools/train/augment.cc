#include "tools/train/augment.h"

#include <cmath>

namespace depthd::train {

void TurnCamera(const torch::Tensor& rgb, const torch::Tensor& depth, double fx, double cx,
                double cy, double roll, double pitch, double zoom, torch::Tensor* rgb_out,
                torch::Tensor* depth_out) {
  const int64_t H = rgb.size(1), W = rgb.size(2);
  const auto ys = torch::arange(H, torch::kFloat32).view({H, 1}).expand({H, W});
  const auto xs = torch::arange(W, torch::kFloat32).view({1, W}).expand({H, W});
  // The turned camera's ray of every pixel, with z = 1.
  const auto target =
      torch::stack({(xs - cx) / (fx * zoom), (ys - cy) / (fx * zoom), torch::ones({H, W})})
          .view({3, -1});
  const double cr = std::cos(roll), sr = std::sin(roll), cp = std::cos(pitch), sp = std::sin(pitch);
  const auto R =
      torch::tensor({cr, -sr * cp, sr * sp, sr, cr * cp, -cr * sp, 0.0, sp, cp}, torch::kFloat32)
          .view({3, 3});
  // The same ray in the original camera, and where it meets the original image.
  const auto ray = torch::matmul(R.t(), target);
  const auto u = fx * ray[0] / ray[2] + cx, v = fx * ray[1] / ray[2] + cy;
  const auto grid = torch::stack({2 * u / (W - 1) - 1, 2 * v / (H - 1) - 1}, -1).view({1, H, W, 2});
  *rgb_out = torch::grid_sampler(rgb.unsqueeze(0), grid, /*bilinear*/ 0, /*border*/ 1, true)[0];
  const auto z =
      torch::grid_sampler(depth.view({1, 1, H, W}), grid, /*nearest*/ 1, /*zeros*/ 0, true)
          .view({H, W});
  // A point at original depth z on that ray is (z / ray_z) ray; turned back it is
  // (z / ray_z) target, whose z is z / ray_z.
  const auto turned = z / ray[2].view({H, W});
  const auto inside = (grid.abs() <= 1).all(-1).view({H, W}) & (ray[2].view({H, W}) > 0);
  *depth_out = torch::where(inside, torch::where(z > 0, turned, torch::zeros_like(z)),
                            torch::full_like(z, -1));
}

}  // namespace depthd::train
