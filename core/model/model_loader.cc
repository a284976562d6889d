#include "core/model/model_loader.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include <torch/types.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/model/depth_model.h"
#include "core/status_macros.h"
#include "core/model/rollingdepth_model.h"
#include "core/model/torchscript_model.h"

namespace depthd {
namespace {

namespace fs = std::filesystem;

constexpr char kEmbeddedModel[] = "tinysnippet.pt";

fs::path ExecutableDir() {
  std::error_code error;
  const fs::path exe = fs::read_symlink("/proc/self/exe", error);
  return error ? fs::path() : exe.parent_path();
}

}  // namespace

std::string DefaultModelPath() {
  std::vector<fs::path> candidates;
  if (const char* dir = std::getenv("DEPTHD_MODEL_DIR")) candidates.push_back(fs::path(dir) / kEmbeddedModel);
  const fs::path exe_dir = ExecutableDir();
  if (!exe_dir.empty()) {
    candidates.push_back(exe_dir / "../share/depthd/models" / kEmbeddedModel);
    candidates.push_back(exe_dir / "../models" / kEmbeddedModel);
    candidates.push_back(exe_dir / "../../models" / kEmbeddedModel);
  }
#ifdef DEPTHD_DEFAULT_MODEL_DIR
  candidates.push_back(fs::path(DEPTHD_DEFAULT_MODEL_DIR) / kEmbeddedModel);
#endif
  std::error_code error;
  for (const fs::path& candidate : candidates) {
    if (fs::exists(candidate, error)) return fs::weakly_canonical(candidate, error).string();
  }
  return candidates.empty() ? kEmbeddedModel : candidates.back().string();
}

absl::StatusOr<std::shared_ptr<DepthModel>> LoadDepthModel(const ModelLoadOptions& options) {
  const std::string path = options.path.empty() ? DefaultModelPath() : options.path;
  std::error_code error;
  if (!fs::exists(path, error)) {
    return absl::NotFoundError(absl::StrCat("model file ", path, " not found"));
  }
  DEPTHD_ASSIGN_OR_RETURN(const DeviceKind device, ResolveDevice(options.device));
  DEPTHD_ASSIGN_OR_RETURN(const DType dtype, ResolveDType(options.dtype, device));
  if (options.noise_device != "cpu" && options.noise_device != "model") {
    return absl::InvalidArgumentError(
        absl::StrCat("--noise_device is cpu or model, not '", options.noise_device, "'"));
  }
  std::unique_ptr<DepthModel> model;
  if (!fs::is_directory(path, error) && options.noise_device != "cpu") {
    return absl::InvalidArgumentError(
        "--noise_device model is for RollingDepth checkpoints; a TorchScript model draws no noise");
  }
  if (fs::is_directory(path, error)) {
    // A diffusers checkpoint folder: RollingDepth (prs-eth/rollingdepth-v1-0 layout).
    RollingDepthOptions rolling;
    rolling.max_vae_bs = options.max_vae_bs;
    if (options.noise_device == "model") rolling.noise_source = diffusion::NoiseSource::kModelDevice;
    DEPTHD_ASSIGN_OR_RETURN(model, RollingDepthModel::Create(path, device, dtype, rolling));
  } else {
    DEPTHD_ASSIGN_OR_RETURN(model, TorchScriptModel::Create(path, device, dtype));
  }
  // One tiny forward now, so a broken model fails at start-up and not on the first job.
  const int m = model->contract().size_multiple;
  const int side = ((32 + m - 1) / m) * m;
  auto probe = model->PredictSnippets(
      torch::zeros({1, model->contract().snippet_length, 3, side, side}));
  if (!probe.ok()) {
    return absl::Status(probe.status().code(),
                        absl::StrCat("model ", path, " failed its start-up check: ",
                                     probe.status().message()));
  }
  return std::shared_ptr<DepthModel>(std::move(model));
}

ModelInfo DescribeModel(const DepthModel& model) {
  ModelInfo info;
  info.contract = model.contract();
  info.device = model.device();
  info.dtype = model.dtype();
  return info;
}

}  // namespace depthd
