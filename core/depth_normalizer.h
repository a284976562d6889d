// Turns merged depth in the video's aligned units into the frames a client receives:
//   kGlobal  - min-max over the whole video, so frames wait for the last one; they wait in an
//              unnamed float32 file (removed by the kernel however the process ends) or in memory;
//   kAligned - passed through as they come; the range is reported at the end, and
//              NormalizeDepth(range) on the client gives kGlobal's bytes exactly;
//   kRunning - a robust range (1st..99th percentile of the first frame, widened by a margin)
//              that then follows the frames' percentiles slowly (2 % a frame), and clamps.
//              A co-aligned video already shares one scale, so the range needs no jumps.
#ifndef DEPTHD_CORE_DEPTH_NORMALIZER_H_
#define DEPTHD_CORE_DEPTH_NORMALIZER_H_

#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "absl/status/statusor.h"
#include "core/merge.h"

namespace depthd {

enum class Normalization;

class DepthNormalizer {
 public:
  // spill_dir: where kGlobal frames wait; empty keeps them in memory.
  static absl::StatusOr<std::unique_ptr<DepthNormalizer>> Create(Normalization mode,
                                                                 const std::string& spill_dir);
  ~DepthNormalizer();

  // Frame `index` (in order) in aligned units; `sink` gets what may leave now.
  absl::Status Add(int index, const cv::Mat& aligned, const FrameSink& sink);
  // The video ended: kGlobal frames leave now.
  absl::Status Finish(const FrameSink& sink);

  double min() const { return min_; }
  double max() const { return max_; }
  int64_t bytes() const;

 private:
  DepthNormalizer(Normalization mode, int fd);
  absl::Status AddRunning(int index, const cv::Mat& aligned, const FrameSink& sink);

  const Normalization mode_;
  int fd_ = -1;                    // kGlobal spill file, -1 in memory
  std::vector<cv::Mat> held_;      // kGlobal frames without a spill file
  int frames_ = 0;
  cv::Size size_;
  double min_, max_;
  bool running_started_ = false;   // kRunning
  double running_lo_ = 0.0, running_hi_ = 1.0;
};

}  // namespace depthd

#endif  // DEPTHD_CORE_DEPTH_NORMALIZER_H_
