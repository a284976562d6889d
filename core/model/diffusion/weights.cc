#include "core/model/diffusion/weights.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include <torch/types.h>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/model/safetensors.h"
#include "core/status_macros.h"

namespace depthd::diffusion {
namespace {

// Renames keys of VAEs saved before diffusers 0.14 to the current attention names.
std::string CurrentName(const std::string& key) {
  static const std::pair<const char*, const char*> kRenames[] = {
      {".query.", ".to_q."}, {".key.", ".to_k."}, {".value.", ".to_v."},
      {".proj_attn.", ".to_out.0."}};
  for (const auto& [old_name, new_name] : kRenames) {
    const size_t at = key.find(old_name);
    if (at != std::string::npos) {
      return key.substr(0, at) + new_name + key.substr(at + std::string(old_name).size());
    }
  }
  return key;
}

// Keys that checkpoints may carry without being parameters (buffers of older exports).
bool Ignorable(const std::string& key) {
  return key.size() >= 12 && key.compare(key.size() - 12, 12, "position_ids") == 0;
}

torch::ScalarType FileType(const std::string& dtype) {
  if (dtype == "F16") return torch::kHalf;
  if (dtype == "BF16") return torch::kBFloat16;
  if (dtype == "F32") return torch::kFloat32;
  if (dtype == "F64") return torch::kFloat64;
  return torch::kByte;  // unknown: refused by the caller
}

}  // namespace

std::vector<std::string> ParameterNames(const torch::nn::Module& module) {
  std::vector<std::string> names;
  for (const auto& p : module.named_parameters(/*recurse=*/true)) names.push_back(p.key());
  std::sort(names.begin(), names.end());
  return names;
}

absl::Status LoadWeights(torch::nn::Module& module, const std::string& path,
                         const std::string& optional_prefix) {
  DEPTHD_ASSIGN_OR_RETURN(std::unique_ptr<SafetensorsFile> file, SafetensorsFile::Open(path));
  // Parameter name -> the file's key for it.
  std::map<std::string, std::string> file_key;
  for (const auto& [key, view] : file->tensors()) {
    if (Ignorable(key)) continue;
    const bool prefixed = optional_prefix.empty() || key.rfind(optional_prefix, 0) == 0;
    file_key[CurrentName(prefixed ? key : optional_prefix + key)] = key;
  }
  torch::NoGradGuard no_grad;
  for (auto& p : module.named_parameters(/*recurse=*/true)) {
    auto it = file_key.find(p.key());
    if (it == file_key.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": weight '", p.key(), "' is missing (the config and the weights do not match)"));
    }
    const std::vector<int64_t> shape(p.value().sizes().begin(), p.value().sizes().end());
    DEPTHD_ASSIGN_OR_RETURN(const SafetensorsView view, file->Get(it->second, shape));
    const torch::ScalarType type = FileType(view.dtype);
    if (type == torch::kByte) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": weight '", it->second, "' has dtype ",
                                                     view.dtype, "; expected F32, F16 or BF16"));
    }
    p.value().copy_(torch::from_blob(const_cast<std::byte*>(view.data), shape,
                                     torch::TensorOptions().dtype(type)));
    file_key.erase(it);
  }
  if (!file_key.empty()) {
    std::vector<std::string> unexpected;
    for (const auto& entry : file_key) {
      if (unexpected.size() == 5) break;
      unexpected.push_back(entry.second);
    }
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": holds weights the config does not describe, e.g. '",
        absl::StrJoin(unexpected, "', '"), "' (is the config.json beside it the right one?)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> FindWeightFile(const std::string& dir) {
  namespace fs = std::filesystem;
  for (const char* name : {"diffusion_pytorch_model.safetensors", "model.safetensors",
                           "diffusion_pytorch_model.fp16.safetensors", "model.fp16.safetensors"}) {
    const fs::path candidate = fs::path(dir) / name;
    std::error_code error;
    if (fs::exists(candidate, error)) return candidate.string();
  }
  return absl::NotFoundError(absl::StrCat(
      "no weights in ", dir, ": expected diffusion_pytorch_model.safetensors or "
      "model.safetensors (PyTorch .bin weights are not read; convert them to safetensors)"));
}

}  // namespace depthd::diffusion
