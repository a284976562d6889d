// Test inputs for co-alignment: a known depth video, and snippet predictions made from it with a
// random scale and shift per snippet plus noise (what an affine-invariant network returns).
#ifndef DEPTHD_TESTS_TESTING_SYNTHETIC_SNIPPETS_H_
#define DEPTHD_TESTS_TESTING_SYNTHETIC_SNIPPETS_H_

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include <opencv2/core.hpp>

#include "core/snippet_depths.h"
#include "core/snippet_plan.h"

namespace depthd::testing {

// A moving scene in [0.1, 1]: a tilted ground plane, a wall, and a sphere-like blob that moves.
inline std::vector<cv::Mat> MakeDepthVideo(int frames, int height, int width) {
  std::vector<cv::Mat> video;
  for (int f = 0; f < frames; ++f) {
    cv::Mat depth(height, width, CV_32FC1);
    const double phase = 0.05 * f;
    const double cx = width * (0.3 + 0.4 * (0.5 + 0.5 * std::sin(phase)));
    const double cy = height * 0.55;
    const double radius = 0.18 * height;
    for (int y = 0; y < height; ++y) {
      for (int x = 0; x < width; ++x) {
        const double v = static_cast<double>(y) / height;
        double d = 0.25 + 0.7 * (1.0 - v) * (0.8 + 0.2 * std::cos(0.02 * x + phase));
        if (x < width / 5) d = std::min(d, 0.35 + 0.1 * v);
        const double r2 = (x - cx) * (x - cx) + (y - cy) * (y - cy);
        if (r2 < radius * radius) d = std::min(d, 0.2 + 0.1 * std::sqrt(r2) / radius);
        depth.at<float>(y, x) = static_cast<float>(d);
      }
    }
    video.push_back(depth);
  }
  return video;
}

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
  for (size_t g = 0; g < plan.groups.size(); ++g) {
    const SnippetGroup& group = plan.groups[g];
    for (size_t i = 0; i < group.snippets.size(); ++i) {
      const double s = std::exp(distortion.log_scale_sigma * normal(rng));
      const double t = distortion.shift_sigma * normal(rng);
      for (int j = 0; j < group.snippet_length; ++j) {
        const cv::Mat& truth = video[group.snippets[i][j]];
        float* dst = depths.Slot(g, i, j);
        const float* src = truth.ptr<float>();
        for (int64_t p = 0; p < depths.pixels(); ++p) {
          dst[p] = static_cast<float>(s * src[p] + t + distortion.noise_sigma * normal(rng));
        }
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

}  // namespace depthd::testing

#endif  // DEPTHD_TESTS_TESTING_SYNTHETIC_SNIPPETS_H_
