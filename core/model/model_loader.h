// Loading a model by path, without exposing LibTorch to callers (server, tools).
#ifndef DEPTHD_CORE_MODEL_MODEL_LOADER_H_
#define DEPTHD_CORE_MODEL_MODEL_LOADER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "core/model/device.h"
#include "core/model/model_contract.h"

namespace depthd {

class DepthModel;

struct ModelLoadOptions {
  // A TorchScript file (<name>.pt with <name>.json beside it), or a RollingDepth checkpoint
  // folder in diffusers layout (model_index.json, unet/, vae/, ...). Empty: the embedded model.
  std::string path;
  std::string device = "auto";
  std::string dtype;  // "" = the device's default
  int max_vae_bs = 4;  // frames per VAE call, for checkpoint folders
  // cpu | model: where a RollingDepth checkpoint draws its noise (model: the model's device and
  // dtype, as the Python reference does, so a seed gives the reference's noise on a GPU).
  std::string noise_device = "cpu";
};

struct ModelInfo {
  ModelContract contract;
  std::string path;
  DeviceKind device = DeviceKind::kCpu;
  DType dtype = DType::kFloat32;
};

// The shipped model: models/tinysnippet.pt, looked up beside the binary (../share/depthd/models,
// ../models) and in the source tree.
std::string DefaultModelPath();

// Loads, moves to the device, and checks the model once with a small dummy forward, so a broken
// model fails at start-up with a message that names it.
absl::StatusOr<std::shared_ptr<DepthModel>> LoadDepthModel(const ModelLoadOptions& options);

ModelInfo DescribeModel(const DepthModel& model);

}  // namespace depthd

#endif  // DEPTHD_CORE_MODEL_MODEL_LOADER_H_
