#include "core/depth_normalizer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/media/depth_image.h"
#include "core/status_macros.h"
#include "core/video_session.h"

namespace depthd {
namespace {

constexpr double kRunningRate = 0.02;    // of the way to each new frame's percentiles
constexpr double kRunningMargin = 0.10;  // of the first frame's range, on each side

// The 1st and 99th percentiles of a frame, from every 4th pixel.
std::pair<double, double> RobustRange(const cv::Mat& depth) {
  std::vector<float> values;
  const float* data = depth.ptr<float>();
  for (size_t p = 0; p < depth.total(); p += 4) values.push_back(data[p]);
  const size_t lo = values.size() / 100, hi = values.size() - 1 - values.size() / 100;
  std::nth_element(values.begin(), values.begin() + lo, values.end());
  const double low = values[lo];
  std::nth_element(values.begin(), values.begin() + hi, values.end());
  return {low, values[hi]};
}

absl::Status WriteAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    const ssize_t put = ::write(fd, data, n);
    if (put < 0 && errno == EINTR) continue;
    if (put <= 0) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "cannot hold the video's frames until its end (", std::strerror(errno),
          "); free disk space in the spool folder or use normalization ALIGNED"));
    }
    data += put;
    n -= static_cast<size_t>(put);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<DepthNormalizer>> DepthNormalizer::Create(
    Normalization mode, const std::string& spill_dir) {
  int fd = -1;
  if (mode == Normalization::kGlobal && !spill_dir.empty()) {
    fd = ::open(spill_dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) {
      return absl::InternalError(absl::StrCat("cannot make a frame file in the spool folder (",
                                              std::strerror(errno), ")"));
    }
  }
  return std::unique_ptr<DepthNormalizer>(new DepthNormalizer(mode, fd));
}

DepthNormalizer::DepthNormalizer(Normalization mode, int fd)
    : mode_(mode),
      fd_(fd),
      min_(std::numeric_limits<double>::infinity()),
      max_(-std::numeric_limits<double>::infinity()) {}

DepthNormalizer::~DepthNormalizer() {
  if (fd_ >= 0) ::close(fd_);
}

int64_t DepthNormalizer::bytes() const {
  int64_t total = 0;
  for (const cv::Mat& frame : held_) total += frame.total() * sizeof(float);
  return total;
}

absl::Status DepthNormalizer::Add(int index, const cv::Mat& aligned, const FrameSink& sink) {
  double lo, hi;
  cv::minMaxLoc(aligned, &lo, &hi);
  min_ = std::min(min_, lo);
  max_ = std::max(max_, hi);
  ++frames_;
  size_ = aligned.size();
  switch (mode_) {
    case Normalization::kAligned:
      return sink(index, aligned);
    case Normalization::kRunning:
      return AddRunning(index, aligned, sink);
    case Normalization::kGlobal:
      if (fd_ < 0) {
        held_.push_back(aligned.clone());
        return absl::OkStatus();
      }
      const cv::Mat contiguous = aligned.isContinuous() ? aligned : aligned.clone();
      return WriteAll(fd_, reinterpret_cast<const char*>(contiguous.ptr<float>()),
                      contiguous.total() * sizeof(float));
  }
  return absl::InternalError("unknown normalization");
}

absl::Status DepthNormalizer::AddRunning(int index, const cv::Mat& aligned,
                                         const FrameSink& sink) {
  const auto [p1, p99] = RobustRange(aligned);
  if (!running_started_) {
    const double margin = kRunningMargin * std::max(p99 - p1, 1e-12);
    running_lo_ = p1 - margin;
    running_hi_ = p99 + margin;
    running_started_ = true;
  } else {
    running_lo_ += kRunningRate * (p1 - running_lo_);
    running_hi_ += kRunningRate * (p99 - running_hi_);
  }
  cv::Mat out = aligned.clone();
  NormalizeDepth(running_lo_, running_hi_, &out);
  return sink(index, out);
}

absl::Status DepthNormalizer::Finish(const FrameSink& sink) {
  if (mode_ != Normalization::kGlobal || frames_ == 0) return absl::OkStatus();
  cv::Mat frame(size_, CV_32FC1);
  const size_t frame_bytes = frame.total() * sizeof(float);
  for (int f = 0; f < frames_; ++f) {
    if (fd_ < 0) {
      frame = held_[f];
    } else {
      char* dst = reinterpret_cast<char*>(frame.ptr<float>());
      size_t got = 0;
      while (got < frame_bytes) {
        const ssize_t n = ::pread(fd_, dst + got, frame_bytes - got,
                                  static_cast<off_t>(f * frame_bytes + got));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return absl::DataLossError("cannot read back a held depth frame");
        got += static_cast<size_t>(n);
      }
    }
    NormalizeDepth(min_, max_, &frame);
    DEPTHD_RETURN_IF_ERROR(sink(f, frame));
    if (fd_ < 0) held_[f].release();
  }
  return absl::OkStatus();
}

}  // namespace depthd
