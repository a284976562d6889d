#include "tools/train/snippet_loss.h"

namespace depthd::train {

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
  const auto scale = (n * spt - sp * st) / det;
  const auto shift = (st - scale * sp) / n;
  return pred * scale.view({B, 1, 1, 1, 1}) + shift.view({B, 1, 1, 1, 1});
}

torch::Tensor SnippetLoss(const torch::Tensor& pred, const torch::Tensor& target,
                          const torch::Tensor& mask, double gradient_weight, int scales,
                          const torch::Tensor& l1_weight) {
  const auto aligned = AlignPerSnippet(pred, target, mask);
  const auto valid = mask.sum().clamp_min(1.0);
  const auto weighted = l1_weight.defined() ? mask * l1_weight : mask;
  torch::Tensor loss = ((aligned - target).abs() * weighted).sum() / valid;
  // Gradient matching (MiDaS): differences of the residual between neighbours, at 1/1..1/8.
  const int64_t B = pred.size(0), L = pred.size(1), H = pred.size(3), W = pred.size(4);
  auto residual = ((aligned - target) * mask).reshape({B * L, 1, H, W});
  auto m = mask.reshape({B * L, 1, H, W});
  torch::Tensor gradient = torch::zeros({}, pred.options());
  for (int s = 0; s < scales; ++s) {
    if (s > 0) {
      residual = torch::avg_pool2d(residual, 2) * 4.0;
      m = torch::max_pool2d(-m, 2).neg();  // valid only where all four were valid
    }
    if (residual.size(2) < 2 || residual.size(3) < 2) break;
    auto mx = m.narrow(3, 1, m.size(3) - 1) * m.narrow(3, 0, m.size(3) - 1);
    auto my = m.narrow(2, 1, m.size(2) - 1) * m.narrow(2, 0, m.size(2) - 1);
    auto gx = (residual.narrow(3, 1, residual.size(3) - 1) - residual.narrow(3, 0, residual.size(3) - 1)).abs() * mx;
    auto gy = (residual.narrow(2, 1, residual.size(2) - 1) - residual.narrow(2, 0, residual.size(2) - 1)).abs() * my;
    gradient = gradient + (gx.sum() + gy.sum()) / (mx.sum() + my.sum()).clamp_min(1.0);
  }
  return loss + gradient_weight * gradient / scales;
}

}  // namespace depthd::train
