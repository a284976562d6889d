// The training loss of the embedded model: scale-invariant, in log depth, per snippet.
#ifndef DEPTHD_TOOLS_TRAIN_SNIPPET_LOSS_H_
#define DEPTHD_TOOLS_TRAIN_SNIPPET_LOSS_H_

#include <torch/torch.h>

namespace depthd::train {

// Least-squares scale and shift of `pred` onto `target` over valid pixels (mask != 0), one pair
// per snippet (all frames together), with the scale held at >= 0 as in core's FitScaleShift: a
// prediction that runs against the target is not turned round. pred, target, mask:
// [B, L, 1, H, W]. Returns the aligned prediction.
torch::Tensor AlignPerSnippet(const torch::Tensor& pred, const torch::Tensor& target,
                              const torch::Tensor& mask);

// pred: [B, L, 1, H, W] positive depth; depth: the same shape, metres, 0 = sky. The log
// residual log(pred) - log(depth) is shifted per snippet to mean 0 over valid pixels (one scale
// per snippet, as co-alignment assumes), then scored by its L1 plus `gradient_weight` times a
// gradient-matching term over `scales` scales (MiDaS), both in log depth, so an error counts
// as a relative depth error wherever it is. Sky is asked to lie at the snippet's farthest depth
// with weight `sky_weight`. A positive scale is the only freedom: a prediction that grows
// towards the camera cannot score well, which an affine fit would let it.
torch::Tensor LogDepthLoss(const torch::Tensor& pred, const torch::Tensor& depth,
                           double gradient_weight = 0.5, int scales = 4, double sky_weight = 0.2);

// The evaluation's error, per snippet: `pred` aligned to `depth` (metres, 0 = sky, ignored) by
// AlignPerSnippet, then the mean of |aligned - depth| / depth. A fit in depth space is ruled by
// the far pixels, so a prediction that is right in log depth but bends the far range still pays
// here, at the near pixels the fit then misplaces.
torch::Tensor AlignedAbsRel(const torch::Tensor& pred, const torch::Tensor& depth);

// The mean of |aligned - depth| / depth over valid pixels (depth > 0), for a prediction already
// aligned by AlignPerSnippet; AlignedAbsRel is this after the alignment.
torch::Tensor AbsRelOfAligned(const torch::Tensor& aligned, const torch::Tensor& depth);

}  // namespace depthd::train

#endif  // DEPTHD_TOOLS_TRAIN_SNIPPET_LOSS_H_
