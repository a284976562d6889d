// Snippet predictions made from a known depth video: every snippet gets a random scale and
// shift plus noise, which is what an affine-invariant snippet network returns. Shared by the
// co-alignment tests and bench/coalign. Header-only so core tests need no extra library.
#ifndef DEPTHD_TOOLS_SYNTH_DISTORTED_SNIPPETS_H_
#define DEPTHD_TOOLS_SYNTH_DISTORTED_SNIPPETS_H_

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include <opencv2/core.hpp>

#include "core/snippet_depths.h"
#include "core/snippet_plan.h"

namespace depthd::synth {

struct Distortion {
  double log_scale_sigma = 0.1;
  double shift_sigma = 0.05;
  double noise_sigma = 0.005;
  uint64_t seed = 7;
};

// Snippet predictions: s_i * depth + t_i + noise, s_i log-normal, t_i normal.
inline SnippetDepths DistortedSnippets(const std::vector<cv::Mat>& video, const SnippetPlan& plan,
                                       const Distortion& distortion) {
  const int height = video.front().rows, width = video.front().cols;
  SnippetDepths depths(plan, height, width);
  std::mt19937_64 rng(distortion.seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<float> prediction(depths.pixels());
  for (size_t g = 0; g < plan.groups.size(); ++g) {
    const SnippetGroup& group = plan.groups[g];
    for (size_t i = 0; i < group.snippets.size(); ++i) {
      const double s = std::exp(distortion.log_scale_sigma * normal(rng));
      const double t = distortion.shift_sigma * normal(rng);
      for (int j = 0; j < group.snippet_length; ++j) {
        const float* src = video[group.snippets[i][j]].ptr<float>();
        for (int64_t p = 0; p < depths.pixels(); ++p) {
          prediction[p] = static_cast<float>(s * src[p] + t + distortion.noise_sigma * normal(rng));
        }
        // Through Write, as the pipeline stores a model's output.
        depths.Write(g, i, j, prediction.data(), width);
      }
    }
  }
  return depths;
}

// Mean absolute error on [0, 1] after one global least-squares scale and shift.
inline double AlignedMae(const std::vector<cv::Mat>& pred, const std::vector<cv::Mat>& truth) {
  double sxx = 0, sx = 0, sxy = 0, sy = 0, n = 0;
  for (size_t f = 0; f < pred.size(); ++f) {
    const float* p = pred[f].ptr<float>();
    const float* g = truth[f].ptr<float>();
    for (int64_t k = 0; k < static_cast<int64_t>(pred[f].total()); ++k) {
      sxx += p[k] * p[k]; sx += p[k]; sxy += p[k] * g[k]; sy += g[k]; n += 1;
    }
  }
  const double det = n * sxx - sx * sx;
  const double a = det != 0 ? (n * sxy - sx * sy) / det : 1.0;
  const double b = (sy - a * sx) / n;
  double err = 0;
  for (size_t f = 0; f < pred.size(); ++f) {
    const float* p = pred[f].ptr<float>();
    const float* g = truth[f].ptr<float>();
    for (int64_t k = 0; k < static_cast<int64_t>(pred[f].total()); ++k) {
      err += std::fabs(a * p[k] + b - g[k]);
    }
  }
  return err / n;
}

}  // namespace depthd::synth

#endif  // DEPTHD_TOOLS_SYNTH_DISTORTED_SNIPPETS_H_
