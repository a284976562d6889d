// Writes a tiny RollingDepth checkpoint in the exact diffusers layout (same file names, config
// fields and key names as prs-eth/rollingdepth-v1-0, small channel counts, random weights), so
// tests run the whole checkpoint path on a CPU in seconds.
#ifndef DEPTHD_TESTS_TESTING_TINY_ROLLINGDEPTH_H_
#define DEPTHD_TESTS_TESTING_TINY_ROLLINGDEPTH_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "absl/status/status.h"

namespace depthd::testing {

struct TinyCheckpointOptions {
  uint64_t seed = 1;
  std::string drop_unet_key;         // leave this UNet weight out of the file
  std::string reshape_unet_key;      // store this UNet weight with a wrong shape
  bool vae_in_fp16 = true;           // exercise the F16 -> F32 conversion
  bool text_keys_unprefixed = false; // CLIP keys without "text_model." (as transformers 5 saves)
  std::string prediction_type = "v_prediction";
  // RollingDepth's full size instead of the tiny configs: the SD 2 UNet with 8 input channels,
  // the SD VAE, a CLIP-H-width text encoder (bench_rollingdepth --write_checkpoint).
  bool full_size = false;
  bool all_in_fp16 = false;  // store every weight as F16 (halves a full-size checkpoint)
};

// The tiny configs, as the JSON text of each file.
std::string TinyUNetConfigJson();
std::string TinyVaeConfigJson();
std::string TinyTextEncoderConfigJson();
std::string TinySchedulerConfigJson(const std::string& prediction_type);
std::string FullUNetConfigJson();
std::string FullVaeConfigJson();
std::string FullTextEncoderConfigJson();

// model_index.json, {unet,vae,text_encoder,scheduler,tokenizer}/... under `dir`.
absl::Status WriteTinyRollingDepth(const std::string& dir, const TinyCheckpointOptions& options = {});

// A .safetensors file: tensors stored in their own dtype (float32, float16 or bfloat16).
absl::Status WriteSafetensors(const std::string& path,
                              const std::vector<std::pair<std::string, torch::Tensor>>& tensors);

}  // namespace depthd::testing

#endif  // DEPTHD_TESTS_TESTING_TINY_ROLLINGDEPTH_H_
