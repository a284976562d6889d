#include "core/model/torchscript_model.h"

#include <deque>
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

absl::StatusOr<torch::Tensor> TorchScriptModel::Forward(const torch::Tensor& rgb) {
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
    return TorchExceptionStatus(absl::StrCat("model ", contract_.name), e);
  }
}

namespace {

// The frames snippets will still name, keyed by index.
class TorchScriptVideo final : public ModelVideo {
 public:
  TorchScriptVideo(TorchScriptModel& model, int height, int width)
      : model_(model), height_(height), width_(width) {}

  absl::Status AddFrames(const torch::Tensor& rgb, int first_frame) override {
    if (rgb.dim() != 4 || rgb.size(1) != 3 || rgb.size(2) != height_ || rgb.size(3) != width_) {
      return absl::InvalidArgumentError(absl::StrCat("frames are ", Shape(rgb), ", the video is [B, 3, ",
                                                     height_, ", ", width_, "]"));
    }
    if (first_frame != next_frame_) {
      return absl::InternalError(absl::StrCat("frames must be added in order; got frame ",
                                              first_frame, " after ", next_frame_));
    }
    for (int64_t i = 0; i < rgb.size(0); ++i) frames_.push_back(rgb[i].contiguous());
    next_frame_ += static_cast<int>(rgb.size(0));
    return absl::OkStatus();
  }

  void ReleaseFramesBefore(int frame) override {
    while (first_frame_ < frame && !frames_.empty()) {
      frames_.pop_front();
      ++first_frame_;
    }
  }

  absl::StatusOr<torch::Tensor> PredictSnippets(
      const std::vector<std::vector<int>>& snippets) override {
    if (snippets.empty()) return absl::InternalError("no snippets to predict");
    std::vector<torch::Tensor> inputs;
    for (const std::vector<int>& snippet : snippets) {
      std::vector<torch::Tensor> frames;
      for (int f : snippet) {
        if (f < first_frame_ || f >= next_frame_) {
          return absl::InternalError(absl::StrCat("snippet names frame ", f, ", held are ",
                                                  first_frame_, " .. ", next_frame_ - 1));
        }
        frames.push_back(frames_[f - first_frame_]);
      }
      inputs.push_back(torch::stack(frames));
    }
    auto batch = TorchCall("stacking snippet frames", [&] { return torch::stack(inputs); });
    if (!batch.ok()) return batch.status();
    return model_.Forward(*batch);
  }

 private:
  TorchScriptModel& model_;
  const int height_, width_;
  std::deque<torch::Tensor> frames_;
  int first_frame_ = 0;
  int next_frame_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ModelVideo>> TorchScriptModel::NewVideo(int height, int width,
                                                                       int64_t /*seed*/) {
  const int multiple = contract_.size_multiple;
  if (height <= 0 || width <= 0 || height % multiple != 0 || width % multiple != 0) {
    return absl::InvalidArgumentError(absl::StrCat("model ", contract_.name, ": frames of ", width,
                                                   "x", height, " are not multiples of ", multiple));
  }
  return std::make_unique<TorchScriptVideo>(*this, height, width);
}

}  // namespace depthd
