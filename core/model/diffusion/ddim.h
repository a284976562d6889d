// The DDIM scheduler (eta 0), driven by scheduler_config.json as diffusers' DDIMScheduler is.
#ifndef DEPTHD_CORE_DIFFUSION_DDIM_H_
#define DEPTHD_CORE_DIFFUSION_DDIM_H_

#include <string>
#include <vector>

#include <torch/types.h>

#include "absl/status/statusor.h"
#include "core/model/diffusion/config_file.h"

namespace depthd::diffusion {

struct DdimConfig {
  int num_train_timesteps = 1000;
  double beta_start = 0.0001, beta_end = 0.02;
  std::string beta_schedule = "linear";  // linear | scaled_linear | squaredcos_cap_v2
  std::string prediction_type = "epsilon";  // epsilon | v_prediction | sample
  std::string timestep_spacing = "leading";  // leading | trailing | linspace
  int steps_offset = 0;
  bool set_alpha_to_one = true;
  bool clip_sample = true;
  double clip_sample_range = 1.0;
  bool rescale_betas_zero_snr = false;
};

absl::StatusOr<DdimConfig> ParseDdimConfig(const ConfigFile& config);

class DdimScheduler {
 public:
  explicit DdimScheduler(const DdimConfig& config);

  // The descending timesteps for `steps` inference steps (diffusers' set_timesteps);
  // INVALID_ARGUMENT when steps is out of [1, num_train_timesteps].
  absl::StatusOr<std::vector<int>> Timesteps(int steps) const;

  // One DDIM step from `timestep` with `steps` inference steps in all: the previous sample.
  torch::Tensor Step(const torch::Tensor& model_output, int timestep, const torch::Tensor& sample,
                     int steps) const;

  // sqrt(a_t) * x + sqrt(1 - a_t) * noise.
  torch::Tensor AddNoise(const torch::Tensor& original, const torch::Tensor& noise,
                         int timestep) const;

  double AlphaCumprod(int timestep) const { return alphas_cumprod_[timestep]; }
  const DdimConfig& config() const { return config_; }

 private:
  DdimConfig config_;
  std::vector<double> alphas_cumprod_;
  double final_alpha_cumprod_;
};

}  // namespace depthd::diffusion

#endif  // DEPTHD_CORE_DIFFUSION_DDIM_H_
