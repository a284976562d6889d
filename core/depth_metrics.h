// Quality metrics: the RollingDepth paper's evaluation protocol (AbsRel, delta1 after one
// least-squares scale and shift per video) and the seed report's comparison (MAE, RMSE, P90,
// temporal-consistency ratio, error by gradient region).
#ifndef DEPTHD_CORE_DEPTH_METRICS_H_
#define DEPTHD_CORE_DEPTH_METRICS_H_

#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "absl/status/statusor.h"

namespace depthd {

struct AffineFit {
  double scale = 1.0;
  double shift = 0.0;
};

// Least squares over all frames and valid pixels (mask != 0; empty masks mean all valid):
// argmin_{s >= 0, t} sum (s * pred + t - target)^2. Frames are CV_32FC1 of equal size. A
// prediction that falls where the target rises gets scale 0 (the target's mean), not a flip.
absl::StatusOr<AffineFit> FitScaleShift(const std::vector<cv::Mat>& pred,
                                        const std::vector<cv::Mat>& target,
                                        const std::vector<cv::Mat>& masks = {});

struct DepthAccuracy {
  double abs_rel = 0.0;  // mean |p - g| / g over valid pixels
  double delta1 = 0.0;   // fraction with max(p / g, g / p) < 1.25
  double mae = 0.0;      // mean |p - g| after alignment
  AffineFit fit;
};

// Aligns pred to gt (valid where gt > 0 and finite) with one scale and shift for the whole
// video, then scores it. Aligned predictions are clamped to at least 1e-6 before the ratios.
absl::StatusOr<DepthAccuracy> EvaluateDepth(const std::vector<cv::Mat>& pred,
                                            const std::vector<cv::Mat>& gt);

// Mean absolute frame-to-frame change, averaged over consecutive frame pairs (valid pixels only
// when masks are given).
double MeanTemporalChange(const std::vector<cv::Mat>& frames,
                          const std::vector<cv::Mat>& masks = {});

struct DepthComparison {
  double mae = 0.0;
  double rmse = 0.0;
  double p90 = 0.0;                 // 90th percentile of |a - b|
  double temporal_ratio = 0.0;      // MeanTemporalChange(a) / MeanTemporalChange(b)
  double smooth_mae = 0.0;          // pixels of b with gradient magnitude < P25
  double mid_gradient_mae = 0.0;    // P25 .. P75
  double edge_mae = 0.0;            // > P90
  int frames = 0;
  std::string ToJson() const;
  std::string ToTable() const;
};

// Compares two depth videos [N][H x W] of equal shape (b is the baseline).
absl::StatusOr<DepthComparison> CompareDepth(const std::vector<cv::Mat>& a,
                                             const std::vector<cv::Mat>& b);

}  // namespace depthd

#endif  // DEPTHD_CORE_DEPTH_METRICS_H_
