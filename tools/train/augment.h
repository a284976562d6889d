// Training augmentations that change the geometry, with the depth they imply.
#ifndef DEPTHD_TOOLS_TRAIN_AUGMENT_H_
#define DEPTHD_TOOLS_TRAIN_AUGMENT_H_

#include <torch/torch.h>

namespace depthd::train {

// The frame a camera at the same place would see after rolling by `roll` and pitching by
// `pitch` (radians; R = Rz(roll) Rx(pitch) in x right, y down, z forward: a point X of the
// original camera is R X in the turned one, positive pitch looks down) with its focal length
// times `zoom`. The image follows the homography K' R K^-1 (bilinear, border pixels repeated);
// the depth is the turned camera's z of the same point (nearest neighbour, sky stays 0); pixels
// that come from outside the frame get depth -1 (unknown). rgb: [3, H, W], depth: [H, W]
// (metres along the axis, 0 = sky); fx, cx, cy in pixels with pixel centres at integers.
void TurnCamera(const torch::Tensor& rgb, const torch::Tensor& depth, double fx, double cx,
                double cy, double roll, double pitch, double zoom, torch::Tensor* rgb_out,
                torch::Tensor* depth_out);

}  // namespace depthd::train

#endif  // DEPTHD_TOOLS_TRAIN_AUGMENT_H_
