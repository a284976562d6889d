// The fast co-alignment solver. It minimises the reference objective, not a proxy: each sweep
// refreshes the per-frame targets (m_f, md_f, c_f, cd_f) from the current scales and shifts,
// then moves every snippet's (s, t) by one damped 2x2 Gauss-Newton step on its own terms, with
// the L1 terms majorised by reweighted least squares (IRLS). The stationary points are the
// reference's (same gradient at fixed targets), but each sweep is a scatter/gather pass over the
// sampled pixels instead of Adam's small steps on dense [rows x frames x pixels] tensors.
#include <algorithm>
#include <cmath>
#include <vector>

#include <ATen/Parallel.h>

#include "absl/status/status.h"
#include "core/coalign_internal.h"

namespace depthd::coalign_internal {
namespace {

constexpr float kInverseClip = 1e-3f;  // the reference's clip before 1/A
constexpr double kIrlsFloor = 1e-4;    // residual floor, relative to the frame's scale

struct SnippetTerms {
  double h_ss = 0, h_st = 0, h_tt = 0, g_s = 0, g_t = 0;
};

// This snippet's share of the objective at (s, t) against fixed targets.
double SnippetEnergy(const SampledSnippets& sampled, const FrameTargets& targets, int snippet,
                     double s, double t, double inv_z, double reg_scale, double reg_shift) {
  const int64_t P = sampled.pixels;
  double energy = 0.0;
  for (int64_t slot : sampled.snippet_slots[snippet]) {
    const int f = sampled.slot_frame[slot];
    const float* x = sampled.values.data() + slot * P;
    const float* m = targets.mean.data() + f * P;
    const float* md = targets.inverse_mean.data() + f * P;
    const float sf = static_cast<float>(s), tf = static_cast<float>(t);
    double depth_sum = 0.0, inverse_sum = 0.0;
    for (int64_t p = 0; p < P; ++p) {
      const float a = sf * x[p] + tf;
      depth_sum += std::fabs(a - m[p]);
      inverse_sum += std::fabs(1.0f / std::max(a, kInverseClip) - md[p]);
    }
    energy += (depth_sum / targets.scale[f] + inverse_sum / targets.inverse_scale[f]) * inv_z;
  }
  const double below = std::max(0.0, 1.0 - s);
  return energy + reg_scale * below * below + reg_shift * t * t;
}

SnippetTerms GaussNewtonTerms(const SampledSnippets& sampled, const FrameTargets& targets,
                              int snippet, double s, double t, double inv_z) {
  const int64_t P = sampled.pixels;
  SnippetTerms terms;
  const float sf = static_cast<float>(s), tf = static_cast<float>(t);
  for (int64_t slot : sampled.snippet_slots[snippet]) {
    const int f = sampled.slot_frame[slot];
    const float* x = sampled.values.data() + slot * P;
    const float* m = targets.mean.data() + f * P;
    const float* md = targets.inverse_mean.data() + f * P;
    const float c = static_cast<float>(targets.scale[f]);
    const float cd = static_cast<float>(targets.inverse_scale[f]);
    const float floor_d = static_cast<float>(kIrlsFloor) * c;
    const float floor_i = static_cast<float>(kIrlsFloor) * cd;
    // Float accumulators per slot keep the inner loop vectorisable; slots are ~10^3 pixels.
    float hss = 0, hst = 0, htt = 0, gs = 0, gt = 0;
    for (int64_t p = 0; p < P; ++p) {
      const float xv = x[p];
      const float a = sf * xv + tf;
      // Depth term |a - m| / c: IRLS weight 1 / (c |r|), Jacobian (x, 1).
      const float r = a - m[p];
      const float w = 1.0f / (c * std::max(std::fabs(r), floor_d));
      hss += w * xv * xv;
      hst += w * xv;
      htt += w;
      gs += w * r * xv;
      gt += w * r;
      // Inverse term |1/max(a, clip) - md| / cd: Jacobian -(x, 1) / a^2 above the clip.
      if (a > kInverseClip) {
        const float inv = 1.0f / a;
        const float q = inv - md[p];
        const float wi = 1.0f / (cd * std::max(std::fabs(q), floor_i));
        const float j = inv * inv;  // -d(1/a)/dt
        const float wj2 = wi * j * j;
        hss += wj2 * xv * xv;
        hst += wj2 * xv;
        htt += wj2;
        gs -= wi * q * j * xv;
        gt -= wi * q * j;
      }
    }
    terms.h_ss += hss;
    terms.h_st += hst;
    terms.h_tt += htt;
    terms.g_s += gs;
    terms.g_t += gt;
  }
  terms.h_ss *= inv_z;
  terms.h_st *= inv_z;
  terms.h_tt *= inv_z;
  terms.g_s *= inv_z;
  terms.g_t *= inv_z;
  return terms;
}

}  // namespace

absl::StatusOr<CoalignResult> SolveFast(const SampledSnippets& sampled,
                                        const CoalignOptions& options) {
  const int num_snippets = static_cast<int>(sampled.snippet_slots.size());
  std::vector<double> s(num_snippets, 1.0), t(num_snippets, 0.0);
  const double inv_z = 1.0 / sampled.Normaliser();

  // Soft constraints per snippet: 0.1 mean relu(1 - s)^2 + 10 mean t^2 within its group.
  std::vector<double> reg_scale(num_snippets), reg_shift(num_snippets);
  for (int k = 0; k < num_snippets; ++k) {
    const double n = sampled.group_sizes[sampled.snippet_group[k]];
    reg_scale[k] = 0.1 / n;
    reg_shift[k] = 10.0 / n;
  }

  // Shifts are compared in units of the typical depth value, scales as they are.
  double depth_unit = 0.0;
  for (float v : sampled.values) depth_unit += v;
  depth_unit = std::max(depth_unit / std::max<size_t>(sampled.values.size(), 1), 1e-12);

  FrameTargets targets;
  CoalignResult result;
  int sweep = 0;
  bool converged = false;
  for (; sweep < options.max_iterations; ++sweep) {
    if (options.cancelled && options.cancelled()) {
      return absl::CancelledError("co-alignment cancelled");
    }
    if (options.progress) options.progress(sweep, options.max_iterations);
    ComputeTargets(sampled, s, t, &targets);
    std::vector<double> change(num_snippets, 0.0);
    at::parallel_for(0, num_snippets, 16, [&](int64_t begin, int64_t end) {
      for (int64_t k = begin; k < end; ++k) {
        const SnippetTerms terms = GaussNewtonTerms(sampled, targets, k, s[k], t[k], inv_z);
        double h_ss = terms.h_ss, h_st = terms.h_st, h_tt = terms.h_tt;
        double g_s = terms.g_s, g_t = terms.g_t;
        if (s[k] < 1.0) {
          h_ss += 2.0 * reg_scale[k];
          g_s -= 2.0 * reg_scale[k] * (1.0 - s[k]);
        }
        h_tt += 2.0 * reg_shift[k];
        g_t += 2.0 * reg_shift[k] * t[k];
        // Levenberg damping keeps the 2x2 system well posed for flat snippets.
        h_ss *= 1.0 + 1e-9;
        h_tt *= 1.0 + 1e-9;
        h_ss += 1e-15;
        h_tt += 1e-15;
        const double det = h_ss * h_tt - h_st * h_st;
        if (!(det > 0.0) || !std::isfinite(det)) continue;
        double ds = -(h_tt * g_s - h_st * g_t) / det;
        double dt = -(h_ss * g_t - h_st * g_s) / det;
        // Backtrack until this snippet's energy against the fixed targets does not rise.
        const double e0 = SnippetEnergy(sampled, targets, k, s[k], t[k], inv_z, reg_scale[k],
                                        reg_shift[k]);
        for (int tries = 0; tries < 6; ++tries) {
          const double e1 = SnippetEnergy(sampled, targets, k, s[k] + ds, t[k] + dt, inv_z,
                                          reg_scale[k], reg_shift[k]);
          if (e1 <= e0) break;
          ds *= 0.5;
          dt *= 0.5;
          if (tries == 5) ds = dt = 0.0;
        }
        s[k] += ds;
        t[k] += dt;
        change[k] = std::fabs(ds) + std::fabs(dt) / depth_unit;
      }
    });
    const double max_change = *std::max_element(change.begin(), change.end());
    if (max_change < options.tolerance) {
      converged = true;
      ++sweep;
      break;
    }
  }

  result = ToResult(sampled, s, t);
  result.iterations = sweep;
  result.converged = converged;
  result.final_loss = Objective(sampled, s, t);
  result.solver = CoalignSolver::kFast;
  return result;
}

}  // namespace depthd::coalign_internal
