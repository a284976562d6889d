// The reference co-alignment, as prs-eth/RollingDepth's DepthAligner runs it: dense
// [rows x frames x pixels] tensors rebuilt every step, Adam (lr 1e-3, betas 0.5/0.9).
// `early_stop` adds the seed report's stopping rule. Kept faithful on purpose: it is the
// baseline the fast solver is measured against.
#include <cmath>
#include <exception>

#include <torch/optim/adam.h>
#include <torch/torch.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/coalign_internal.h"

namespace depthd::coalign_internal {

absl::StatusOr<CoalignResult> SolveReference(const SampledSnippets& sampled,
                                             const CoalignOptions& options, bool early_stop) {
  try {
    torch::NoGradGuard outer_no_grad;  // build the constant tensors without a graph
    const int64_t N = sampled.num_frames;
    const int64_t P = sampled.pixels;
    const int num_groups = static_cast<int>(sampled.group_sizes.size());
    const auto float_opts = torch::TensorOptions().dtype(torch::kFloat32);

    // Per group: X [S, w, P], row and column indices into M for each (snippet, position).
    std::vector<torch::Tensor> x_groups, row_index, col_index;
    int64_t row0 = 0;
    for (int g = 0; g < num_groups; ++g) {
      const int first = sampled.group_first[g];
      const int64_t S = sampled.group_sizes[g];
      const int64_t w = static_cast<int64_t>(sampled.snippet_slots[first].size());
      torch::Tensor x = torch::empty({S, w, P}, float_opts);
      torch::Tensor rows = torch::empty({S, w}, torch::kLong);
      torch::Tensor cols = torch::empty({S, w}, torch::kLong);
      auto rows_a = rows.accessor<int64_t, 2>();
      auto cols_a = cols.accessor<int64_t, 2>();
      float* xd = x.data_ptr<float>();
      for (int64_t i = 0; i < S; ++i) {
        for (int64_t j = 0; j < w; ++j) {
          const int64_t slot = sampled.snippet_slots[first + i][j];
          std::copy_n(sampled.values.data() + slot * P, P, xd + (i * w + j) * P);
          rows_a[i][j] = row0 + j;
          cols_a[i][j] = sampled.slot_frame[slot];
        }
      }
      x_groups.push_back(x);
      row_index.push_back(rows);
      col_index.push_back(cols);
      row0 += w;
    }
    const int64_t R = row0;
    torch::Tensor B = torch::zeros({R, N, 1}, float_opts);
    for (int g = 0; g < num_groups; ++g) {
      B.index_put_({row_index[g], col_index[g]}, torch::ones({1}, float_opts));
    }
    const torch::Tensor count = B.sum(0);  // [N, 1]

    std::vector<torch::Tensor> scales, shifts, params;
    for (int g = 0; g < num_groups; ++g) {
      scales.push_back(torch::ones({sampled.group_sizes[g], 1, 1}, float_opts).requires_grad_());
      shifts.push_back(torch::zeros({sampled.group_sizes[g], 1, 1}, float_opts).requires_grad_());
    }
    params.insert(params.end(), scales.begin(), scales.end());
    params.insert(params.end(), shifts.begin(), shifts.end());
    torch::optim::Adam optimizer(
        params, torch::optim::AdamOptions(options.learning_rate).betas({0.5, 0.9}));

    CoalignResult result;
    double previous_loss = std::nan("");
    int calm_steps = 0;
    int iteration = 0;
    for (; iteration < options.max_iterations; ++iteration) {
      if (options.cancelled && options.cancelled()) {
        return absl::CancelledError("co-alignment cancelled");
      }
      if (options.progress && iteration % 10 == 0) {
        options.progress(iteration, options.max_iterations);
      }
      torch::AutoGradMode grad_on(true);
      optimizer.zero_grad();
      torch::Tensor M = torch::zeros({R, N, P}, float_opts);
      torch::Tensor M_inv = torch::zeros({R, N, P}, float_opts);
      for (int g = 0; g < num_groups; ++g) {
        torch::Tensor a = x_groups[g] * scales[g] + shifts[g];
        M = M.index_put({row_index[g], col_index[g]}, a);
        M_inv = M_inv.index_put({row_index[g], col_index[g]}, a.clamp_min(1e-3).reciprocal());
      }
      torch::Tensor target, target_inv, scale, scale_inv;
      {
        torch::NoGradGuard no_grad;
        target = M.sum(0) / count;
        target_inv = M_inv.sum(0) / count;
        scale = target.abs().mean(-1, /*keepdim=*/true);
        scale_inv = target_inv.abs().mean(-1, /*keepdim=*/true);
      }
      torch::Tensor loss = ((M - target).abs() * B / scale).mean() +
                           ((M_inv - target_inv).abs() * B / scale_inv).mean();
      for (int g = 0; g < num_groups; ++g) {
        loss = loss + 0.1 * torch::relu(1.0 - scales[g]).pow(2).mean() +
               10.0 * shifts[g].pow(2).mean();
      }
      loss.backward();
      optimizer.step();

      const double value = loss.item<double>();
      if (early_stop && !std::isnan(previous_loss) &&
          std::fabs(value - previous_loss) < options.tolerance) {
        if (++calm_steps >= options.patience) {
          result.converged = true;
          ++iteration;
          break;
        }
      } else {
        calm_steps = 0;
      }
      previous_loss = value;
    }

    std::vector<double> s, t;
    for (int g = 0; g < num_groups; ++g) {
      const torch::Tensor sg = scales[g].detach().reshape({-1}).to(torch::kFloat64).contiguous();
      const torch::Tensor tg = shifts[g].detach().reshape({-1}).to(torch::kFloat64).contiguous();
      s.insert(s.end(), sg.data_ptr<double>(), sg.data_ptr<double>() + sg.numel());
      t.insert(t.end(), tg.data_ptr<double>(), tg.data_ptr<double>() + tg.numel());
    }
    const bool converged = result.converged;
    result = ToResult(sampled, s, t);
    result.iterations = iteration;
    result.converged = converged;
    result.final_loss = Objective(sampled, s, t);
    result.solver = early_stop ? CoalignSolver::kEarlyStop : CoalignSolver::kReference;
    return result;
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("reference co-alignment failed: ", e.what()));
  }
}

}  // namespace depthd::coalign_internal
