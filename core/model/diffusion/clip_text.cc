#include "core/model/diffusion/clip_text.h"

#include <c10/core/InferenceMode.h>

#include <filesystem>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/model/diffusion/layers.h"
#include "core/model/diffusion/weights.h"
#include "core/status_macros.h"
#include "core/model/torch_call.h"

namespace depthd::diffusion {
namespace {

namespace F = torch::nn::functional;

torch::nn::LayerNorm Norm(int dim, double eps) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(eps));
}

}  // namespace

absl::StatusOr<ClipTextConfig> ParseClipTextConfig(const ConfigFile& file) {
  ClipTextConfig c;
  DEPTHD_ASSIGN_OR_RETURN(c.vocab_size, file.Int("vocab_size", 49408));
  DEPTHD_ASSIGN_OR_RETURN(c.hidden_size, file.Int("hidden_size", 512));
  DEPTHD_ASSIGN_OR_RETURN(c.intermediate_size, file.Int("intermediate_size", 2048));
  DEPTHD_ASSIGN_OR_RETURN(c.num_hidden_layers, file.Int("num_hidden_layers", 12));
  DEPTHD_ASSIGN_OR_RETURN(c.num_attention_heads, file.Int("num_attention_heads", 8));
  DEPTHD_ASSIGN_OR_RETURN(c.max_position_embeddings, file.Int("max_position_embeddings", 77));
  DEPTHD_ASSIGN_OR_RETURN(c.hidden_act, file.String("hidden_act", "quick_gelu"));
  DEPTHD_ASSIGN_OR_RETURN(c.layer_norm_eps, file.Double("layer_norm_eps", 1e-5));
  DEPTHD_RETURN_IF_ERROR(RequireOneOf(file, "hidden_act", c.hidden_act, {"gelu", "quick_gelu"}));
  if (c.num_attention_heads <= 0 || c.hidden_size % c.num_attention_heads != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(file.path(), ": hidden_size must be a multiple of num_attention_heads"));
  }
  return c;
}

struct ClipTextEncoder::Layer : torch::nn::Module {
  torch::nn::LayerNorm layer_norm1{nullptr}, layer_norm2{nullptr};
  torch::nn::Linear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, out_proj{nullptr};
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
  int heads;
  bool quick_gelu;

  explicit Layer(const ClipTextConfig& c)
      : heads(c.num_attention_heads), quick_gelu(c.hidden_act == "quick_gelu") {
    const int d = c.hidden_size;
    auto self_attn = std::make_shared<torch::nn::Module>();
    q_proj = self_attn->register_module("q_proj", torch::nn::Linear(d, d));
    k_proj = self_attn->register_module("k_proj", torch::nn::Linear(d, d));
    v_proj = self_attn->register_module("v_proj", torch::nn::Linear(d, d));
    out_proj = self_attn->register_module("out_proj", torch::nn::Linear(d, d));
    register_module("self_attn", self_attn);
    layer_norm1 = register_module("layer_norm1", Norm(d, c.layer_norm_eps));
    auto mlp = std::make_shared<torch::nn::Module>();
    fc1 = mlp->register_module("fc1", torch::nn::Linear(d, c.intermediate_size));
    fc2 = mlp->register_module("fc2", torch::nn::Linear(c.intermediate_size, d));
    register_module("mlp", mlp);
    layer_norm2 = register_module("layer_norm2", Norm(d, c.layer_norm_eps));
  }

  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& causal_mask) {
    torch::Tensor h = layer_norm1(x);
    torch::Tensor r = x + out_proj(Attend(q_proj(h), k_proj(h), v_proj(h), heads,
                                          /*upcast=*/false, causal_mask));
    torch::Tensor m = fc1(layer_norm2(r));
    m = quick_gelu ? m * torch::sigmoid(1.702 * m) : F::gelu(m);
    return r + fc2(m);
  }
};

ClipTextEncoder::ClipTextEncoder(const ClipTextConfig& c) : config_(c) {
  // Parameter names: text_model.embeddings.*, text_model.encoder.layers.<i>.*,
  // text_model.final_layer_norm.*.
  auto text_model = std::make_shared<torch::nn::Module>();
  auto embeddings = std::make_shared<torch::nn::Module>();
  token_embedding_ = embeddings->register_module(
      "token_embedding", torch::nn::Embedding(c.vocab_size, c.hidden_size));
  position_embedding_ = embeddings->register_module(
      "position_embedding", torch::nn::Embedding(c.max_position_embeddings, c.hidden_size));
  text_model->register_module("embeddings", embeddings);
  auto encoder = std::make_shared<torch::nn::Module>();
  torch::nn::ModuleList layers;
  for (int i = 0; i < c.num_hidden_layers; ++i) {
    layers_.push_back(std::make_shared<Layer>(c));
    layers->push_back(layers_.back());
  }
  encoder->register_module("layers", layers);
  text_model->register_module("encoder", encoder);
  final_layer_norm_ = text_model->register_module("final_layer_norm", Norm(c.hidden_size, c.layer_norm_eps));
  register_module("text_model", text_model);
}

torch::Tensor ClipTextEncoder::forward(const torch::Tensor& ids) {
  const int64_t t = ids.size(1);
  torch::Tensor positions = torch::arange(t, ids.options());
  torch::Tensor x = token_embedding_(ids) + position_embedding_(positions).unsqueeze(0);
  torch::Tensor mask =
      torch::full({t, t}, -std::numeric_limits<float>::infinity(), x.options()).triu(1);
  for (const auto& layer : layers_) x = layer->forward(x, mask);
  return final_layer_norm_(x);
}

absl::StatusOr<std::vector<int64_t>> EmptyPromptIds(const std::string& path) {
  DEPTHD_ASSIGN_OR_RETURN(ConfigFile vocab, ConfigFile::Read(path));
  std::vector<int64_t> ids;
  for (const char* token : {"<|startoftext|>", "<|endoftext|>"}) {
    DEPTHD_ASSIGN_OR_RETURN(int id, vocab.Int(token, -1));
    if (id < 0) return absl::InvalidArgumentError(absl::StrCat(path, " has no id for ", token));
    ids.push_back(id);
  }
  return ids;
}

absl::StatusOr<torch::Tensor> EncodeEmptyPrompt(const std::string& checkpoint_dir) {
  namespace fs = std::filesystem;
  const fs::path dir(checkpoint_dir);
  DEPTHD_ASSIGN_OR_RETURN(ConfigFile file, ConfigFile::Read((dir / "text_encoder" / "config.json").string()));
  DEPTHD_ASSIGN_OR_RETURN(ClipTextConfig config, ParseClipTextConfig(file));
  DEPTHD_ASSIGN_OR_RETURN(std::vector<int64_t> ids,
                          EmptyPromptIds((dir / "tokenizer" / "vocab.json").string()));
  for (int64_t id : ids) {
    if (id < 0 || id >= config.vocab_size) {
      return absl::InvalidArgumentError(absl::StrCat(
          checkpoint_dir, ": tokenizer id ", id, " is outside the text encoder's vocab_size ",
          config.vocab_size));
    }
  }
  try {
    ClipTextEncoder encoder(config);
    DEPTHD_ASSIGN_OR_RETURN(std::string weights, FindWeightFile((dir / "text_encoder").string()));
    DEPTHD_RETURN_IF_ERROR(LoadWeights(encoder, weights, "text_model."));
    c10::InferenceMode inference;
    return encoder.forward(torch::tensor(ids, torch::kInt64).unsqueeze(0));
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat("text encoder of ", checkpoint_dir, " failed: ", ShortTorchMessage(e)));
  }
}

}  // namespace depthd::diffusion
