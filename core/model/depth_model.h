// The snippet network interface. Includes LibTorch: only model code and the pipeline include it.
#ifndef DEPTHD_CORE_DEPTH_MODEL_H_
#define DEPTHD_CORE_DEPTH_MODEL_H_

#include <vector>

#include <torch/types.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/model/device.h"
#include "core/model/model_contract.h"
#include "core/model/refine_options.h"

namespace depthd {

class DepthModel {
 public:
  virtual ~DepthModel() = default;

  virtual const ModelContract& contract() const = 0;
  virtual DeviceKind device() const = 0;
  virtual DType dtype() const = 0;

  // rgb: [B, L, 3, H, W] float in [-1, 1] (any device; moved to the model's), H and W multiples
  // of contract().size_multiple. Returns [B, L, 1, H, W] float32 on the CPU.
  virtual absl::StatusOr<torch::Tensor> PredictSnippets(const torch::Tensor& rgb) = 0;

  // Latent models (RollingDepth) encode each frame once per video rather than once per snippet.
  // The pipeline then calls BeginVideo, EncodeFrames over all frames in order, and
  // PredictSnippetFrames with frame indices; Refine (when contract().supports_refine) works on
  // the same video. The model keeps that video's state until the next BeginVideo or EndVideo.
  virtual bool encodes_frames() const { return false; }
  virtual int frame_batch() const { return 4; }  // frames per EncodeFrames call
  virtual absl::Status BeginVideo(int /*num_frames*/, int64_t /*seed*/) {
    return absl::UnimplementedError("this model does not encode whole videos");
  }
  // rgb: [B, 3, H, W] in [-1, 1], frames first_frame .. first_frame + B - 1.
  virtual absl::Status EncodeFrames(const torch::Tensor& /*rgb*/, int /*first_frame*/) {
    return absl::UnimplementedError("this model does not encode whole videos");
  }
  // snippets: frame indices, all of contract().snippet_length. Returns [S, L, 1, H, W] float32
  // on the CPU.
  virtual absl::StatusOr<torch::Tensor> PredictSnippetFrames(
      const std::vector<std::vector<int>>& /*snippets*/) {
    return absl::UnimplementedError("this model does not encode whole videos");
  }
  // depth: the co-aligned video [N, 1, H, W] in [-1, 1] (its minimum -1, larger = farther).
  // Returns the refined depth [N, 1, H, W] float32 on the CPU (affine-invariant).
  virtual absl::StatusOr<torch::Tensor> Refine(const torch::Tensor& /*depth*/,
                                               const RefineOptions& /*options*/) {
    return absl::UnimplementedError("this model cannot refine");
  }
  virtual void EndVideo() {}
};

}  // namespace depthd

#endif  // DEPTHD_CORE_DEPTH_MODEL_H_
