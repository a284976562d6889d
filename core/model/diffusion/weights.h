// Loads a module's parameters from .safetensors files by diffusers key name, checked both ways.
#ifndef DEPTHD_CORE_DIFFUSION_WEIGHTS_H_
#define DEPTHD_CORE_DIFFUSION_WEIGHTS_H_

#include <string>
#include <vector>

#include <torch/nn.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace depthd::diffusion {

// Copies every parameter of `module` from `path` (converted to the parameter's dtype and
// device). Errors name the file and the tensor: a missing weight, a shape that differs, a key
// in the file that the module does not have (the config does not match the weights), or a
// dtype the reader does not know. Keys of older diffusers VAEs (query/key/value/proj_attn) are
// accepted under their current names. Keys may also omit `optional_prefix` (transformers 5
// saves CLIPTextModel without its "text_model." prefix; 4.x kept it).
absl::Status LoadWeights(torch::nn::Module& module, const std::string& path,
                         const std::string& optional_prefix = "");

// The parameter names of `module`, sorted (for tests and error messages).
std::vector<std::string> ParameterNames(const torch::nn::Module& module);

// The weight file of a diffusers component folder: diffusion_pytorch_model.safetensors or
// model.safetensors (or their .fp16 variants). NOT_FOUND names the folder.
absl::StatusOr<std::string> FindWeightFile(const std::string& component_dir);

}  // namespace depthd::diffusion

#endif  // DEPTHD_CORE_DIFFUSION_WEIGHTS_H_
