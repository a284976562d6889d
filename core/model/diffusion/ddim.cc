#include "core/model/diffusion/ddim.h"

#include <algorithm>
#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"

namespace depthd::diffusion {

absl::StatusOr<DdimConfig> ParseDdimConfig(const ConfigFile& file) {
  DdimConfig c;
  DEPTHD_ASSIGN_OR_RETURN(c.num_train_timesteps, file.Int("num_train_timesteps", 1000));
  DEPTHD_ASSIGN_OR_RETURN(c.beta_start, file.Double("beta_start", 0.0001));
  DEPTHD_ASSIGN_OR_RETURN(c.beta_end, file.Double("beta_end", 0.02));
  DEPTHD_ASSIGN_OR_RETURN(c.beta_schedule, file.String("beta_schedule", "linear"));
  DEPTHD_ASSIGN_OR_RETURN(c.prediction_type, file.String("prediction_type", "epsilon"));
  DEPTHD_ASSIGN_OR_RETURN(c.timestep_spacing, file.String("timestep_spacing", "leading"));
  DEPTHD_ASSIGN_OR_RETURN(c.steps_offset, file.Int("steps_offset", 0));
  DEPTHD_ASSIGN_OR_RETURN(c.set_alpha_to_one, file.Bool("set_alpha_to_one", true));
  DEPTHD_ASSIGN_OR_RETURN(c.clip_sample, file.Bool("clip_sample", true));
  DEPTHD_ASSIGN_OR_RETURN(c.clip_sample_range, file.Double("clip_sample_range", 1.0));
  DEPTHD_ASSIGN_OR_RETURN(c.rescale_betas_zero_snr, file.Bool("rescale_betas_zero_snr", false));
  DEPTHD_RETURN_IF_ERROR(RequireOneOf(file, "beta_schedule", c.beta_schedule,
                                      {"linear", "scaled_linear", "squaredcos_cap_v2"}));
  DEPTHD_RETURN_IF_ERROR(RequireOneOf(file, "prediction_type", c.prediction_type,
                                      {"epsilon", "v_prediction", "sample"}));
  DEPTHD_RETURN_IF_ERROR(RequireOneOf(file, "timestep_spacing", c.timestep_spacing,
                                      {"leading", "trailing", "linspace"}));
  DEPTHD_ASSIGN_OR_RETURN(bool thresholding, file.Bool("thresholding", false));
  if (thresholding) {
    return absl::InvalidArgumentError(
        absl::StrCat(file.path(), ": thresholding true is not supported"));
  }
  if (file.Has("trained_betas")) {
    return absl::InvalidArgumentError(
        absl::StrCat(file.path(), ": trained_betas is not supported (expected null)"));
  }
  if (c.num_train_timesteps < 1 || c.num_train_timesteps > 100000) {
    return absl::InvalidArgumentError(
        absl::StrCat(file.path(), ": num_train_timesteps must be in [1, 100000]"));
  }
  return c;
}

DdimScheduler::DdimScheduler(const DdimConfig& c) : config_(c) {
  const int n = c.num_train_timesteps;
  std::vector<double> betas(n);
  for (int i = 0; i < n; ++i) {
    const double f = n == 1 ? 0.0 : static_cast<double>(i) / (n - 1);
    if (c.beta_schedule == "scaled_linear") {
      const double s = std::sqrt(c.beta_start) + f * (std::sqrt(c.beta_end) - std::sqrt(c.beta_start));
      betas[i] = s * s;
    } else if (c.beta_schedule == "squaredcos_cap_v2") {
      auto alpha_bar = [](double t) {
        return std::pow(std::cos((t + 0.008) / 1.008 * M_PI / 2), 2);
      };
      betas[i] = std::min(1.0 - alpha_bar(static_cast<double>(i + 1) / n) / alpha_bar(static_cast<double>(i) / n), 0.999);
    } else {
      betas[i] = c.beta_start + f * (c.beta_end - c.beta_start);
    }
  }
  alphas_cumprod_.resize(n);
  double product = 1.0;
  for (int i = 0; i < n; ++i) alphas_cumprod_[i] = product *= 1.0 - betas[i];
  if (c.rescale_betas_zero_snr) {
    // Shift sqrt(alpha_bar) so the last timestep has zero SNR, keeping the first one.
    const double first = std::sqrt(alphas_cumprod_.front()), last = std::sqrt(alphas_cumprod_.back());
    for (double& a : alphas_cumprod_) {
      const double s = (std::sqrt(a) - last) * first / (first - last);
      a = s * s;
    }
  }
  final_alpha_cumprod_ = c.set_alpha_to_one ? 1.0 : alphas_cumprod_.front();
}

absl::StatusOr<std::vector<int>> DdimScheduler::Timesteps(int steps) const {
  const int n = config_.num_train_timesteps;
  if (steps < 1 || steps > n) {
    return absl::InvalidArgumentError(
        absl::StrCat(steps, " scheduler steps requested; the scheduler allows 1 to ", n));
  }
  std::vector<int> t(steps);
  if (config_.timestep_spacing == "linspace") {
    for (int i = 0; i < steps; ++i) {
      t[i] = static_cast<int>(std::nearbyint(steps == 1 ? 0.0 : static_cast<double>(i) * (n - 1) / (steps - 1)));
    }
    std::reverse(t.begin(), t.end());
  } else if (config_.timestep_spacing == "leading") {
    const int ratio = n / steps;
    for (int i = 0; i < steps; ++i) t[i] = (steps - 1 - i) * ratio + config_.steps_offset;
  } else {  // trailing: round(arange(n, 0, -n/steps)) - 1
    const double ratio = static_cast<double>(n) / steps;
    for (int i = 0; i < steps; ++i) t[i] = static_cast<int>(std::nearbyint(n - i * ratio)) - 1;
  }
  for (int& v : t) v = std::clamp(v, 0, n - 1);
  return t;
}

torch::Tensor DdimScheduler::Step(const torch::Tensor& model_output, int timestep,
                                  const torch::Tensor& sample, int steps) const {
  const int prev = timestep - config_.num_train_timesteps / steps;
  const double alpha = alphas_cumprod_[timestep];
  const double alpha_prev = prev >= 0 ? alphas_cumprod_[prev] : final_alpha_cumprod_;
  const double beta = 1.0 - alpha;
  torch::Tensor x0, eps;
  const auto type = sample.scalar_type();
  torch::Tensor x = sample.to(torch::kFloat32), out = model_output.to(torch::kFloat32);
  if (config_.prediction_type == "epsilon") {
    x0 = (x - std::sqrt(beta) * out) / std::sqrt(alpha);
    eps = out;
  } else if (config_.prediction_type == "sample") {
    x0 = out;
    eps = (x - std::sqrt(alpha) * x0) / std::sqrt(beta);
  } else {  // v_prediction
    x0 = std::sqrt(alpha) * x - std::sqrt(beta) * out;
    eps = std::sqrt(alpha) * out + std::sqrt(beta) * x;
  }
  if (config_.clip_sample) {
    x0 = x0.clamp(-config_.clip_sample_range, config_.clip_sample_range);
  }
  return (std::sqrt(alpha_prev) * x0 + std::sqrt(1.0 - alpha_prev) * eps).to(type);
}

torch::Tensor DdimScheduler::AddNoise(const torch::Tensor& original, const torch::Tensor& noise,
                                      int timestep) const {
  const double a = alphas_cumprod_[timestep];
  return std::sqrt(a) * original + std::sqrt(1.0 - a) * noise;
}

}  // namespace depthd::diffusion
