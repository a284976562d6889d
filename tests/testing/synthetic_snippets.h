// Test inputs for co-alignment: a small procedural depth video; the distortion into snippet
// predictions lives in tools/synth/distorted_snippets.h, shared with bench/coalign.
#ifndef DEPTHD_TESTS_TESTING_SYNTHETIC_SNIPPETS_H_
#define DEPTHD_TESTS_TESTING_SYNTHETIC_SNIPPETS_H_

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include <opencv2/core.hpp>

#include "core/snippet_depths.h"
#include "core/snippet_plan.h"
#include "tools/synth/distorted_snippets.h"

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

using synth::AlignedMae;
using synth::DistortedSnippets;
using synth::Distortion;

}  // namespace depthd::testing

#endif  // DEPTHD_TESTS_TESTING_SYNTHETIC_SNIPPETS_H_
