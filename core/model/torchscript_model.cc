#include "core/model/torchscript_model.h"

#include <filesystem>
#include <sstream>

#include <c10/core/InferenceMode.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/model/torch_call.h"
#include "core/model/torch_device.h"

namespace depthd {
namespace {

std::string Shape(const torch::Tensor& t) {
  std::ostringstream out;
  out << t.sizes();
  return out.str();
}

}  // namespace

TorchScriptModel::TorchScriptModel(torch::jit::Module module, ModelContract contract,
                                   DeviceKind device, DType dtype)
    : module_(std::move(module)), contract_(std::move(contract)), device_(device), dtype_(dtype) {}

absl::StatusOr<std::unique_ptr<TorchScriptModel>> TorchScriptModel::Create(
    const std::string& path, DeviceKind device, DType dtype) {
  const std::filesystem::path model_path(path);
  std::filesystem::path sidecar = model_path;
  sidecar.replace_extension(".json");
  auto contract = ReadModelContract(sidecar.string());
  if (!contract.ok()) return contract.status();
  if (contract->format != "torchscript") {
    return absl::InvalidArgumentError(absl::StrCat(sidecar.string(), ": format '",
                                                   contract->format, "' is not torchscript"));
  }
  try {
    torch::jit::Module module = torch::jit::load(path, TorchDevice(device));
    module.eval();
    module.to(TorchDevice(device), TorchDType(dtype));
    return std::unique_ptr<TorchScriptModel>(
        new TorchScriptModel(std::move(module), *std::move(contract), device, dtype));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot load TorchScript model ", path, ": ", ShortTorchMessage(e)));
  }
}

absl::StatusOr<torch::Tensor> TorchScriptModel::PredictSnippets(const torch::Tensor& rgb) {
  const int multiple = contract_.size_multiple;
  if (rgb.dim() != 5 || rgb.size(1) != contract_.snippet_length || rgb.size(2) != 3 ||
      rgb.size(3) % multiple != 0 || rgb.size(4) % multiple != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "model ", contract_.name, ": got input ", Shape(rgb), ", expected [B, ",
        contract_.snippet_length, ", 3, H, W] with H and W multiples of ", multiple));
  }
  try {
    c10::InferenceMode inference;
    torch::Tensor input = rgb.to(TorchDevice(device_), TorchDType(dtype_));
    torch::Tensor output = module_.forward({input}).toTensor();
    const std::vector<int64_t> expected = {rgb.size(0), rgb.size(1), 1, rgb.size(3), rgb.size(4)};
    if (output.sizes() != c10::IntArrayRef(expected)) {
      return absl::InternalError(absl::StrCat("model ", contract_.name, " returned ",
                                              Shape(output), " for input ", Shape(rgb),
                                              "; expected [B, L, 1, H, W]"));
    }
    return output.to(torch::kCPU, torch::kFloat32).contiguous();
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat("model ", contract_.name, " failed: ", ShortTorchMessage(e)));
  }
}

}  // namespace depthd
