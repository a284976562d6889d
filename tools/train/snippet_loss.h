// The training loss of the embedded model: scale-invariant, in log depth, per snippet.
#ifndef DEPTHD_TOOLS_TRAIN_SNIPPET_LOSS_H_
#define DEPTHD_TOOLS_TRAIN_SNIPPET_LOSS_H_

#include <vector>

#include <torch/torch.h>

namespace depthd::train {

// Least-squares scale and shift of `pred` onto `target` over valid pixels (mask != 0), one pair
// per snippet (all frames together), with the scale held at >= 0 as in core's FitScaleShift: a
// prediction that runs against the target is not turned round. pred, target, mask:
// [B, L, 1, H, W]. Returns the aligned prediction.
torch::Tensor AlignPerSnippet(const torch::Tensor& pred, const torch::Tensor& target,
                              const torch::Tensor& mask);

// pred: [B, L, 1, H, W] positive depth; depth: the same shape, metres, 0 = sky, < 0 = unknown
// (not scored: pixels a training augmentation brought in from outside the frame). The log
// residual log(pred) - log(depth) is shifted per snippet to mean 0 over valid pixels (one scale
// per snippet, as co-alignment assumes), then scored by its L1 plus `gradient_weight` times a
// gradient-matching term over `scales` scales (MiDaS), both in log depth, so an error counts
// as a relative depth error wherever it is. Sky is asked to lie at the snippet's farthest depth
// with weight `sky_weight`. A positive scale is the only freedom: a prediction that grows
// towards the camera cannot score well, which an affine fit would let it.
torch::Tensor LogDepthLoss(const torch::Tensor& pred, const torch::Tensor& depth,
                           double gradient_weight = 0.5, int scales = 4, double sky_weight = 0.2);

// The evaluation's error, per snippet: `pred` aligned to `depth` (metres; 0 = sky and < 0 =
// unknown are ignored) by
// AlignPerSnippet, then the mean of |aligned - depth| / depth. A fit in depth space is ruled by
// the far pixels, so a prediction that is right in log depth but bends the far range still pays
// here, at the near pixels the fit then misplaces.
torch::Tensor AlignedAbsRel(const torch::Tensor& pred, const torch::Tensor& depth);

// The mean of |aligned - depth| / depth over valid pixels (depth > 0), for a prediction already
// aligned by AlignPerSnippet; AlignedAbsRel is this after the alignment.
torch::Tensor AbsRelOfAligned(const torch::Tensor& aligned, const torch::Tensor& depth);

// Self-supervised view synthesis (Monodepth2): every pixel of `target` is lifted with its depth,
// moved by a source camera's motion and looked up in that source frame, and scored by
// 0.85 (1 - SSIM) / 2 + 0.15 L1. Per pixel the minimum is taken over the sources (a pixel hidden
// in one is seen in the other) and over the sources unwarped (auto-masking: a pixel that the
// unwarped frame already explains, a static camera's or an object moving with it, teaches
// nothing and costs nothing); pixels that leave a source's view count only through the others.
// target, sources[k]: [B, 3, H, W] in [0, 1]; depths[k]: [B, 1, H, W], target depth in the
// units of translations[k] (sources whose baselines differ need their own scale); K: [B, 3, 3]
// with pixel centres at integers; rotations[k]: [B, 3, 3], translations[k]: [B, 3], such that a
// point X of the target camera is R X + t in source k's.
torch::Tensor PhotometricLoss(const torch::Tensor& target, const std::vector<torch::Tensor>& sources,
                              const std::vector<torch::Tensor>& depths, const torch::Tensor& K,
                              const std::vector<torch::Tensor>& rotations,
                              const std::vector<torch::Tensor>& translations);

// Looks `source` up where the target's pixels land (see PhotometricLoss). Returns the warped
// image [B, 3, H, W] and sets *in_view ([B, 1, H, W] bool) to the pixels that land inside it.
torch::Tensor WarpToTarget(const torch::Tensor& source, const torch::Tensor& depth, const torch::Tensor& K,
                           const torch::Tensor& rotation, const torch::Tensor& translation, torch::Tensor* in_view);

// Edge-aware smoothness of the mean-normalised inverse depth (Monodepth2): its gradients,
// weighted by exp(-|image gradient|), so depth may jump where the image has an edge.
// depth: [B, 1, H, W] > 0; image: [B, 3, H, W] in [0, 1].
torch::Tensor EdgeAwareSmoothness(const torch::Tensor& depth, const torch::Tensor& image);

}  // namespace depthd::train

#endif  // DEPTHD_TOOLS_TRAIN_SNIPPET_LOSS_H_
