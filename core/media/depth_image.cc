#include "core/media/depth_image.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

#include <opencv2/imgcodecs.hpp>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/media/half_float.h"

namespace depthd {
namespace {

// ColorBrewer "Spectral", the anchors of matplotlib's Spectral colour map (evenly spaced).
constexpr std::array<std::array<double, 3>, 11> kSpectral = {{
    {0.619608, 0.003922, 0.258824}, {0.835294, 0.243137, 0.309804},
    {0.956863, 0.427451, 0.262745}, {0.992157, 0.682353, 0.380392},
    {0.996078, 0.878431, 0.545098}, {1.000000, 1.000000, 0.749020},
    {0.901961, 0.960784, 0.596078}, {0.670588, 0.866667, 0.643137},
    {0.400000, 0.760784, 0.647059}, {0.196078, 0.533333, 0.741176},
    {0.368627, 0.309804, 0.635294},
}};

// The 256-entry LUT of Spectral_r, built as matplotlib builds it (entry i at x = i / 255).
const std::array<cv::Vec3b, 256>& SpectralRLut() {
  static const std::array<cv::Vec3b, 256> lut = [] {
    std::array<cv::Vec3b, 256> table;
    for (int i = 0; i < 256; ++i) {
      const double x = 1.0 - i / 255.0;  // reversed map
      const double position = x * 10.0;
      const int lo = std::min(9, static_cast<int>(std::floor(position)));
      const double frac = position - lo;
      for (int c = 0; c < 3; ++c) {
        const double v = kSpectral[lo][c] * (1.0 - frac) + kSpectral[lo + 1][c] * frac;
        table[i][c] = static_cast<uchar>(std::clamp(v * 255.0 + 0.5, 0.0, 255.0));
      }
    }
    return table;
  }();
  return lut;
}

absl::Status CheckDepth(const cv::Mat& depth) {
  if (depth.empty() || depth.type() != CV_32FC1) {
    return absl::InvalidArgumentError("depth frames must be non-empty CV_32FC1");
  }
  return absl::OkStatus();
}

}  // namespace

void NormalizeDepth(double lo, double hi, cv::Mat* depth) {
  const double range = hi - lo;
  const double scale = range > 0 ? 1.0 / range : 0.0;
  depth->convertTo(*depth, CV_32FC1, scale, -lo * scale);
  // Rounding can leave values a hair outside [0, 1]; the contract is the closed interval.
  cv::max(*depth, 0.0, *depth);
  cv::min(*depth, 1.0, *depth);
}

std::pair<double, double> RobustRange(const cv::Mat& depth) {
  std::vector<float> values;
  values.reserve(depth.total() / 4 + 1);
  for (int y = 0; y < depth.rows; ++y) {
    const float* row = depth.ptr<float>(y);
    for (int x = (y % 2) * 2; x < depth.cols; x += 4) values.push_back(row[x]);
  }
  if (values.empty()) return {0.0, 0.0};
  const size_t lo = values.size() / 100, hi = values.size() - 1 - values.size() / 100;
  std::nth_element(values.begin(), values.begin() + lo, values.end());
  const double low = values[lo];
  std::nth_element(values.begin(), values.begin() + hi, values.end());
  return {low, values[hi]};
}

std::pair<double, double> RunningRange::Update(const cv::Mat& depth) {
  const auto [lo, hi] = RobustRange(depth);
  if (!started_) {
    lo_ = lo;
    hi_ = hi;
    started_ = true;
  } else {
    lo_ += 0.02 * (lo - lo_);
    hi_ += 0.02 * (hi - hi_);
  }
  return {lo_, hi_};
}

cv::Mat ColorizeRange(const cv::Mat& depth, double lo, double hi) {
  cv::Mat mapped = depth.clone();
  NormalizeDepth(lo, hi, &mapped);
  return ColorizeSpectralR(mapped);
}

cv::Mat DepthToUint16(const cv::Mat& depth) {
  cv::Mat out(depth.size(), CV_16UC1);
  for (int y = 0; y < depth.rows; ++y) {
    const float* src = depth.ptr<float>(y);
    uint16_t* dst = out.ptr<uint16_t>(y);
    for (int x = 0; x < depth.cols; ++x) {
      const float v = std::isfinite(src[x]) ? std::clamp(src[x], 0.0f, 1.0f) : 0.0f;
      dst[x] = static_cast<uint16_t>(std::lround(v * 65535.0f));
    }
  }
  return out;
}

absl::StatusOr<std::string> EncodePng16(const cv::Mat& depth) {
  if (absl::Status s = CheckDepth(depth); !s.ok()) return s;
  std::vector<uchar> buffer;
  if (!cv::imencode(".png", DepthToUint16(depth), buffer)) {
    return absl::InternalError("PNG encoding failed");
  }
  return std::string(buffer.begin(), buffer.end());
}

absl::Status WritePng16(const std::string& path, const cv::Mat& depth) {
  if (absl::Status s = CheckDepth(depth); !s.ok()) return s;
  try {
    if (!cv::imwrite(path, DepthToUint16(depth))) {
      return absl::PermissionDeniedError(absl::StrCat("cannot write ", path));
    }
  } catch (const cv::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("cannot write ", path, ": ", e.what()));
  }
  return absl::OkStatus();
}

namespace {
absl::StatusOr<cv::Mat> Uint16ToDepth(const cv::Mat& image, const std::string& what) {
  if (image.empty()) return absl::InvalidArgumentError(absl::StrCat("cannot decode ", what));
  if (image.type() != CV_16UC1) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is not a 16-bit grayscale PNG"));
  }
  cv::Mat depth;
  image.convertTo(depth, CV_32FC1, 1.0 / 65535.0);
  return depth;
}
}  // namespace

absl::StatusOr<cv::Mat> ReadPng16(const std::string& path) {
  return Uint16ToDepth(cv::imread(path, cv::IMREAD_UNCHANGED), path);
}

absl::StatusOr<cv::Mat> DecodePng16(const std::string& bytes) {
  // imdecode would give bytes without the PNG signature to whichever decoder claims them (GDCM
  // aborts on malformed DICOM); with it, its PNG decoder takes them before any other.
  if (bytes.compare(0, 8, std::string("\x89PNG\r\n\x1a\n", 8)) != 0) {
    return absl::InvalidArgumentError("a PNG16 frame that does not start with the PNG signature");
  }
  cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<char*>(bytes.data()));
  return Uint16ToDepth(cv::imdecode(buffer, cv::IMREAD_UNCHANGED), "PNG16 frame");
}

cv::Mat ColorizeSpectralR(const cv::Mat& depth) {
  const auto& lut = SpectralRLut();
  cv::Mat out(depth.size(), CV_8UC3);
  for (int y = 0; y < depth.rows; ++y) {
    const float* src = depth.ptr<float>(y);
    cv::Vec3b* dst = out.ptr<cv::Vec3b>(y);
    for (int x = 0; x < depth.cols; ++x) {
      const float v = std::isfinite(src[x]) ? src[x] : 0.0f;
      // matplotlib: int(v * N), clipped to [0, N - 1].
      const int index = std::clamp(static_cast<int>(v * 256.0f), 0, 255);
      dst[x] = lut[index];
    }
  }
  return out;
}

std::string DepthToFloat32Bytes(const cv::Mat& depth) {
  cv::Mat contiguous = depth.isContinuous() ? depth : depth.clone();
  return std::string(reinterpret_cast<const char*>(contiguous.ptr<float>()),
                     contiguous.total() * sizeof(float));
}

std::string DepthToFloat16Bytes(const cv::Mat& depth) {
  std::string out(depth.total() * 2, '\0');
  size_t i = 0;
  for (int y = 0; y < depth.rows; ++y) {
    const float* src = depth.ptr<float>(y);
    for (int x = 0; x < depth.cols; ++x, ++i) {
      const uint16_t h = FloatToHalf(src[x]);
      std::memcpy(&out[2 * i], &h, 2);
    }
  }
  return out;
}

absl::StatusOr<cv::Mat> Float32BytesToDepth(const std::string& bytes, int width, int height) {
  const size_t expected = static_cast<size_t>(width) * height * 4;
  if (width <= 0 || height <= 0 || bytes.size() != expected) {
    return absl::InvalidArgumentError(absl::StrCat("float32 frame has ", bytes.size(),
                                                   " bytes, expected ", expected));
  }
  cv::Mat depth(height, width, CV_32FC1);
  std::memcpy(depth.ptr<float>(), bytes.data(), expected);
  return depth;
}

absl::StatusOr<cv::Mat> Float16BytesToDepth(const std::string& bytes, int width, int height) {
  const size_t expected = static_cast<size_t>(width) * height * 2;
  if (width <= 0 || height <= 0 || bytes.size() != expected) {
    return absl::InvalidArgumentError(absl::StrCat("float16 frame has ", bytes.size(),
                                                   " bytes, expected ", expected));
  }
  cv::Mat depth(height, width, CV_32FC1);
  float* dst = depth.ptr<float>();
  for (size_t i = 0; i < static_cast<size_t>(width) * height; ++i) {
    uint16_t h;
    std::memcpy(&h, bytes.data() + 2 * i, 2);
    dst[i] = HalfToFloat(h);
  }
  return depth;
}

}  // namespace depthd
