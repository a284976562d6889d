#include "core/depth_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace depthd {
namespace {

absl::Status CheckPair(const std::vector<cv::Mat>& a, const std::vector<cv::Mat>& b) {
  if (a.empty()) return absl::InvalidArgumentError("no frames to compare");
  if (a.size() != b.size()) {
    return absl::InvalidArgumentError(absl::StrCat("frame counts differ: ", a.size(), " vs ", b.size()));
  }
  for (size_t f = 0; f < a.size(); ++f) {
    if (a[f].size() != b[f].size() || a[f].type() != CV_32FC1 || b[f].type() != CV_32FC1) {
      return absl::InvalidArgumentError(absl::StrCat("frame ", f, " differs in size or is not float32"));
    }
  }
  return absl::OkStatus();
}

bool Valid(const std::vector<cv::Mat>& masks, size_t f, int64_t p) {
  return masks.empty() || masks[f].ptr<uchar>()[p] != 0;
}

double Percentile(std::vector<float> values, double q) {
  if (values.empty()) return 0.0;
  const size_t k = std::min(values.size() - 1, static_cast<size_t>(q * (values.size() - 1)));
  std::nth_element(values.begin(), values.begin() + k, values.end());
  return values[k];
}

}  // namespace

absl::StatusOr<AffineFit> FitScaleShift(const std::vector<cv::Mat>& pred,
                                        const std::vector<cv::Mat>& target,
                                        const std::vector<cv::Mat>& masks) {
  if (absl::Status s = CheckPair(pred, target); !s.ok()) return s;
  double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (size_t f = 0; f < pred.size(); ++f) {
    const cv::Mat p = pred[f].isContinuous() ? pred[f] : pred[f].clone();
    const cv::Mat t = target[f].isContinuous() ? target[f] : target[f].clone();
    for (int64_t i = 0; i < static_cast<int64_t>(p.total()); ++i) {
      if (!Valid(masks, f, i)) continue;
      const double x = p.ptr<float>()[i], y = t.ptr<float>()[i];
      n += 1; sx += x; sy += y; sxx += x * x; sxy += x * y;
    }
  }
  const double det = n * sxx - sx * sx;
  if (n < 2 || !(std::fabs(det) > 1e-12 * std::max(1.0, n * sxx))) {
    return absl::InvalidArgumentError("cannot fit a scale and shift: too few valid pixels or a constant prediction");
  }
  // The scale is held at >= 0: a prediction that runs against the truth (disparity passed off as
  // depth, say) must score as badly as a constant, not be turned round by the fit. The objective
  // is convex in the scale once the shift is solved for, so the constrained best is the
  // unconstrained scale clamped at 0.
  AffineFit fit;
  fit.scale = std::max(0.0, (n * sxy - sx * sy) / det);
  fit.shift = (sy - fit.scale * sx) / n;
  return fit;
}

absl::StatusOr<DepthAccuracy> EvaluateDepth(const std::vector<cv::Mat>& pred,
                                            const std::vector<cv::Mat>& gt) {
  if (absl::Status s = CheckPair(pred, gt); !s.ok()) return s;
  std::vector<cv::Mat> masks;
  for (const cv::Mat& g : gt) {
    cv::Mat finite = (g == g) & (g < std::numeric_limits<float>::infinity());
    masks.push_back((g > 0) & finite);
  }
  auto fit = FitScaleShift(pred, gt, masks);
  if (!fit.ok()) return fit.status();
  DepthAccuracy accuracy;
  accuracy.fit = *fit;
  double n = 0, abs_rel = 0, delta = 0, mae = 0;
  for (size_t f = 0; f < pred.size(); ++f) {
    for (int64_t i = 0; i < static_cast<int64_t>(pred[f].total()); ++i) {
      if (!masks[f].ptr<uchar>()[i]) continue;
      const double g = gt[f].ptr<float>()[i];
      const double p = std::max(1e-6, fit->scale * pred[f].ptr<float>()[i] + fit->shift);
      abs_rel += std::fabs(p - g) / g;
      delta += std::max(p / g, g / p) < 1.25 ? 1.0 : 0.0;
      mae += std::fabs(p - g);
      n += 1;
    }
  }
  accuracy.abs_rel = abs_rel / n;
  accuracy.delta1 = delta / n;
  accuracy.mae = mae / n;
  return accuracy;
}

double MeanTemporalChange(const std::vector<cv::Mat>& frames, const std::vector<cv::Mat>& masks) {
  double sum = 0, n = 0;
  for (size_t f = 1; f < frames.size(); ++f) {
    for (int64_t i = 0; i < static_cast<int64_t>(frames[f].total()); ++i) {
      if (!masks.empty() && (!masks[f].ptr<uchar>()[i] || !masks[f - 1].ptr<uchar>()[i])) continue;
      sum += std::fabs(frames[f].ptr<float>()[i] - frames[f - 1].ptr<float>()[i]);
      n += 1;
    }
  }
  return n > 0 ? sum / n : 0.0;
}

absl::StatusOr<DepthComparison> CompareDepth(const std::vector<cv::Mat>& a,
                                             const std::vector<cv::Mat>& b) {
  if (absl::Status s = CheckPair(a, b); !s.ok()) return s;
  DepthComparison c;
  c.frames = static_cast<int>(a.size());
  std::vector<float> errors, gradients;
  double sum = 0, sum_sq = 0;
  for (size_t f = 0; f < a.size(); ++f) {
    cv::Mat gx, gy, magnitude;
    cv::Sobel(b[f], gx, CV_32F, 1, 0, 3);
    cv::Sobel(b[f], gy, CV_32F, 0, 1, 3);
    cv::magnitude(gx, gy, magnitude);
    const cv::Mat af = a[f].isContinuous() ? a[f] : a[f].clone();
    const cv::Mat bf = b[f].isContinuous() ? b[f] : b[f].clone();
    for (int64_t i = 0; i < static_cast<int64_t>(af.total()); ++i) {
      const float e = std::fabs(af.ptr<float>()[i] - bf.ptr<float>()[i]);
      errors.push_back(e);
      gradients.push_back(magnitude.ptr<float>()[i]);
      sum += e;
      sum_sq += static_cast<double>(e) * e;
    }
  }
  const double n = static_cast<double>(errors.size());
  c.mae = sum / n;
  c.rmse = std::sqrt(sum_sq / n);
  c.p90 = Percentile(errors, 0.9);
  const double change_b = MeanTemporalChange(b);
  c.temporal_ratio = change_b > 0 ? MeanTemporalChange(a) / change_b : (MeanTemporalChange(a) == 0 ? 1.0 : 0.0);
  const double p25 = Percentile(gradients, 0.25), p75 = Percentile(gradients, 0.75),
               p90 = Percentile(gradients, 0.90);
  double smooth = 0, mid = 0, edge = 0, ns = 0, nm = 0, ne = 0;
  for (size_t i = 0; i < errors.size(); ++i) {
    const float g = gradients[i];
    if (g <= p25) { smooth += errors[i]; ns += 1; }
    if (g > p25 && g <= p75) { mid += errors[i]; nm += 1; }
    if (g > p90) { edge += errors[i]; ne += 1; }
  }
  c.smooth_mae = ns > 0 ? smooth / ns : 0.0;
  c.mid_gradient_mae = nm > 0 ? mid / nm : 0.0;
  c.edge_mae = ne > 0 ? edge / ne : 0.0;
  return c;
}

std::string DepthComparison::ToJson() const {
  nlohmann::json j = {{"frames", frames},           {"mae", mae},
                      {"rmse", rmse},               {"p90_error", p90},
                      {"temporal_ratio", temporal_ratio},
                      {"smooth_mae", smooth_mae},   {"mid_gradient_mae", mid_gradient_mae},
                      {"edge_mae", edge_mae}};
  return j.dump(2);
}

std::string DepthComparison::ToTable() const {
  return absl::StrFormat(
      "frames                       %d\n"
      "MAE                          %.5f\n"
      "RMSE                         %.5f\n"
      "P90 error                    %.5f\n"
      "temporal-consistency ratio   %.4f\n"
      "MAE smooth (grad <= P25)     %.5f\n"
      "MAE mid (P25 < grad <= P75)  %.5f\n"
      "MAE edges (grad > P90)       %.5f\n",
      frames, mae, rmse, p90, temporal_ratio, smooth_mae, mid_gradient_mae, edge_mae);
}

}  // namespace depthd
