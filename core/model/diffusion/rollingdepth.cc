#include "core/model/diffusion/rollingdepth.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <c10/core/InferenceMode.h>

#include <filesystem>
#include <mutex>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/model/diffusion/clip_text.h"
#include "core/model/diffusion/config_file.h"
#include "core/model/diffusion/weights.h"
#include "core/status_macros.h"
#include "core/model/torch_call.h"

namespace depthd::diffusion {
namespace {

namespace fs = std::filesystem;

std::string Join(const std::string& dir, const std::string& a, const std::string& b = "") {
  fs::path p = fs::path(dir) / a;
  if (!b.empty()) p /= b;
  return p.string();
}

}  // namespace

absl::StatusOr<RollingDepthConfig> ReadRollingDepthConfig(const std::string& dir) {
  const std::string index_path = Join(dir, "model_index.json");
  std::error_code error;
  if (!fs::exists(index_path, error)) {
    return absl::NotFoundError(absl::StrCat(
        dir, " is not a diffusers checkpoint: model_index.json is missing (expected the layout of "
             "prs-eth/rollingdepth-v1-0: model_index.json, unet/, vae/, text_encoder/, "
             "tokenizer/, scheduler/)"));
  }
  DEPTHD_ASSIGN_OR_RETURN(ConfigFile index, ConfigFile::Read(index_path));
  RollingDepthConfig config;
  DEPTHD_ASSIGN_OR_RETURN(std::string class_name, index.String("_class_name", "?"));
  DEPTHD_ASSIGN_OR_RETURN(std::string version, index.String("_diffusers_version", "?"));
  config.description = absl::StrCat(class_name, " (diffusers ", version, ")");

  DEPTHD_ASSIGN_OR_RETURN(ConfigFile unet, ConfigFile::Read(Join(dir, "unet", "config.json")));
  DEPTHD_ASSIGN_OR_RETURN(config.unet, ParseUNetConfig(unet));
  DEPTHD_ASSIGN_OR_RETURN(ConfigFile vae, ConfigFile::Read(Join(dir, "vae", "config.json")));
  DEPTHD_ASSIGN_OR_RETURN(config.vae, ParseVaeConfig(vae));
  DEPTHD_ASSIGN_OR_RETURN(ConfigFile scheduler,
                          ConfigFile::Read(Join(dir, "scheduler", "scheduler_config.json")));
  DEPTHD_ASSIGN_OR_RETURN(std::string scheduler_class, scheduler.String("_class_name", "DDIMScheduler"));
  DEPTHD_RETURN_IF_ERROR(RequireOneOf(scheduler, "_class_name", scheduler_class, {"DDIMScheduler"}));
  DEPTHD_ASSIGN_OR_RETURN(config.scheduler, ParseDdimConfig(scheduler));

  const int latent = config.vae.latent_channels;
  if (config.unet.in_channels != 2 * latent || config.unet.out_channels != latent) {
    return absl::InvalidArgumentError(absl::StrCat(
        dir, ": the UNet takes ", config.unet.in_channels, " channels and returns ",
        config.unet.out_channels, "; RollingDepth needs ", 2 * latent, " (RGB + depth latents) and ",
        latent));
  }
  return config;
}

torch::Tensor DrawNoise(int64_t channels, int64_t height, int64_t width, uint64_t seed,
                        NoiseSource source, torch::Device device, torch::ScalarType dtype) {
  const std::vector<int64_t> shape = {channels, height, width};
  if (source == NoiseSource::kCpu || device.is_cpu()) {
    auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
    const torch::ScalarType drawn = source == NoiseSource::kCpu ? torch::kFloat32 : dtype;
    return torch::randn(shape, generator, torch::TensorOptions().dtype(drawn)).to(device);
  }
  // A fresh generator of the device, as torch.Generator(device=...): a copy of the default one
  // (so no CUDA header is needed here), reseeded, which also resets its offset.
  at::Generator device_default = at::globalContext().defaultGenerator(device);
  at::Generator generator;
  {
    std::lock_guard<std::mutex> lock(device_default.mutex());
    generator = device_default.clone();
  }
  generator.set_current_seed(seed);
  return torch::randn(shape, generator, torch::TensorOptions().dtype(dtype).device(device));
}

RollingDepthNet::RollingDepthNet(RollingDepthConfig config, std::shared_ptr<UNet> unet,
                                 std::shared_ptr<Vae> vae, torch::Tensor text_embedding,
                                 torch::Device device, torch::ScalarType dtype)
    : config_(std::move(config)),
      unet_(std::move(unet)),
      vae_(std::move(vae)),
      scheduler_(config_.scheduler),
      device_(device),
      dtype_(dtype) {
  unet_->to(device, dtype);
  vae_->to(device, dtype);
  unet_->eval();
  vae_->eval();
  for (auto& p : unet_->parameters()) p.set_requires_grad(false);
  for (auto& p : vae_->parameters()) p.set_requires_grad(false);
  text_embedding_ = text_embedding.to(device, dtype);
  if (device.is_cuda()) at::globalContext().setBenchmarkCuDNN(true);  // fixed shapes per video
}

void RollingDepthNet::SetChannelsLast(bool on) {
  const auto format = on ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous;
  torch::NoGradGuard no_grad;
  for (torch::nn::Module* module : {static_cast<torch::nn::Module*>(unet_.get()),
                                    static_cast<torch::nn::Module*>(vae_.get())}) {
    for (auto& p : module->parameters()) {
      if (p.dim() == 4) p.set_data(p.contiguous(format));
    }
  }
  channels_last_ = on;
}

torch::Tensor RollingDepthNet::Layout(const torch::Tensor& x) const {
  return channels_last_ ? x.contiguous(torch::MemoryFormat::ChannelsLast) : x;
}

absl::StatusOr<std::unique_ptr<RollingDepthNet>> RollingDepthNet::Load(const std::string& dir,
                                                                      torch::Device device,
                                                                      torch::ScalarType dtype) {
  DEPTHD_ASSIGN_OR_RETURN(RollingDepthConfig config, ReadRollingDepthConfig(dir));
  // The text encoder runs once, for the empty prompt, and is freed.
  DEPTHD_ASSIGN_OR_RETURN(torch::Tensor embedding, EncodeEmptyPrompt(dir));
  if (embedding.size(2) != config.unet.cross_attention_dim) {
    return absl::InvalidArgumentError(absl::StrCat(
        dir, ": the text encoder's hidden_size (", embedding.size(2),
        ") differs from the UNet's cross_attention_dim (", config.unet.cross_attention_dim, ")"));
  }
  // Build on the CPU in float32, load, then move: weights of any stored dtype convert exactly.
  auto built = TorchCall("RollingDepth construction", [&] {
    return std::make_pair(std::make_shared<UNet>(config.unet), std::make_shared<Vae>(config.vae));
  });
  if (!built.ok()) return built.status();
  auto [unet, vae] = *std::move(built);
  DEPTHD_ASSIGN_OR_RETURN(std::string unet_file, FindWeightFile(Join(dir, "unet")));
  DEPTHD_RETURN_IF_ERROR(LoadWeights(*unet, unet_file));
  DEPTHD_ASSIGN_OR_RETURN(std::string vae_file, FindWeightFile(Join(dir, "vae")));
  DEPTHD_RETURN_IF_ERROR(LoadWeights(*vae, vae_file));
  auto net = TorchCall("RollingDepth loading onto the device", [&] {
    return std::unique_ptr<RollingDepthNet>(
        new RollingDepthNet(config, unet, vae, embedding, device, dtype));
  });
  if (!net.ok()) return net.status();
  return std::move(*net);
}

std::unique_ptr<RollingDepthNet> RollingDepthNet::Random(const RollingDepthConfig& config,
                                                         const torch::Tensor& text_embedding,
                                                         torch::Device device,
                                                         torch::ScalarType dtype) {
  return std::unique_ptr<RollingDepthNet>(
      new RollingDepthNet(config, std::make_shared<UNet>(config.unet),
                          std::make_shared<Vae>(config.vae), text_embedding, device, dtype));
}

torch::Tensor RollingDepthNet::EncodeRgb(const torch::Tensor& rgb) {
  c10::InferenceMode inference;
  return vae_->Encode(Layout(rgb.to(device_, dtype_))).contiguous();
}

torch::Tensor RollingDepthNet::DecodeDepth(const torch::Tensor& latents) {
  c10::InferenceMode inference;
  return vae_->Decode(Layout(latents.to(device_, dtype_))).to(torch::kFloat32).mean(1, /*keepdim=*/true);
}

torch::Tensor RollingDepthNet::SingleStep(const torch::Tensor& rgb, const torch::Tensor& depth,
                                          int timestep) {
  const int64_t s = rgb.size(0), n = rgb.size(1);
  auto flat = [&](const torch::Tensor& t) {
    return t.reshape({s * n, t.size(2), t.size(3), t.size(4)});
  };
  torch::Tensor input = torch::cat({flat(rgb), flat(depth)}, 1).to(device_, dtype_);
  torch::Tensor t = torch::full({s * n}, timestep, torch::TensorOptions().device(device_).dtype(torch::kInt64));
  torch::Tensor out = unet_->forward(Layout(input), t, text_embedding_, static_cast<int>(n)).contiguous();
  return out.reshape({s, n, out.size(1), out.size(2), out.size(3)});
}

absl::StatusOr<torch::Tensor> RollingDepthNet::DenoiseSnippets(const torch::Tensor& rgb_latents,
                                                               const torch::Tensor& noise,
                                                               int steps) {
  DEPTHD_ASSIGN_OR_RETURN(std::vector<int> timesteps, scheduler_.Timesteps(steps));
  return TorchCall("RollingDepth snippet inference", [&] {
    c10::InferenceMode inference;
    torch::Tensor depth = noise.to(device_, dtype_);
    for (int t : timesteps) {
      depth = scheduler_.Step(SingleStep(rgb_latents, depth, t), t, depth, steps);
    }
    return depth;
  });
}

absl::StatusOr<torch::Tensor> RollingDepthNet::Refine(const torch::Tensor& rgb_latents,
                                                      const torch::Tensor& depth_latents,
                                                      const torch::Tensor& noise,
                                                      const RefineOptions& options) {
  constexpr double kSkipRatio = 0.5;
  const int total = static_cast<int>(options.refine_step / kSkipRatio);
  DEPTHD_ASSIGN_OR_RETURN(std::vector<int> all, scheduler_.Timesteps(total));
  const std::vector<int> timesteps(all.begin() + static_cast<int>(all.size() * kSkipRatio), all.end());
  if (timesteps.empty() || timesteps.size() >= all.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("refine_step ", options.refine_step, " leaves no refinement steps"));
  }
  const int frames = static_cast<int>(rgb_latents.size(0));
  // Validate every step's snippets before spending compute.
  DEPTHD_ASSIGN_OR_RETURN(const auto plan, RefinePlan(frames, options));
  if (plan.size() != timesteps.size()) {
    return absl::InternalError(absl::StrCat("refinement plans ", plan.size(), " steps for ",
                                            timesteps.size(), " timesteps"));
  }
  const int batch = std::max(1, options.batch_size);
  bool cancelled = false;
  auto refined = TorchCall("RollingDepth refinement", [&]() -> torch::Tensor {
    c10::InferenceMode inference;
    torch::Tensor rgb = rgb_latents.to(device_, dtype_);
    torch::Tensor latent = scheduler_.AddNoise(depth_latents.to(device_, torch::kFloat32),
                                               noise.to(device_, torch::kFloat32).unsqueeze(0),
                                               timesteps[0]);
    for (size_t i = 0; i < timesteps.size(); ++i) {
      if (options.cancelled && options.cancelled()) {
        cancelled = true;
        return torch::Tensor();
      }
      const int t = timesteps[i];
      torch::Tensor old = latent.to(dtype_);
      torch::Tensor sum = torch::zeros_like(latent);
      torch::Tensor count = torch::zeros({frames}, latent.options());
      const auto& snippets = plan[i];
      for (size_t begin = 0; begin < snippets.size(); begin += batch) {
        const size_t end = std::min(snippets.size(), begin + batch);
        std::vector<int64_t> flat;
        for (size_t s = begin; s < end; ++s) flat.insert(flat.end(), snippets[s].begin(), snippets[s].end());
        torch::Tensor index = torch::tensor(flat, torch::kInt64).to(device_);
        const int64_t b = static_cast<int64_t>(end - begin), n = static_cast<int64_t>(snippets[begin].size());
        auto gather = [&](const torch::Tensor& source) {
          torch::Tensor g = source.index_select(0, index);
          return g.reshape({b, n, g.size(1), g.size(2), g.size(3)});
        };
        torch::Tensor input = gather(old);
        torch::Tensor pred = scheduler_.Step(SingleStep(gather(rgb), input, t), t, input, total);
        sum.index_add_(0, index, pred.reshape({b * n, pred.size(2), pred.size(3), pred.size(4)}).to(torch::kFloat32));
        count.index_add_(0, index, torch::ones({b * n}, count.options()));
      }
      latent = sum / count.view({frames, 1, 1, 1});
    }
    return latent;
  });
  if (!refined.ok()) return refined.status();
  if (cancelled) return absl::CancelledError("job cancelled during refinement");
  return *std::move(refined);
}

}  // namespace depthd::diffusion
