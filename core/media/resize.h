// Resizing to the processing resolution (longer side), as the reference's load_video_frames does.
#ifndef DEPTHD_CORE_MEDIA_RESIZE_H_
#define DEPTHD_CORE_MEDIA_RESIZE_H_

#include <string>
#include <string_view>

#include <opencv2/core.hpp>

#include "absl/status/statusor.h"

namespace depthd {

enum class Resample { kBilinear, kNearest, kBicubic };

// "bilinear" | "nearest" | "bicubic" (case-insensitive).
absl::StatusOr<Resample> ParseResample(std::string_view name);
std::string ResampleName(Resample resample);

// Size whose longer side is `processing_res`, keeping the aspect ratio (rounded to nearest).
// processing_res 0 keeps the size.
cv::Size ProcessingSize(cv::Size original, int processing_res);

cv::Mat ResizeTo(const cv::Mat& image, cv::Size size, Resample resample);

}  // namespace depthd

#endif  // DEPTHD_CORE_MEDIA_RESIZE_H_
