#include "tools/train/snippet_loss.h"

namespace depthd::train {
namespace {

// Mean absolute difference between neighbours of `residual` (valid where `mask` is 1), at
// 1/1 .. 1/2^(scales-1) resolution. residual, mask: [N, 1, H, W].
torch::Tensor GradientMatching(torch::Tensor residual, torch::Tensor mask, int scales) {
  torch::Tensor total = torch::zeros({}, residual.options());
  for (int s = 0; s < scales; ++s) {
    if (s > 0) {
      residual = torch::avg_pool2d(residual * mask, 2) / torch::avg_pool2d(mask, 2).clamp_min(1e-6);
      mask = torch::max_pool2d(-mask, 2).neg();  // valid only where all four were valid
    }
    if (residual.size(2) < 2 || residual.size(3) < 2) break;
    auto mx = mask.narrow(3, 1, mask.size(3) - 1) * mask.narrow(3, 0, mask.size(3) - 1);
    auto my = mask.narrow(2, 1, mask.size(2) - 1) * mask.narrow(2, 0, mask.size(2) - 1);
    auto gx = (residual.narrow(3, 1, residual.size(3) - 1) - residual.narrow(3, 0, residual.size(3) - 1)).abs() * mx;
    auto gy = (residual.narrow(2, 1, residual.size(2) - 1) - residual.narrow(2, 0, residual.size(2) - 1)).abs() * my;
    total = total + (gx.sum() + gy.sum()) / (mx.sum() + my.sum()).clamp_min(1.0);
  }
  return total / scales;
}

// (1 - SSIM) / 2 over 3x3 windows (reflection-padded), per pixel and channel.
torch::Tensor SsimLoss(const torch::Tensor& x, const torch::Tensor& y) {
  auto pool = [](const torch::Tensor& t) {
    return torch::avg_pool2d(torch::reflection_pad2d(t, {1, 1, 1, 1}), 3, 1);
  };
  const double c1 = 0.01 * 0.01, c2 = 0.03 * 0.03;
  const auto mx = pool(x), my = pool(y);
  const auto sx = pool(x * x) - mx * mx, sy = pool(y * y) - my * my, sxy = pool(x * y) - mx * my;
  const auto n = (2 * mx * my + c1) * (2 * sxy + c2);
  const auto d = (mx * mx + my * my + c1) * (sx + sy + c2);
  return ((1 - n / d) / 2).clamp(0, 1);
}

// Photometric error per pixel, [B, 1, H, W].
torch::Tensor PhotometricError(const torch::Tensor& a, const torch::Tensor& b) {
  return 0.85 * SsimLoss(a, b).mean(1, true) + 0.15 * (a - b).abs().mean(1, true);
}

}  // namespace

torch::Tensor WarpToTarget(const torch::Tensor& source, const torch::Tensor& depth, const torch::Tensor& K,
                           const torch::Tensor& rotation, const torch::Tensor& translation, torch::Tensor* in_view) {
  const int64_t B = depth.size(0), H = depth.size(2), W = depth.size(3);
  const auto options = depth.options();
  const auto ys = torch::arange(H, options).view({H, 1}).expand({H, W});
  const auto xs = torch::arange(W, options).view({1, W}).expand({H, W});
  const auto pixels = torch::stack({xs, ys, torch::ones({H, W}, options)}).view({1, 3, H * W});
  const auto rays = torch::matmul(torch::inverse(K), pixels);                      // [B, 3, HW]
  const auto points = rays * depth.reshape({B, 1, H * W});
  const auto moved = torch::matmul(rotation, points) + translation.view({B, 3, 1});
  const auto projected = torch::matmul(K, moved);
  const auto z = projected.select(1, 2);
  const auto safe_z = z.clamp_min(1e-3);
  const auto u = projected.select(1, 0) / safe_z, v = projected.select(1, 1) / safe_z;
  const auto gx = 2 * u / (W - 1) - 1, gy = 2 * v / (H - 1) - 1;
  const auto grid = torch::stack({gx, gy}, -1).view({B, H, W, 2});
  // The border's own pixels land on +-1 up to rounding.
  *in_view = ((gx.abs() <= 1 + 1e-5) & (gy.abs() <= 1 + 1e-5) & (z > 1e-3)).view({B, 1, H, W});
  return torch::grid_sampler(source, grid, /*bilinear*/ 0, /*zeros*/ 0, /*align_corners=*/true);
}

torch::Tensor PhotometricLoss(const torch::Tensor& target, const std::vector<torch::Tensor>& sources,
                              const std::vector<torch::Tensor>& depths, const torch::Tensor& K,
                              const std::vector<torch::Tensor>& rotations,
                              const std::vector<torch::Tensor>& translations) {
  std::vector<torch::Tensor> errors;
  for (size_t k = 0; k < sources.size(); ++k) {
    torch::Tensor in_view;
    const auto warped = WarpToTarget(sources[k], depths[k], K, rotations[k], translations[k], &in_view);
    errors.push_back(torch::where(in_view, PhotometricError(warped, target), torch::full_like(depths[k], 1e3)));
  }
  for (const torch::Tensor& source : sources) {
    // The tiny offset breaks ties towards the warped views (Monodepth2's random noise, fixed).
    errors.push_back((PhotometricError(source, target) + 1e-5).detach());
  }
  return std::get<0>(torch::cat(errors, 1).min(1)).mean();
}

torch::Tensor EdgeAwareSmoothness(const torch::Tensor& depth, const torch::Tensor& image) {
  auto disparity = 1.0 / depth.clamp_min(1e-6);
  disparity = disparity / disparity.mean({2, 3}, true).clamp_min(1e-6);
  auto dx = [](const torch::Tensor& t) { return t.narrow(3, 1, t.size(3) - 1) - t.narrow(3, 0, t.size(3) - 1); };
  auto dy = [](const torch::Tensor& t) { return t.narrow(2, 1, t.size(2) - 1) - t.narrow(2, 0, t.size(2) - 1); };
  const auto wx = torch::exp(-dx(image).abs().mean(1, true)), wy = torch::exp(-dy(image).abs().mean(1, true));
  return (dx(disparity).abs() * wx).mean() + (dy(disparity).abs() * wy).mean();
}

torch::Tensor AlignPerSnippet(const torch::Tensor& pred, const torch::Tensor& target,
                              const torch::Tensor& mask) {
  const int64_t B = pred.size(0);
  auto p = pred.reshape({B, -1});
  auto t = target.reshape({B, -1});
  auto m = mask.reshape({B, -1});
  const auto n = m.sum(1).clamp_min(1.0);
  const auto sp = (m * p).sum(1), st = (m * t).sum(1);
  const auto spp = (m * p * p).sum(1), spt = (m * p * t).sum(1);
  const auto det = (n * spp - sp * sp).clamp_min(1e-6);
  // The objective is convex in the scale once the shift is solved for, so the best scale >= 0
  // is the unconstrained one clamped at 0.
  const auto scale = ((n * spt - sp * st) / det).clamp_min(0.0);
  const auto shift = (st - scale * sp) / n;
  return pred * scale.view({B, 1, 1, 1, 1}) + shift.view({B, 1, 1, 1, 1});
}

torch::Tensor LogDepthLoss(const torch::Tensor& pred, const torch::Tensor& depth,
                           double gradient_weight, int scales, double sky_weight) {
  const int64_t B = pred.size(0), L = pred.size(1), H = pred.size(3), W = pred.size(4);
  const auto valid = (depth > 0).to(pred.scalar_type());
  const auto sky = (depth == 0).to(pred.scalar_type());  // < 0: unknown, not scored
  // The renderer's sky begins where its far limit ends: beyond the farthest depth of the snippet.
  const auto far = depth.reshape({B, -1}).amax(1).clamp_min(1e-3).view({B, 1, 1, 1, 1});
  const auto log_target = torch::log(torch::where(depth > 0, depth, far));
  auto residual = torch::log(pred.clamp_min(1e-12)) - log_target;
  const auto count = valid.reshape({B, -1}).sum(1).clamp_min(1.0);
  const auto offset = (residual * valid).reshape({B, -1}).sum(1) / count;
  residual = residual - offset.view({B, 1, 1, 1, 1});
  const auto weight = valid + sky_weight * sky;
  torch::Tensor loss = (residual.abs() * weight).sum() / weight.sum().clamp_min(1.0);
  if (gradient_weight > 0) {
    loss = loss + gradient_weight * GradientMatching(residual.reshape({B * L, 1, H, W}),
                                                     valid.reshape({B * L, 1, H, W}), scales);
  }
  return loss;
}

torch::Tensor AbsRelOfAligned(const torch::Tensor& aligned, const torch::Tensor& depth) {
  const auto valid = (depth > 0).to(aligned.scalar_type());
  const auto error = (aligned - depth).abs() / depth.clamp_min(1e-3) * valid;
  return error.sum() / valid.sum().clamp_min(1.0);
}

torch::Tensor AlignedAbsRel(const torch::Tensor& pred, const torch::Tensor& depth) {
  return AbsRelOfAligned(AlignPerSnippet(pred, depth, (depth > 0).to(pred.scalar_type())), depth);
}

}  // namespace depthd::train
