// The CLIP text encoder (transformers' CLIPTextModel), enough to embed the empty prompt once.
#ifndef DEPTHD_CORE_DIFFUSION_CLIP_TEXT_H_
#define DEPTHD_CORE_DIFFUSION_CLIP_TEXT_H_

#include <memory>
#include <string>
#include <vector>

#include <torch/nn.h>

#include "absl/status/statusor.h"
#include "core/model/diffusion/config_file.h"

namespace depthd::diffusion {

struct ClipTextConfig {
  int vocab_size = 49408;
  int hidden_size = 1024;
  int intermediate_size = 4096;
  int num_hidden_layers = 23;
  int num_attention_heads = 16;
  int max_position_embeddings = 77;
  std::string hidden_act = "gelu";  // or "quick_gelu"
  double layer_norm_eps = 1e-5;
};

absl::StatusOr<ClipTextConfig> ParseClipTextConfig(const ConfigFile& config);

class ClipTextEncoder : public torch::nn::Module {
 public:
  explicit ClipTextEncoder(const ClipTextConfig& config);
  // token ids [1, T] (int64) -> last_hidden_state [1, T, hidden_size], causal attention.
  torch::Tensor forward(const torch::Tensor& ids);

 private:
  struct Layer;
  ClipTextConfig config_;
  torch::nn::Embedding token_embedding_{nullptr}, position_embedding_{nullptr};
  std::vector<std::shared_ptr<Layer>> layers_;
  torch::nn::LayerNorm final_layer_norm_{nullptr};
};

// The ids of "<|startoftext|>" and "<|endoftext|>" from tokenizer/vocab.json: the empty prompt
// is exactly [BOS, EOS] (no padding, as RollingDepth tokenises it).
absl::StatusOr<std::vector<int64_t>> EmptyPromptIds(const std::string& vocab_json_path);

// Loads <checkpoint>/text_encoder (config.json + weights) and <checkpoint>/tokenizer/vocab.json
// and returns the empty prompt's last_hidden_state [1, 2, hidden_size], float32 on the CPU.
// The encoder is freed on return.
absl::StatusOr<torch::Tensor> EncodeEmptyPrompt(const std::string& checkpoint_dir);

}  // namespace depthd::diffusion

#endif  // DEPTHD_CORE_DIFFUSION_CLIP_TEXT_H_
