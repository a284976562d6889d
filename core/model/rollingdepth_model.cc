#include "core/model/rollingdepth_model.h"

#include <c10/core/InferenceMode.h>

#include <deque>
#include <filesystem>
#include <utility>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "core/model/torch_call.h"
#include "core/model/torch_device.h"

namespace depthd {
namespace {

// Runs `call` on consecutive slices of at most `batch` along dim 0 and concatenates the results.
template <typename Call>
torch::Tensor InBatches(const torch::Tensor& x, int batch, Call call) {
  std::vector<torch::Tensor> parts;
  for (int64_t begin = 0; begin < x.size(0); begin += batch) {
    parts.push_back(call(x.narrow(0, begin, std::min<int64_t>(batch, x.size(0) - begin))));
  }
  return torch::cat(parts, 0);
}

ModelContract MakeContract(const diffusion::RollingDepthNet& net, const std::string& name) {
  ModelContract contract;
  contract.name = name;
  contract.format = "diffusers";
  contract.snippet_length = 3;
  contract.size_multiple = net.downscale();
  contract.supports_refine = true;
  contract.description = absl::StrCat("RollingDepth checkpoint: ", net.config().description);
  const auto& unet = net.config().unet;
  const auto& scheduler = net.config().scheduler;
  nlohmann::json sidecar = {
      {"name", name},
      {"format", "diffusers"},
      {"snippet_length", contract.snippet_length},
      {"size_multiple", contract.size_multiple},
      {"output", contract.output},
      {"supports_refine", true},
      {"description", contract.description},
      {"unet_block_out_channels", unet.block_out_channels},
      {"scheduler", {{"prediction_type", scheduler.prediction_type},
                     {"timestep_spacing", scheduler.timestep_spacing},
                     {"beta_schedule", scheduler.beta_schedule}}}};
  contract.sidecar_json = sidecar.dump();
  return contract;
}

}  // namespace

RollingDepthModel::RollingDepthModel(std::unique_ptr<diffusion::RollingDepthNet> net,
                                     ModelContract contract, DeviceKind device, DType dtype,
                                     const RollingDepthOptions& options)
    : net_(std::move(net)),
      contract_(std::move(contract)),
      device_(device),
      dtype_(dtype),
      options_(options) {}

absl::StatusOr<std::unique_ptr<RollingDepthModel>> RollingDepthModel::Create(
    const std::string& dir, DeviceKind device, DType dtype, const RollingDepthOptions& options) {
  if (options.max_vae_bs < 1 || options.denoise_steps < 1) {
    return absl::InvalidArgumentError("max_vae_bs and denoise_steps must be at least 1");
  }
  DEPTHD_ASSIGN_OR_RETURN(std::unique_ptr<diffusion::RollingDepthNet> net,
                          diffusion::RollingDepthNet::Load(dir, TorchDevice(device), TorchDType(dtype)));
  std::string name = std::filesystem::path(dir).lexically_normal().filename().string();
  if (name.empty()) name = std::filesystem::path(dir).lexically_normal().parent_path().filename().string();
  return Wrap(std::move(net), name, device, dtype, options);
}

std::unique_ptr<RollingDepthModel> RollingDepthModel::Wrap(
    std::unique_ptr<diffusion::RollingDepthNet> net, std::string name, DeviceKind device,
    DType dtype, const RollingDepthOptions& options) {
  ModelContract contract = MakeContract(*net, name);
  return std::unique_ptr<RollingDepthModel>(
      new RollingDepthModel(std::move(net), std::move(contract), device, dtype, options));
}

absl::StatusOr<torch::Tensor> RollingDepthModel::Decode(const torch::Tensor& latents) {
  return TorchCall(absl::StrCat("model ", contract_.name, ": decoding"), [&] {
    return InBatches(latents, options_.max_vae_bs,
                     [&](const torch::Tensor& part) { return net_->DecodeDepth(part).cpu(); });
  });
}

namespace {

// One video: the RGB latents of the frames snippets still name, and the noise every snippet is
// denoised from (one draw per video, shared by all its frames).
class RollingDepthVideo final : public ModelVideo {
 public:
  RollingDepthVideo(RollingDepthModel& model, int height, int width, int64_t seed)
      : model_(model), height_(height), width_(width), seed_(seed) {}

  int frame_batch() const override { return model_.options().max_vae_bs; }

  absl::Status AddFrames(const torch::Tensor& rgb, int first_frame) override {
    if (rgb.dim() != 4 || rgb.size(1) != 3 || rgb.size(2) != height_ || rgb.size(3) != width_) {
      return absl::InvalidArgumentError(absl::StrCat("frames do not match the video's size ",
                                                     width_, "x", height_));
    }
    if (first_frame != next_frame_) {
      return absl::InternalError(absl::StrCat("frames must be added in order; got frame ",
                                              first_frame, " after ", next_frame_));
    }
    auto encoded = TorchCall(absl::StrCat("model ", model_.contract().name, ": encoding"), [&] {
      c10::InferenceMode inference;
      torch::Tensor latents = model_.net().EncodeRgb(rgb);
      if (!noise_.defined()) {
        // Kept on the device, in the dtype it was drawn in (options().noise_source).
        noise_ = diffusion::DrawNoise(latents.size(1), latents.size(2), latents.size(3),
                                      static_cast<uint64_t>(seed_), model_.options().noise_source,
                                      latents.device(), latents.scalar_type());
      }
      for (int64_t i = 0; i < latents.size(0); ++i) latents_.push_back(latents[i]);
      return latents.size(0);
    });
    if (!encoded.ok()) return encoded.status();
    next_frame_ += static_cast<int>(*encoded);
    return absl::OkStatus();
  }

  void ReleaseFramesBefore(int frame) override {
    while (first_frame_ < frame && !latents_.empty()) {
      latents_.pop_front();
      ++first_frame_;
    }
  }

  absl::StatusOr<torch::Tensor> PredictSnippets(
      const std::vector<std::vector<int>>& snippets) override {
    if (snippets.empty()) return absl::InternalError("no snippets to predict");
    const int64_t s = static_cast<int64_t>(snippets.size());
    const int64_t l = static_cast<int64_t>(snippets[0].size());
    for (const auto& snippet : snippets) {
      if (static_cast<int64_t>(snippet.size()) != l) {
        return absl::InternalError("all snippets of one call must have the same length");
      }
      for (int f : snippet) {
        if (f < first_frame_ || f >= next_frame_) {
          return absl::InternalError(absl::StrCat("snippet names frame ", f, ", held are ",
                                                  first_frame_, " .. ", next_frame_ - 1));
        }
      }
    }
    auto inputs = TorchCall(absl::StrCat("model ", model_.contract().name, ": snippet inference"), [&] {
      std::vector<torch::Tensor> frames;
      for (const auto& snippet : snippets) {
        for (int f : snippet) frames.push_back(latents_[f - first_frame_]);
      }
      torch::Tensor rgb = torch::stack(frames);
      return rgb.reshape({s, l, rgb.size(1), rgb.size(2), rgb.size(3)});
    });
    if (!inputs.ok()) return inputs.status();
    torch::Tensor noise = noise_.expand({s, l, noise_.size(0), noise_.size(1), noise_.size(2)});
    DEPTHD_ASSIGN_OR_RETURN(torch::Tensor denoised,
                            model_.net().DenoiseSnippets(*inputs, noise, model_.options().denoise_steps));
    torch::Tensor latents =
        denoised.reshape({s * l, denoised.size(2), denoised.size(3), denoised.size(4)});
    DEPTHD_ASSIGN_OR_RETURN(torch::Tensor depth, model_.Decode(latents));
    return depth.reshape({s, l, 1, depth.size(2), depth.size(3)});
  }

  absl::StatusOr<torch::Tensor> Refine(const torch::Tensor& depth,
                                       const RefineOptions& options) override {
    if (first_frame_ != 0 || depth.dim() != 4 || depth.size(0) != next_frame_ ||
        depth.size(1) != 1) {
      return absl::InternalError(
          "Refine needs the co-aligned depth [N, 1, H, W] of every frame, none released");
    }
    const int max_vae_bs = model_.options().max_vae_bs;
    auto latents = TorchCall(absl::StrCat("model ", model_.contract().name, ": depth encoding"), [&] {
      c10::InferenceMode inference;
      // The co-aligned depth goes through the VAE as a grey RGB image, as in the reference.
      torch::Tensor depth_latents = InBatches(depth, max_vae_bs, [&](const torch::Tensor& part) {
        return model_.net().EncodeRgb(part.expand({part.size(0), 3, part.size(2), part.size(3)}));
      });
      return std::make_pair(torch::stack(std::vector<torch::Tensor>(latents_.begin(), latents_.end())),
                            depth_latents);
    });
    if (!latents.ok()) return latents.status();
    DEPTHD_ASSIGN_OR_RETURN(torch::Tensor refined,
                            model_.net().Refine(latents->first, latents->second, noise_, options));
    return model_.Decode(refined);
  }

 private:
  RollingDepthModel& model_;
  const int height_, width_;
  const int64_t seed_;
  std::deque<torch::Tensor> latents_;  // [4, h, w] per held frame, on the device
  torch::Tensor noise_;                // [4, h, w], on the device
  int first_frame_ = 0;
  int next_frame_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ModelVideo>> RollingDepthModel::NewVideo(int height, int width,
                                                                        int64_t seed) {
  const int multiple = contract_.size_multiple;
  if (height <= 0 || width <= 0 || height % multiple != 0 || width % multiple != 0) {
    return absl::InvalidArgumentError(absl::StrCat("model ", contract_.name, ": frames of ", width,
                                                   "x", height, " are not multiples of ", multiple));
  }
  return std::make_unique<RollingDepthVideo>(*this, height, width, seed);
}

}  // namespace depthd
