#include "core/media/resize.h"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace depthd {

absl::StatusOr<Resample> ParseResample(std::string_view name) {
  const std::string lower = absl::AsciiStrToLower(std::string(name));
  if (lower.empty() || lower == "bilinear") return Resample::kBilinear;
  if (lower == "nearest" || lower == "nearest_exact") return Resample::kNearest;
  if (lower == "bicubic") return Resample::kBicubic;
  return absl::InvalidArgumentError(absl::StrCat("unknown resample method '", std::string(name),
                                                 "'; use bilinear, nearest or bicubic"));
}

std::string ResampleName(Resample resample) {
  switch (resample) {
    case Resample::kBilinear: return "bilinear";
    case Resample::kNearest: return "nearest";
    case Resample::kBicubic: return "bicubic";
  }
  return "bilinear";
}

cv::Size ProcessingSize(cv::Size original, int processing_res) {
  if (processing_res <= 0 || original.width <= 0 || original.height <= 0) return original;
  const double scale = static_cast<double>(processing_res) / std::max(original.width, original.height);
  return cv::Size(std::max(1, static_cast<int>(std::lround(original.width * scale))),
                  std::max(1, static_cast<int>(std::lround(original.height * scale))));
}

cv::Mat ResizeTo(const cv::Mat& image, cv::Size size, Resample resample) {
  if (image.size() == size) return image;
  int flag = cv::INTER_LINEAR;
  if (resample == Resample::kNearest) flag = cv::INTER_NEAREST;
  if (resample == Resample::kBicubic) flag = cv::INTER_CUBIC;
  cv::Mat out;
  cv::resize(image, out, size, 0, 0, flag);
  return out;
}

}  // namespace depthd
