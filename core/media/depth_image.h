// Depth frames as images: 16-bit PNG, the Spectral_r colour map, and the float encodings
// the service streams.
#ifndef DEPTHD_CORE_MEDIA_DEPTH_IMAGE_H_
#define DEPTHD_CORE_MEDIA_DEPTH_IMAGE_H_

#include <cstdint>
#include <string>

#include <opencv2/core.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace depthd {

// Maps depth in aligned units onto [0, 1] with the video's range [lo, hi] (0 = nearest), in
// place, clamped: the normalisation of the merged video, and what a client applies to frames it
// received in aligned units with the Summary's range to get the same bytes. A constant video
// (hi <= lo) maps to 0.
void NormalizeDepth(double lo, double hi, cv::Mat* depth);

// depth: CV_32FC1 in [0, 1] (values outside are clamped). 0 -> 0, 1 -> 65535.
cv::Mat DepthToUint16(const cv::Mat& depth);
absl::StatusOr<std::string> EncodePng16(const cv::Mat& depth);
absl::Status WritePng16(const std::string& path, const cv::Mat& depth);
// Reads a 16-bit PNG back to CV_32FC1 in [0, 1].
absl::StatusOr<cv::Mat> ReadPng16(const std::string& path);
absl::StatusOr<cv::Mat> DecodePng16(const std::string& bytes);

// Matplotlib's Spectral_r (256-entry LUT): 0 (near) red, 1 (far) blue... mapped as matplotlib
// does for the value. Returns CV_8UC3 in RGB order.
cv::Mat ColorizeSpectralR(const cv::Mat& depth);

// Raw little-endian float32 / float16 bytes of a CV_32FC1 frame, row-major.
std::string DepthToFloat32Bytes(const cv::Mat& depth);
std::string DepthToFloat16Bytes(const cv::Mat& depth);
absl::StatusOr<cv::Mat> Float32BytesToDepth(const std::string& bytes, int width, int height);
absl::StatusOr<cv::Mat> Float16BytesToDepth(const std::string& bytes, int width, int height);

}  // namespace depthd

#endif  // DEPTHD_CORE_MEDIA_DEPTH_IMAGE_H_
