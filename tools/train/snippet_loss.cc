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

}  // namespace

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
  const auto sky = 1.0 - valid;
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
