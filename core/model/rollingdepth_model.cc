#include "core/model/rollingdepth_model.h"

#include <c10/core/InferenceMode.h>

#include <filesystem>

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

absl::StatusOr<torch::Tensor> RollingDepthModel::PredictSnippets(const torch::Tensor& rgb) {
  const int multiple = contract_.size_multiple;
  if (rgb.dim() != 5 || rgb.size(2) != 3 || rgb.size(3) % multiple != 0 ||
      rgb.size(4) % multiple != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "model ", contract_.name, ": expected [B, L, 3, H, W] with H and W multiples of ", multiple));
  }
  const int64_t b = rgb.size(0), l = rgb.size(1);
  DEPTHD_RETURN_IF_ERROR(BeginVideo(static_cast<int>(b * l), /*seed=*/0));
  torch::Tensor frames = rgb.reshape({b * l, 3, rgb.size(3), rgb.size(4)});
  for (int64_t begin = 0; begin < b * l; begin += options_.max_vae_bs) {
    const int64_t count = std::min<int64_t>(options_.max_vae_bs, b * l - begin);
    DEPTHD_RETURN_IF_ERROR(EncodeFrames(frames.narrow(0, begin, count), static_cast<int>(begin)));
  }
  std::vector<std::vector<int>> snippets(b);
  for (int64_t s = 0; s < b; ++s) {
    for (int64_t j = 0; j < l; ++j) snippets[s].push_back(static_cast<int>(s * l + j));
  }
  auto depth = PredictSnippetFrames(snippets);
  EndVideo();
  return depth;
}

absl::Status RollingDepthModel::BeginVideo(int num_frames, int64_t seed) {
  if (num_frames < 1) return absl::InvalidArgumentError("the video has no frames");
  EndVideo();
  // The first EncodeFrames allocates the latents and draws the noise, once their size is known.
  noise_seed_ = seed;
  num_frames_ = num_frames;
  return absl::OkStatus();
}

absl::Status RollingDepthModel::EncodeFrames(const torch::Tensor& rgb, int first_frame) {
  if (first_frame != frames_encoded_ || first_frame + rgb.size(0) > num_frames_) {
    return absl::InternalError(absl::StrCat("frames must be encoded in order; got frame ",
                                            first_frame, " after ", frames_encoded_));
  }
  auto encoded = TorchCall(absl::StrCat("model ", contract_.name, ": encoding"), [&] {
    torch::Tensor latents = net_->EncodeRgb(rgb);
    if (!rgb_latents_.defined()) {
      rgb_latents_ = torch::empty({num_frames_, latents.size(1), latents.size(2), latents.size(3)},
                                  latents.options());
      // Kept on the device, in the dtype it was drawn in (options_.noise_source).
      noise_ = diffusion::DrawNoise(latents.size(1), latents.size(2), latents.size(3),
                                    static_cast<uint64_t>(noise_seed_), options_.noise_source,
                                    latents.device(), latents.scalar_type());
    }
    rgb_latents_.narrow(0, first_frame, latents.size(0)).copy_(latents);
    return latents.size(0);
  });
  if (!encoded.ok()) return encoded.status();
  frames_encoded_ += static_cast<int>(*encoded);
  return absl::OkStatus();
}

absl::StatusOr<torch::Tensor> RollingDepthModel::PredictSnippetFrames(
    const std::vector<std::vector<int>>& snippets) {
  if (frames_encoded_ != num_frames_ || snippets.empty()) {
    return absl::InternalError("PredictSnippetFrames before all frames were encoded");
  }
  const int64_t s = static_cast<int64_t>(snippets.size()), l = static_cast<int64_t>(snippets[0].size());
  std::vector<int64_t> flat;
  for (const auto& snippet : snippets) {
    if (static_cast<int64_t>(snippet.size()) != l) {
      return absl::InternalError("all snippets of one call must have the same length");
    }
    for (int f : snippet) {
      if (f < 0 || f >= num_frames_) return absl::InternalError("snippet frame out of range");
      flat.push_back(f);
    }
  }
  auto inputs = TorchCall(absl::StrCat("model ", contract_.name, ": snippet inference"), [&] {
    torch::Tensor index = torch::tensor(flat, torch::kInt64).to(rgb_latents_.device());
    torch::Tensor rgb = rgb_latents_.index_select(0, index);
    return rgb.reshape({s, l, rgb.size(1), rgb.size(2), rgb.size(3)});
  });
  if (!inputs.ok()) return inputs.status();
  torch::Tensor noise = noise_.expand({s, l, noise_.size(0), noise_.size(1), noise_.size(2)});
  DEPTHD_ASSIGN_OR_RETURN(torch::Tensor denoised,
                          net_->DenoiseSnippets(*inputs, noise, options_.denoise_steps));
  torch::Tensor latents =
      denoised.reshape({s * l, denoised.size(2), denoised.size(3), denoised.size(4)});
  DEPTHD_ASSIGN_OR_RETURN(torch::Tensor depth, Decode(latents));
  return depth.reshape({s, l, 1, depth.size(2), depth.size(3)});
}

absl::StatusOr<torch::Tensor> RollingDepthModel::Refine(const torch::Tensor& depth,
                                                        const RefineOptions& options) {
  if (frames_encoded_ != num_frames_ || depth.dim() != 4 || depth.size(0) != num_frames_ ||
      depth.size(1) != 1) {
    return absl::InternalError("Refine needs the co-aligned depth [N, 1, H, W] of the encoded video");
  }
  // The co-aligned depth goes through the VAE as a grey RGB image, as in the reference.
  auto depth_latents = TorchCall(absl::StrCat("model ", contract_.name, ": depth encoding"), [&] {
    return InBatches(depth, options_.max_vae_bs, [&](const torch::Tensor& part) {
      return net_->EncodeRgb(part.expand({part.size(0), 3, part.size(2), part.size(3)}));
    });
  });
  if (!depth_latents.ok()) return depth_latents.status();
  DEPTHD_ASSIGN_OR_RETURN(torch::Tensor refined,
                          net_->Refine(rgb_latents_, *depth_latents, noise_, options));
  return Decode(refined);
}

void RollingDepthModel::EndVideo() {
  rgb_latents_ = torch::Tensor();
  noise_ = torch::Tensor();
  frames_encoded_ = 0;
}

}  // namespace depthd
