// The scale-and-shift-invariant training loss (MiDaS / Marigold style), per snippet.
#ifndef DEPTHD_TOOLS_TRAIN_SNIPPET_LOSS_H_
#define DEPTHD_TOOLS_TRAIN_SNIPPET_LOSS_H_

#include <torch/torch.h>

namespace depthd::train {

// Least-squares scale and shift of `pred` onto `target` over valid pixels, one pair per snippet
// (all frames together). pred, target, mask: [B, L, 1, H, W]. Returns the aligned prediction.
torch::Tensor AlignPerSnippet(const torch::Tensor& pred, const torch::Tensor& target,
                              const torch::Tensor& mask);

// L1 of the aligned prediction plus `gradient_weight` times the multi-scale gradient-matching
// term over `scales` scales. `l1_weight`, when defined ([B, L, 1, H, W]), weighs the L1 term
// per pixel (the alignment stays unweighted, as in the evaluation).
torch::Tensor SnippetLoss(const torch::Tensor& pred, const torch::Tensor& target,
                          const torch::Tensor& mask, double gradient_weight = 0.5, int scales = 4,
                          const torch::Tensor& l1_weight = {});

}  // namespace depthd::train

#endif  // DEPTHD_TOOLS_TRAIN_SNIPPET_LOSS_H_
