// The snippet network interface. Includes LibTorch: only model code and the pipeline include it.
//
// A DepthModel is the loaded network: read-only after loading and shared by every video.
// Everything that belongs to one video (its frames or their latents, the noise it is denoised
// with) lives in a ModelVideo, which frees it all when it is destroyed.
#ifndef DEPTHD_CORE_MODEL_DEPTH_MODEL_H_
#define DEPTHD_CORE_MODEL_DEPTH_MODEL_H_

#include <cstdint>
#include <memory>
#include <vector>

#include <torch/types.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/model/device.h"
#include "core/model/model_contract.h"
#include "core/model/refine_options.h"

namespace depthd {

class ModelVideo;

class DepthModel {
 public:
  virtual ~DepthModel() = default;

  virtual const ModelContract& contract() const = 0;
  virtual DeviceKind device() const = 0;
  virtual DType dtype() const = 0;

  // A new video whose frames are `height` x `width` (multiples of contract().size_multiple).
  // `seed` fixes the noise of diffusion models; deterministic models ignore it.
  virtual absl::StatusOr<std::unique_ptr<ModelVideo>> NewVideo(int height, int width,
                                                               int64_t seed) = 0;

  // Stand-alone snippets (start-up checks, benchmarks): rgb [B, L, 3, H, W] float in [-1, 1].
  // Returns [B, L, 1, H, W] float32 on the CPU.
  absl::StatusOr<torch::Tensor> PredictSnippets(const torch::Tensor& rgb);
};

// One video's state inside a model. Frames are added in order; snippets name frames by index.
class ModelVideo {
 public:
  virtual ~ModelVideo() = default;

  // Frames the model prefers per AddFrames call (latent models encode them in batches).
  virtual int frame_batch() const { return 1; }
  // rgb: [B, 3, H, W] float in [-1, 1] on the CPU, frames first_frame .. first_frame + B - 1.
  virtual absl::Status AddFrames(const torch::Tensor& rgb, int first_frame) = 0;
  // Frames before `frame` will not be named again; their memory can go.
  virtual void ReleaseFramesBefore(int frame) = 0;
  // snippets: frame indices, each of contract().snippet_length frames, all added and not
  // released. Returns [S, L, 1, H, W] float32 on the CPU.
  virtual absl::StatusOr<torch::Tensor> PredictSnippets(
      const std::vector<std::vector<int>>& snippets) = 0;
  // depth: the co-aligned video [N, 1, H, W] in [-1, 1] (its minimum -1, larger = farther), for
  // frames 0 .. N - 1, none released. Returns the refined depth [N, 1, H, W] float32 on the CPU
  // (affine-invariant).
  virtual absl::StatusOr<torch::Tensor> Refine(const torch::Tensor& /*depth*/,
                                               const RefineOptions& /*options*/) {
    return absl::UnimplementedError("this model cannot refine");
  }
};

}  // namespace depthd

#endif  // DEPTHD_CORE_MODEL_DEPTH_MODEL_H_
