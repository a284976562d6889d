// The fast co-alignment solver: Levenberg-Marquardt on the reference objective itself.
//
// The reference loss depends on every snippet's (s, t) through A = s x + t and through the
// per-frame means m_f and md_f, which are linear in A. Each outer iteration builds the exact
// sparse normal equations of an IRLS model of the loss (|r| ~ r^2 / 2|r0|, the inverse term
// linearised), with the per-frame means differentiated rather than detached. Snippets couple
// only with snippets that share a frame, so the 2S x 2S system is sparse; it is solved by
// block-preconditioned conjugate gradients. Steps are accepted only when the true objective
// falls, so the solver ends at a point no worse than where it started and, unlike Adam's small
// steps, converges in a few dozen iterations.
//
// The reference objective has no finite minimiser: its data terms are divided by per-frame
// means, so they do not change when every snippet's (s, t) is multiplied by one factor, while
// the shift penalty is absolute. Its infimum lies towards all scales growing together with the
// shifts fading, i.e. at scale-only alignment. Accepted steps are therefore extended
// geometrically along their direction, which walks that valley in a few iterations; scales are
// capped at kMaxScale. The merged depth is normalised, so the absolute scale never shows, and
// the last stage (SolveFast) stops once a step changes nothing but that.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <ATen/Parallel.h>

#include "absl/status/status.h"
#include "core/coalign_internal.h"
#include "core/status_macros.h"

namespace depthd::coalign_internal {
namespace {

constexpr float kInverseClip = 1e-3f;  // the reference's clip before 1/A
constexpr float kIrlsFloor = 1e-4f;    // residual floor, relative to the frame's scale

// 2x2 block between snippets i (rows) and l (columns): [ss, st, ts, tt].
struct Block {
  double v[4] = {0, 0, 0, 0};
};

// Block-sparse symmetric matrix: for every snippet the snippets it shares a frame with.
struct SparseSystem {
  std::vector<std::vector<int>> neighbours;   // sorted, includes the snippet itself
  std::vector<std::vector<Block>> blocks;     // parallel to neighbours
  std::vector<int> diagonal;                  // index of the snippet itself in its row

  int Find(int row, int column) const {
    const auto& n = neighbours[row];
    return static_cast<int>(std::lower_bound(n.begin(), n.end(), column) - n.begin());
  }
  void Clear() {
    for (auto& row : blocks) std::fill(row.begin(), row.end(), Block{});
  }
  // y = H x, x and y of length 2S as (s0, t0, s1, t1, ...).
  void Multiply(const std::vector<double>& x, std::vector<double>* y) const {
    const int S = static_cast<int>(neighbours.size());
    at::parallel_for(0, S, 64, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        double ys = 0, yt = 0;
        for (size_t k = 0; k < neighbours[i].size(); ++k) {
          const int l = neighbours[i][k];
          const double* b = blocks[i][k].v;
          ys += b[0] * x[2 * l] + b[1] * x[2 * l + 1];
          yt += b[2] * x[2 * l] + b[3] * x[2 * l + 1];
        }
        (*y)[2 * i] = ys;
        (*y)[2 * i + 1] = yt;
      }
    });
  }
};

// Per frame: the block index of every (slot j, slot l) pair, to scatter frame-local sums.
struct FramePairs {
  std::vector<std::vector<int>> index;  // [frame][j * n + l]
};

SparseSystem BuildStructure(const SampledSnippets& sampled, FramePairs* pairs) {
  const int S = static_cast<int>(sampled.snippet_slots.size());
  SparseSystem system;
  system.neighbours.resize(S);
  for (const auto& slots : sampled.frame_slots) {
    for (int64_t a : slots) {
      for (int64_t b : slots) {
        system.neighbours[sampled.slot_snippet[a]].push_back(sampled.slot_snippet[b]);
      }
    }
  }
  system.blocks.resize(S);
  system.diagonal.resize(S);
  for (int i = 0; i < S; ++i) {
    auto& n = system.neighbours[i];
    n.push_back(i);
    std::sort(n.begin(), n.end());
    n.erase(std::unique(n.begin(), n.end()), n.end());
    system.blocks[i].resize(n.size());
    system.diagonal[i] = system.Find(i, i);
  }
  pairs->index.resize(sampled.num_frames);
  for (int f = 0; f < sampled.num_frames; ++f) {
    const auto& slots = sampled.frame_slots[f];
    const int n = static_cast<int>(slots.size());
    pairs->index[f].resize(n * n);
    for (int j = 0; j < n; ++j) {
      for (int l = 0; l < n; ++l) {
        pairs->index[f][j * n + l] =
            system.Find(sampled.slot_snippet[slots[j]], sampled.slot_snippet[slots[l]]);
      }
    }
  }
  return system;
}

// Frame-local sums for one data term of one frame: gradient per slot and 2x2 blocks per pair.
struct FrameSums {
  std::vector<double> grad;   // [n][2]
  std::vector<double> pairs;  // [n][n][4]
};

// Adds one L1 data term of a frame: residuals r_k = e_k - mean_j e_j with e_k the per-slot
// quantity (A or 1/A), weights w_k, and the derivatives of e_k along s (u_k) and t (v_k).
void AccumulateTerm(int n, int64_t P, const std::vector<const float*>& r,
                    const std::vector<const float*>& w, const std::vector<const float*>& u,
                    const std::vector<const float*>& v, std::vector<float>* scratch,
                    FrameSums* sums) {
  const float inv_n = 1.0f / n;
  std::vector<float>& W = *scratch;  // sum_k w_k, then sum_k w_k r_k
  W.assign(2 * P, 0.0f);
  float* w_sum = W.data();
  float* wr_sum = W.data() + P;
  for (int k = 0; k < n; ++k) {
    for (int64_t p = 0; p < P; ++p) {
      w_sum[p] += w[k][p];
      wr_sum[p] += w[k][p] * r[k][p];
    }
  }
  // Gradient of sum_k w_k r_k^2 / 2 through the means: gamma_j = w_j r_j - mean_k w_k r_k.
  for (int j = 0; j < n; ++j) {
    float gs = 0, gt = 0;
#pragma omp simd reduction(+ : gs, gt)
    for (int64_t p = 0; p < P; ++p) {
      const float gamma = w[j][p] * r[j][p] - wr_sum[p] * inv_n;
      gs += gamma * u[j][p];
      gt += gamma * v[j][p];
    }
    sums->grad[2 * j] += gs;
    sums->grad[2 * j + 1] += gt;
  }
  // Hessian: coef_jl = w_j [j == l] - (w_j + w_l) / n + W / n^2, times the outer product of
  // the (u, v) derivatives of slots j and l.
  const float inv_n2 = inv_n * inv_n;
  for (int j = 0; j < n; ++j) {
    for (int l = j; l < n; ++l) {
      float ss = 0, st = 0, ts = 0, tt = 0;
      const float* wj = w[j];
      const float* wl = w[l];
      const float* uj = u[j];
      const float* ul = u[l];
      const float* vj = v[j];
      const float* vl = v[l];
      const float diag = j == l ? 1.0f : 0.0f;
#pragma omp simd reduction(+ : ss, st, ts, tt)
      for (int64_t p = 0; p < P; ++p) {
        const float coef = diag * wj[p] - (wj[p] + wl[p]) * inv_n + w_sum[p] * inv_n2;
        ss += coef * uj[p] * ul[p];
        st += coef * uj[p] * vl[p];
        ts += coef * vj[p] * ul[p];
        tt += coef * vj[p] * vl[p];
      }
      double* b = &sums->pairs[(j * n + l) * 4];
      b[0] += ss; b[1] += st; b[2] += ts; b[3] += tt;
      if (l != j) {
        double* bt = &sums->pairs[(l * n + j) * 4];
        bt[0] += ss; bt[1] += ts; bt[2] += st; bt[3] += tt;
      }
    }
  }
}

// Each data term of a frame is divided by c = mean_p |mean|, which moves with (s, t) too:
// d(term)/d(theta) gains -term / c * dc/d(theta). Without it the gradient is not the
// objective's and steps stall short of the optimum.
void AddNormaliserGradient(int n, int64_t P, const float* mean,
                           const std::vector<const float*>& r, const std::vector<const float*>& u,
                           const std::vector<const float*>& v, float c, double inv_z,
                           std::vector<float>* scratch, FrameSums* sums) {
  float abs_sum = 0;
  std::vector<float>& sign = *scratch;
  sign.resize(P);
  for (int64_t p = 0; p < P; ++p) sign[p] = mean[p] > 0 ? 1.0f : (mean[p] < 0 ? -1.0f : 0.0f);
  for (int k = 0; k < n; ++k) {
    const float* rk = r[k];
#pragma omp simd reduction(+ : abs_sum)
    for (int64_t p = 0; p < P; ++p) abs_sum += std::fabs(rk[p]);
  }
  const double term = abs_sum * inv_z / c;
  const double factor = -term / c / (static_cast<double>(P) * n);  // dc = mean_p sign * d(mean)
  for (int k = 0; k < n; ++k) {
    float du = 0, dv = 0;
    const float* uk = u[k];
    const float* vk = v[k];
#pragma omp simd reduction(+ : du, dv)
    for (int64_t p = 0; p < P; ++p) {
      du += sign[p] * uk[p];
      dv += sign[p] * vk[p];
    }
    sums->grad[2 * k] += factor * du;
    sums->grad[2 * k + 1] += factor * dv;
  }
}

// Builds gradient and Hessian of the IRLS model of the objective at (s, t), whose targets
// are in `targets`.
void Assemble(const SampledSnippets& sampled, const FrameTargets& targets,
              const FramePairs& pairs, const std::vector<double>& s, const std::vector<double>& t,
              double inv_z, SparseSystem* system, std::vector<double>* gradient) {
  const int64_t P = sampled.pixels;
  const int F = sampled.num_frames;
  std::vector<FrameSums> frame_sums(F);
  at::parallel_for(0, F, 1, [&](int64_t begin, int64_t end) {
    // Reused across the frames of this chunk: fresh multi-megabyte buffers per frame cost a
    // page fault per page on long videos.
    std::vector<float> scratch, buffer;
    const std::vector<float> ones(P, 1.0f);
    for (int64_t f = begin; f < end; ++f) {
      const auto& slots = sampled.frame_slots[f];
      const int n = static_cast<int>(slots.size());
      FrameSums& sums = frame_sums[f];
      sums.grad.assign(2 * n, 0.0);
      sums.pairs.assign(n * n * 4, 0.0);
      const float c = static_cast<float>(targets.scale[f]);
      const float cd = static_cast<float>(targets.inverse_scale[f]);
      const float* m = targets.mean.data() + f * P;
      const float* md = targets.inverse_mean.data() + f * P;
      // Per slot: residuals, weights and derivatives of both terms.
      buffer.resize(std::max(buffer.size(), static_cast<size_t>(n) * P * 7));
      std::vector<const float*> r(n), w(n), x(n), one(n), ri(n), wi(n), ui(n), vi(n);
      for (int k = 0; k < n; ++k) {
        const int64_t slot = slots[k];
        const int snippet = sampled.slot_snippet[slot];
        const float sk = static_cast<float>(s[snippet]);
        const float tk = static_cast<float>(t[snippet]);
        const float* xk = sampled.values.data() + slot * P;
        float* rk = buffer.data() + (k * 7 + 0) * P;
        float* wk = buffer.data() + (k * 7 + 1) * P;
        float* rik = buffer.data() + (k * 7 + 2) * P;
        float* wik = buffer.data() + (k * 7 + 3) * P;
        float* uik = buffer.data() + (k * 7 + 4) * P;
        float* vik = buffer.data() + (k * 7 + 5) * P;
        const float wscale = static_cast<float>(inv_z);
        for (int64_t p = 0; p < P; ++p) {
          const float a = sk * xk[p] + tk;
          const float res = a - m[p];
          rk[p] = res;
          wk[p] = wscale / (c * std::max(std::fabs(res), kIrlsFloor * c));
          const bool live = a > kInverseClip;
          const float inv = 1.0f / std::max(a, kInverseClip);
          const float q = inv - md[p];
          rik[p] = q;
          wik[p] = wscale / (cd * std::max(std::fabs(q), kIrlsFloor * cd));
          const float rho = live ? -inv * inv : 0.0f;  // d(1/A)/dA
          uik[p] = rho * xk[p];
          vik[p] = rho;
        }
        r[k] = rk; w[k] = wk; x[k] = xk; one[k] = ones.data();
        ri[k] = rik; wi[k] = wik; ui[k] = uik; vi[k] = vik;
      }
      AccumulateTerm(n, P, r, w, x, one, &scratch, &sums);
      AccumulateTerm(n, P, ri, wi, ui, vi, &scratch, &sums);
      AddNormaliserGradient(n, P, m, r, x, one, c, inv_z, &scratch, &sums);
      AddNormaliserGradient(n, P, md, ri, ui, vi, cd, inv_z, &scratch, &sums);
    }
  });

  system->Clear();
  gradient->assign(2 * s.size(), 0.0);
  for (int f = 0; f < F; ++f) {
    const auto& slots = sampled.frame_slots[f];
    const int n = static_cast<int>(slots.size());
    const FrameSums& sums = frame_sums[f];
    for (int j = 0; j < n; ++j) {
      const int i = sampled.slot_snippet[slots[j]];
      (*gradient)[2 * i] += sums.grad[2 * j];
      (*gradient)[2 * i + 1] += sums.grad[2 * j + 1];
      for (int l = 0; l < n; ++l) {
        double* b = system->blocks[i][pairs.index[f][j * n + l]].v;
        const double* src = &sums.pairs[(j * n + l) * 4];
        for (int e = 0; e < 4; ++e) b[e] += src[e];
      }
    }
  }
}

// Fixed snippets get an identity row and column and no gradient, so every step leaves them
// where they are while their depth still shapes the free snippets' targets.
void HoldFixed(const SampledSnippets& sampled, SparseSystem* system, std::vector<double>* gradient) {
  const int S = static_cast<int>(system->neighbours.size());
  for (int i = 0; i < S; ++i) {
    const bool row_fixed = sampled.is_fixed(i);
    for (size_t k = 0; k < system->neighbours[i].size(); ++k) {
      const int l = system->neighbours[i][k];
      if (!row_fixed && !sampled.is_fixed(l)) continue;
      Block& b = system->blocks[i][k];
      b = Block{};
      if (l == i) b.v[0] = b.v[3] = 1.0;
    }
    if (row_fixed) (*gradient)[2 * i] = (*gradient)[2 * i + 1] = 0.0;
  }
}

// Scales grow without bound along the valleys described in Refine; keep them where float
// arithmetic on s * x + t stays exact to ~1e-7 relative and far from overflow.
constexpr double kMaxScale = 1e15;
bool Bounded(const std::vector<double>& s) {
  for (double v : s) {
    if (!(std::fabs(v) < kMaxScale)) return false;
  }
  return true;
}

// Solves (H + lambda diag(H)) x = -g by conjugate gradients with a 2x2 block-Jacobi
// preconditioner.
std::vector<double> SolveDamped(const SparseSystem& system, const std::vector<double>& gradient,
                                double lambda) {
  const int S = static_cast<int>(system.neighbours.size());
  const size_t n = gradient.size();
  std::vector<double> diag_ss(S), diag_tt(S);
  std::vector<double> pre(4 * S);
  for (int i = 0; i < S; ++i) {
    const double* b = system.blocks[i][system.diagonal[i]].v;
    diag_ss[i] = b[0] * lambda;
    diag_tt[i] = b[3] * lambda;
    const double a = b[0] + diag_ss[i], c = b[3] + diag_tt[i];
    const double off = 0.5 * (b[1] + b[2]);
    double det = a * c - off * off;
    if (!(det > 0)) det = std::max(a * c, 1e-300);
    pre[4 * i] = c / det;
    pre[4 * i + 1] = -off / det;
    pre[4 * i + 2] = -off / det;
    pre[4 * i + 3] = a / det;
  }
  auto apply = [&](const std::vector<double>& in, std::vector<double>* out) {
    system.Multiply(in, out);
    for (int i = 0; i < S; ++i) {
      (*out)[2 * i] += diag_ss[i] * in[2 * i];
      (*out)[2 * i + 1] += diag_tt[i] * in[2 * i + 1];
    }
  };
  auto precondition = [&](const std::vector<double>& in, std::vector<double>* out) {
    for (int i = 0; i < S; ++i) {
      (*out)[2 * i] = pre[4 * i] * in[2 * i] + pre[4 * i + 1] * in[2 * i + 1];
      (*out)[2 * i + 1] = pre[4 * i + 2] * in[2 * i] + pre[4 * i + 3] * in[2 * i + 1];
    }
  };
  std::vector<double> x(n, 0.0), r(n), z(n), p(n), q(n);
  for (size_t k = 0; k < n; ++k) r[k] = -gradient[k];
  precondition(r, &z);
  p = z;
  double rz = 0, norm_b = 0;
  for (size_t k = 0; k < n; ++k) {
    rz += r[k] * z[k];
    norm_b += r[k] * r[k];
  }
  const double stop = 1e-12 * norm_b;  // a relative residual of 1e-6: LM needs no more
  const int max_iterations = static_cast<int>(std::min<size_t>(4 * n + 10, 5000));
  for (int it = 0; it < max_iterations; ++it) {
    apply(p, &q);
    double pq = 0;
    for (size_t k = 0; k < n; ++k) pq += p[k] * q[k];
    if (!(pq > 0)) break;
    const double alpha = rz / pq;
    double norm_r = 0;
    for (size_t k = 0; k < n; ++k) {
      x[k] += alpha * p[k];
      r[k] -= alpha * q[k];
      norm_r += r[k] * r[k];
    }
    if (norm_r <= stop) break;
    precondition(r, &z);
    double rz_new = 0;
    for (size_t k = 0; k < n; ++k) rz_new += r[k] * z[k];
    const double beta = rz_new / rz;
    rz = rz_new;
    for (size_t k = 0; k < n; ++k) p[k] = z[k] + beta * p[k];
  }
  return x;
}

// How far a step moves the snippets' aligned depth (|ds| mean(x) + |dt| per snippet, the
// largest), relative to the video's typical aligned depth `depth_scale`. With `visible_only`
// the part of the step that maps every snippet by one affine map (A -> (1 + a) A + b) is taken
// out first: the merged depth is min-max normalised, so that part never shows in the output,
// and it is exactly the slow drift along the objective's flat valley (all scales growing
// together). `mean_value` is each snippet's mean prediction.
double StepSize(const std::vector<double>& step, const std::vector<double>& s,
                const std::vector<double>& t, const std::vector<double>& mean_value,
                double depth_scale, bool visible_only) {
  const int S = static_cast<int>(s.size());
  double a = 0.0, b = 0.0;
  if (visible_only) {
    // Least squares over the snippets: (ds, dt) ~ a (s, t) + (0, b), ds weighted by mean(x).
    double ss = 0.0, st = 0.0, ys = 0.0, yt = 0.0;
    for (int k = 0; k < S; ++k) {
      const double m2 = mean_value[k] * mean_value[k];
      ss += m2 * s[k] * s[k] + t[k] * t[k];
      st += t[k];
      ys += m2 * step[2 * k] * s[k] + step[2 * k + 1] * t[k];
      yt += step[2 * k + 1];
    }
    const double det = ss * S - st * st;
    if (det > 0.0) {
      a = (ys * S - st * yt) / det;
      b = (ss * yt - st * ys) / det;
    }
  }
  // The affine part scales the output by (1 + a); what remains is measured in its units.
  const double unit = depth_scale * std::max(1.0 + a, 1e-12);
  double largest = 0.0;
  for (int k = 0; k < S; ++k) {
    largest = std::max(largest, (std::fabs(step[2 * k] - a * s[k]) * mean_value[k] +
                                 std::fabs(step[2 * k + 1] - a * t[k] - b)) / unit);
  }
  return largest;
}

// Levenberg-Marquardt from (s, t) until the largest step falls below `tolerance` (measured by
// StepSize, with `visible_only` as given).
absl::Status Refine(const SampledSnippets& sampled, const CoalignOptions& options,
                    double tolerance, bool visible_only, int max_iterations,
                    std::vector<double>* s_io, std::vector<double>* t_io, int* iterations,
                    bool* converged_out) {
  const int S = static_cast<int>(sampled.snippet_slots.size());
  const double inv_z = 1.0 / sampled.Normaliser();
  FramePairs pairs;
  SparseSystem system = BuildStructure(sampled, &pairs);

  // Soft constraints per free snippet: 0.1 mean relu(1 - s)^2 + 10 mean t^2 within its group.
  std::vector<double> reg_scale(S, 0.0), reg_shift(S, 0.0);
  std::vector<int> free_in_group(sampled.group_sizes.size());
  for (size_t g = 0; g < free_in_group.size(); ++g) {
    free_in_group[g] = sampled.FreeInGroup(static_cast<int>(g));
  }
  for (int k = 0; k < S; ++k) {
    if (sampled.is_fixed(k)) continue;
    const double n = sampled.SoftCount(sampled.snippet_group[k]);
    reg_scale[k] = 0.1 / n;
    reg_shift[k] = 10.0 / n;
  }
  // A step's size is how far it moves the snippet's aligned depth (|ds| mean(x) + |dt|),
  // relative to the video's typical aligned depth: what the merged result would feel.
  std::vector<double> mean_value(S, 0.0);
  for (int k = 0; k < S; ++k) {
    double sum = 0.0;
    for (int64_t slot : sampled.snippet_slots[k]) {
      const float* x = sampled.values.data() + slot * sampled.pixels;
      for (int64_t p = 0; p < sampled.pixels; ++p) sum += x[p];
    }
    mean_value[k] = sum / (sampled.snippet_slots[k].size() * sampled.pixels);
  }

  std::vector<double>& s = *s_io;
  std::vector<double>& t = *t_io;
  std::vector<double> s_try(S), t_try(S), gradient;
  FrameTargets targets, targets_try;
  double objective = Objective(sampled, s, t, &targets);
  double lambda = 1e-3;
  int iteration = 0;
  bool converged = false;
  for (; iteration < max_iterations; ++iteration) {
    if (options.cancelled && options.cancelled()) {
      return absl::CancelledError("co-alignment cancelled");
    }
    if (options.progress) options.progress(*iterations + iteration, options.max_iterations);
    Assemble(sampled, targets, pairs, s, t, inv_z, &system, &gradient);
    for (int k = 0; k < S; ++k) {
      Block& d = system.blocks[k][system.diagonal[k]];
      if (s[k] < 1.0) {
        d.v[0] += 2.0 * reg_scale[k];
        gradient[2 * k] -= 2.0 * reg_scale[k] * (1.0 - s[k]);
      }
      d.v[3] += 2.0 * reg_shift[k];
      gradient[2 * k + 1] += 2.0 * reg_shift[k] * t[k];
    }
    if (!sampled.fixed.empty()) HoldFixed(sampled, &system, &gradient);
    double depth_scale = 0.0;
    for (double c : targets.scale) depth_scale += c;
    depth_scale = std::max(depth_scale / targets.scale.size(), 1e-12);
    bool accepted = false;
    double max_change = 0.0;
    for (int attempt = 0; attempt < 12 && !accepted; ++attempt) {
      const std::vector<double> step = SolveDamped(system, gradient, lambda);
      for (int k = 0; k < S; ++k) {
        s_try[k] = s[k] + step[2 * k];
        t_try[k] = t[k] + step[2 * k + 1];
      }
      max_change = StepSize(step, s, t, mean_value, depth_scale, visible_only);
      const double candidate = Objective(sampled, s_try, t_try, &targets_try);
      if (candidate <= objective && Bounded(s_try)) {
        accepted = true;
        objective = candidate;
        s.swap(s_try);
        t.swap(t_try);
        std::swap(targets, targets_try);
        lambda = std::max(lambda * 0.3, 1e-9);
        // The objective is invariant to one global scale of all snippets except for its soft
        // constraints and the 1e-3 clip, so it has long, nearly flat valleys (all scales
        // growing together while the shifts fade) that damped steps walk slowly. Extend an
        // accepted step geometrically while that keeps lowering the objective.
        for (double applied = 1.0; applied < 1024.0; applied *= 2.0) {
          for (int k = 0; k < S; ++k) {  // to start + 2 * applied * step
            s_try[k] = s[k] + applied * step[2 * k];
            t_try[k] = t[k] + applied * step[2 * k + 1];
          }
          const double further = Objective(sampled, s_try, t_try, &targets_try);
          if (!(further < objective) || !Bounded(s_try)) break;
          objective = further;
          s.swap(s_try);
          t.swap(t_try);
          std::swap(targets, targets_try);
        }
      } else {
        lambda *= 10.0;
        if (max_change < tolerance) break;  // even tiny steps do not help: at the optimum
      }
    }
    if (!accepted || max_change < tolerance) {
      converged = true;
      ++iteration;
      break;
    }
  }

  *iterations += iteration;
  *converged_out = converged;
  return absl::OkStatus();
}

// Every `stride`-th sampled pixel: a cheaper copy of the problem for warm starts.
SampledSnippets Thinned(const SampledSnippets& sampled, int stride) {
  SampledSnippets thin = sampled;
  const int64_t P = sampled.pixels;
  const int64_t kept = (P + stride - 1) / stride;
  thin.pixels = kept;
  thin.values.resize(static_cast<size_t>(sampled.num_slots * kept));
  for (int64_t k = 0; k < sampled.num_slots; ++k) {
    for (int64_t p = 0, q = 0; p < P; p += stride, ++q) {
      thin.values[k * kept + q] = sampled.values[k * P + p];
    }
  }
  return thin;
}

}  // namespace

absl::Status SolveFastFrom(const SampledSnippets& sampled, const CoalignOptions& options,
                           std::vector<double>* s, std::vector<double>* t, int* iterations,
                           bool* converged) {
  // Coarse to fine: the path is walked on thinned copies of the sampled pixels (a sixteenth,
  // then a quarter of the work per iteration), each converged to the full tolerance on every
  // step, including the drift along the flat valley, so the last stage starts next to its
  // optimum. The IRLS model of the L1 loss converges only linearly, so the full-sampling
  // iterations are what a loose warm start multiplies (17 instead of 3 at 1000 frames). The
  // last stage runs on the full sampling, so the result is the optimum of the reference
  // objective, not of a thinned one; it stops once a step no longer changes the normalised
  // output (the drift alone would keep it going for as many iterations again). With fixed
  // snippets there is no such drift (they hold the scale), so every step counts.
  const bool visible_only = sampled.fixed.empty() ||
                            std::find(sampled.fixed.begin(), sampled.fixed.end(), 1) == sampled.fixed.end();
  for (const int stride : {16, 4}) {
    if (sampled.pixels < 64 * stride) continue;
    const SampledSnippets thin = Thinned(sampled, stride);
    bool thin_converged = false;
    absl::Status status = Refine(thin, options, options.tolerance, /*visible_only=*/false,
                                 options.max_iterations, s, t, iterations, &thin_converged);
    if (!status.ok()) return status;
  }
  return Refine(sampled, options, options.tolerance, visible_only,
                std::max(1, options.max_iterations - *iterations), s, t, iterations, converged);
}

absl::StatusOr<CoalignResult> SolveFast(const SampledSnippets& sampled,
                                        const CoalignOptions& options) {
  const int S = static_cast<int>(sampled.snippet_slots.size());
  std::vector<double> s(S, 1.0), t(S, 0.0);
  int iterations = 0;
  bool converged = false;
  DEPTHD_RETURN_IF_ERROR(SolveFastFrom(sampled, options, &s, &t, &iterations, &converged));
  CoalignResult result = ToResult(sampled, s, t);
  result.iterations = iterations;
  result.converged = converged;
  result.final_loss = Objective(sampled, s, t);
  result.solver = CoalignSolver::kFast;
  return result;
}

}  // namespace depthd::coalign_internal
