#include "tests/testing/tiny_rollingdepth.h"

#include <cstring>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>
#include <torch/nn.h>

#include "absl/strings/str_cat.h"
#include "core/model/diffusion/clip_text.h"
#include "core/model/diffusion/unet.h"
#include "core/model/diffusion/vae.h"
#include "core/status_macros.h"

namespace depthd::testing {
namespace {

namespace fs = std::filesystem;

absl::Status WriteText(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path);
  out << text;
  return out ? absl::OkStatus() : absl::InternalError(absl::StrCat("cannot write ", path.string()));
}

std::vector<std::pair<std::string, torch::Tensor>> StateDict(const torch::nn::Module& module) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& p : module.named_parameters()) out.emplace_back(p.key(), p.value().detach().clone());
  return out;
}

}  // namespace

std::string TinyUNetConfigJson() {
  return R"({
  "_class_name": "UNet2DConditionModel", "_diffusers_version": "0.30.0",
  "act_fn": "silu", "addition_embed_type": null, "attention_head_dim": [2, 4],
  "block_out_channels": [32, 64], "center_input_sample": false, "class_embed_type": null,
  "conv_in_kernel": 3, "conv_out_kernel": 3, "cross_attention_dim": 32,
  "down_block_types": ["CrossAttnDownBlock2D", "DownBlock2D"], "downsample_padding": 1,
  "dual_cross_attention": false, "flip_sin_to_cos": true, "freq_shift": 0, "in_channels": 8,
  "layers_per_block": 1, "mid_block_scale_factor": 1, "mid_block_type": "UNetMidBlock2DCrossAttn",
  "norm_eps": 1e-05, "norm_num_groups": 8, "num_class_embeds": null,
  "only_cross_attention": false, "out_channels": 4, "resnet_time_scale_shift": "default",
  "sample_size": 8, "time_embedding_type": "positional", "upcast_attention": false,
  "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D"], "use_linear_projection": true
})";
}

std::string TinyVaeConfigJson() {
  return R"({
  "_class_name": "AutoencoderKL", "_diffusers_version": "0.30.0", "act_fn": "silu",
  "block_out_channels": [16, 32], "down_block_types": ["DownEncoderBlock2D", "DownEncoderBlock2D"],
  "in_channels": 3, "latent_channels": 4, "layers_per_block": 1, "norm_num_groups": 8,
  "out_channels": 3, "sample_size": 16, "scaling_factor": 0.18215,
  "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D"]
})";
}

std::string TinyTextEncoderConfigJson() {
  return R"({
  "architectures": ["CLIPTextModel"], "hidden_act": "gelu", "hidden_size": 32,
  "intermediate_size": 64, "layer_norm_eps": 1e-05, "max_position_embeddings": 8,
  "model_type": "clip_text_model", "num_attention_heads": 4, "num_hidden_layers": 2,
  "projection_dim": 32, "torch_dtype": "float32", "vocab_size": 12
})";
}

std::string TinySchedulerConfigJson(const std::string& prediction_type) {
  return absl::StrCat(R"({
  "_class_name": "DDIMScheduler", "_diffusers_version": "0.30.0", "beta_end": 0.012,
  "beta_schedule": "scaled_linear", "beta_start": 0.00085, "clip_sample": false,
  "num_train_timesteps": 1000, "prediction_type": ")", prediction_type, R"(",
  "rescale_betas_zero_snr": false, "set_alpha_to_one": false, "steps_offset": 1,
  "thresholding": false, "timestep_spacing": "trailing", "trained_betas": null
})");
}

std::string FullUNetConfigJson() {
  return R"({
  "_class_name": "UNet2DConditionModel", "_diffusers_version": "0.30.0",
  "act_fn": "silu", "addition_embed_type": null, "attention_head_dim": [5, 10, 20, 20],
  "block_out_channels": [320, 640, 1280, 1280], "center_input_sample": false,
  "class_embed_type": null, "conv_in_kernel": 3, "conv_out_kernel": 3,
  "cross_attention_dim": 1024,
  "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D",
                       "DownBlock2D"],
  "downsample_padding": 1, "dual_cross_attention": false, "flip_sin_to_cos": true,
  "freq_shift": 0, "in_channels": 8, "layers_per_block": 2, "mid_block_scale_factor": 1,
  "mid_block_type": "UNetMidBlock2DCrossAttn", "norm_eps": 1e-05, "norm_num_groups": 32,
  "num_class_embeds": null, "only_cross_attention": false, "out_channels": 4,
  "resnet_time_scale_shift": "default", "sample_size": 96, "time_embedding_type": "positional",
  "upcast_attention": false,
  "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D",
                     "CrossAttnUpBlock2D"],
  "use_linear_projection": true
})";
}

std::string FullVaeConfigJson() {
  return R"({
  "_class_name": "AutoencoderKL", "_diffusers_version": "0.30.0", "act_fn": "silu",
  "block_out_channels": [128, 256, 512, 512],
  "down_block_types": ["DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D",
                       "DownEncoderBlock2D"],
  "in_channels": 3, "latent_channels": 4, "layers_per_block": 2, "norm_num_groups": 32,
  "out_channels": 3, "sample_size": 768, "scaling_factor": 0.18215,
  "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D",
                     "UpDecoderBlock2D"]
})";
}

std::string FullTextEncoderConfigJson() {
  return R"({
  "architectures": ["CLIPTextModel"], "bos_token_id": 49406, "eos_token_id": 49407,
  "hidden_act": "gelu", "hidden_size": 1024, "intermediate_size": 4096,
  "layer_norm_eps": 1e-05, "max_position_embeddings": 77, "model_type": "clip_text_model",
  "num_attention_heads": 16, "num_hidden_layers": 23, "pad_token_id": 1, "projection_dim": 512,
  "torch_dtype": "float32", "vocab_size": 49408
})";
}

absl::Status WriteSafetensors(const std::string& path,
                              const std::vector<std::pair<std::string, torch::Tensor>>& tensors) {
  nlohmann::json header = nlohmann::json::object();
  std::string data;
  for (const auto& [name, tensor] : tensors) {
    torch::Tensor t = tensor.contiguous().cpu();
    const char* dtype = t.scalar_type() == torch::kHalf       ? "F16"
                        : t.scalar_type() == torch::kBFloat16 ? "BF16"
                                                               : "F32";
    if (std::string(dtype) == "F32") t = t.to(torch::kFloat32);
    const size_t begin = data.size();
    data.append(static_cast<const char*>(t.data_ptr()), t.numel() * t.element_size());
    header[name] = {{"dtype", dtype}, {"shape", t.sizes().vec()}, {"data_offsets", {begin, data.size()}}};
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  const uint64_t length = text.size();
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(&length), 8);
  out << text << data;
  return out ? absl::OkStatus() : absl::InternalError(absl::StrCat("cannot write ", path));
}

absl::Status WriteTinyRollingDepth(const std::string& dir, const TinyCheckpointOptions& options) {
  using namespace diffusion;
  torch::manual_seed(options.seed);
  const fs::path root(dir);
  DEPTHD_RETURN_IF_ERROR(WriteText(root / "model_index.json", R"({
  "_class_name": "RollingDepthPipeline", "_diffusers_version": "0.30.0",
  "scheduler": ["diffusers", "DDIMScheduler"], "text_encoder": ["transformers", "CLIPTextModel"],
  "tokenizer": ["transformers", "CLIPTokenizer"], "unet": ["diffusers", "UNet2DConditionModel"],
  "vae": ["diffusers", "AutoencoderKL"]
})"));
  const std::string unet_json = options.full_size ? FullUNetConfigJson() : TinyUNetConfigJson();
  const std::string vae_json = options.full_size ? FullVaeConfigJson() : TinyVaeConfigJson();
  const std::string text_json =
      options.full_size ? FullTextEncoderConfigJson() : TinyTextEncoderConfigJson();
  DEPTHD_RETURN_IF_ERROR(WriteText(root / "unet" / "config.json", unet_json));
  DEPTHD_RETURN_IF_ERROR(WriteText(root / "vae" / "config.json", vae_json));
  DEPTHD_RETURN_IF_ERROR(WriteText(root / "text_encoder" / "config.json", text_json));
  DEPTHD_RETURN_IF_ERROR(WriteText(root / "scheduler" / "scheduler_config.json",
                                   TinySchedulerConfigJson(options.prediction_type)));
  // Only the two special tokens are ever used (the empty prompt); merges.txt and the config let
  // transformers' CLIPTokenizer load the folder too.
  DEPTHD_RETURN_IF_ERROR(WriteText(
      root / "tokenizer" / "vocab.json",
      options.full_size ? R"({"!": 0, "<|startoftext|>": 49406, "<|endoftext|>": 49407})"
                        : R"({"a": 0, "b": 1, "<|startoftext|>": 10, "<|endoftext|>": 11})"));
  DEPTHD_RETURN_IF_ERROR(WriteText(root / "tokenizer" / "merges.txt", "#version: 0.2\n"));
  DEPTHD_RETURN_IF_ERROR(WriteText(root / "tokenizer" / "tokenizer_config.json", R"({
  "tokenizer_class": "CLIPTokenizer", "model_max_length": 77, "bos_token": "<|startoftext|>",
  "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>", "pad_token": "<|endoftext|>"
})"));

  DEPTHD_ASSIGN_OR_RETURN(ConfigFile unet_file, ConfigFile::Parse(unet_json, "unet"));
  DEPTHD_ASSIGN_OR_RETURN(UNetConfig unet_config, ParseUNetConfig(unet_file));
  DEPTHD_ASSIGN_OR_RETURN(ConfigFile vae_file, ConfigFile::Parse(vae_json, "vae"));
  DEPTHD_ASSIGN_OR_RETURN(VaeConfig vae_config, ParseVaeConfig(vae_file));
  DEPTHD_ASSIGN_OR_RETURN(ConfigFile text_file, ConfigFile::Parse(text_json, "text"));
  DEPTHD_ASSIGN_OR_RETURN(ClipTextConfig text_config, ParseClipTextConfig(text_file));

  auto unet = StateDict(UNet(unet_config));
  std::vector<std::pair<std::string, torch::Tensor>> kept;
  for (auto& [name, tensor] : unet) {
    if (name == options.drop_unet_key) continue;
    if (name == options.reshape_unet_key) tensor = torch::zeros({tensor.numel() + 1});
    kept.emplace_back(name, options.all_in_fp16 ? tensor.to(torch::kHalf) : tensor);
  }
  DEPTHD_RETURN_IF_ERROR(WriteSafetensors((root / "unet" / "diffusion_pytorch_model.safetensors").string(), kept));
  auto vae = StateDict(Vae(vae_config));
  if (options.vae_in_fp16 || options.all_in_fp16) {
    for (auto& [name, tensor] : vae) tensor = tensor.to(torch::kHalf);
  }
  DEPTHD_RETURN_IF_ERROR(WriteSafetensors((root / "vae" / "diffusion_pytorch_model.safetensors").string(), vae));
  auto text = StateDict(ClipTextEncoder(text_config));
  if (options.text_keys_unprefixed) {
    for (auto& [name, tensor] : text) name = name.substr(std::string("text_model.").size());
  }
  if (options.all_in_fp16) {
    for (auto& [name, tensor] : text) tensor = tensor.to(torch::kHalf);
  }
  DEPTHD_RETURN_IF_ERROR(WriteSafetensors((root / "text_encoder" / "model.safetensors").string(), text));
  return absl::OkStatus();
}

}  // namespace depthd::testing
