// A stand-in snippet network for core tests: depth is an affine function of the green channel,
// with a scale and shift that differ per snippet (like an affine-invariant network) and depend
// only on the snippet's frames, so results do not depend on how snippets are batched.
#ifndef DEPTHD_TESTS_TESTING_FIXTURE_MODEL_H_
#define DEPTHD_TESTS_TESTING_FIXTURE_MODEL_H_

#include <cmath>
#include <deque>
#include <memory>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <torch/torch.h>

#include "core/media/video_io.h"
#include "core/model/depth_model.h"
#include "tests/testing/synthetic_snippets.h"

namespace depthd::testing {

class FixtureModel : public DepthModel {
 public:
  explicit FixtureModel(int size_multiple = 1, bool can_refine = false) {
    contract_.name = "fixture";
    contract_.format = "test";
    contract_.snippet_length = 3;
    contract_.size_multiple = size_multiple;
    contract_.supports_refine = can_refine;
  }
  const ModelContract& contract() const override { return contract_; }
  DeviceKind device() const override { return DeviceKind::kCpu; }
  DType dtype() const override { return DType::kFloat32; }
  absl::StatusOr<std::unique_ptr<ModelVideo>> NewVideo(int height, int width, int64_t) override;

  int batches() const { return batches_; }
  int max_frames_held() const { return max_held_; }

 private:
  friend class FixtureVideo;
  ModelContract contract_;
  int batches_ = 0;
  int max_held_ = 0;
};

class FixtureVideo : public ModelVideo {
 public:
  FixtureVideo(FixtureModel& model, int height, int width)
      : model_(model), height_(height), width_(width) {}
  absl::Status AddFrames(const torch::Tensor& rgb, int first_frame) override {
    EXPECT_EQ(first_frame, first_ + static_cast<int>(frames_.size()));
    EXPECT_EQ(rgb.size(2), height_);
    EXPECT_EQ(rgb.size(3), width_);
    EXPECT_GE(rgb.min().item<float>(), -1.0f);
    EXPECT_LE(rgb.max().item<float>(), 1.0f);
    for (int64_t i = 0; i < rgb.size(0); ++i) frames_.push_back(rgb[i].clone());
    model_.max_held_ = std::max(model_.max_held_, static_cast<int>(frames_.size()));
    return absl::OkStatus();
  }
  void ReleaseFramesBefore(int frame) override {
    while (first_ < frame && !frames_.empty()) {
      frames_.pop_front();
      ++first_;
    }
  }
  absl::StatusOr<torch::Tensor> PredictSnippets(
      const std::vector<std::vector<int>>& snippets) override {
    model_.batches_++;
    std::vector<torch::Tensor> outputs;
    for (const std::vector<int>& snippet : snippets) {
      const int key = snippet[0] * 7 + (snippet[1] - snippet[0]);
      const float scale = 1.0f + 0.2f * static_cast<float>(key % 5);
      const float shift = 0.1f * static_cast<float>(key % 3);
      std::vector<torch::Tensor> frames;
      for (int f : snippet) {
        EXPECT_GE(f, first_) << "a released frame was named";
        frames.push_back(frames_[f - first_].narrow(0, 1, 1) * scale + shift);
      }
      outputs.push_back(torch::stack(frames));
    }
    return torch::stack(outputs);
  }

 private:
  FixtureModel& model_;
  const int height_, width_;
  std::deque<torch::Tensor> frames_;
  int first_ = 0;
};

inline absl::StatusOr<std::unique_ptr<ModelVideo>> FixtureModel::NewVideo(int height, int width,
                                                                          int64_t) {
  EXPECT_EQ(height % contract_.size_multiple, 0);
  EXPECT_EQ(width % contract_.size_multiple, 0);
  return std::make_unique<FixtureVideo>(*this, height, width);
}

// Frames whose green channel encodes a known depth video (MakeDepthVideo).
inline VideoFrames DepthAsVideo(int frames, int height, int width) {
  VideoFrames video;
  for (const cv::Mat& depth : MakeDepthVideo(frames, height, width)) {
    cv::Mat rgb(height, width, CV_8UC3);
    for (int y = 0; y < height; ++y) {
      for (int x = 0; x < width; ++x) {
        const auto v = static_cast<uchar>(std::lround(depth.at<float>(y, x) * 255.0f));
        rgb.at<cv::Vec3b>(y, x) = cv::Vec3b(40, v, 200);
      }
    }
    video.frames.push_back(rgb);
  }
  video.original_width = width * 2;
  video.original_height = height * 2;
  video.fps = 24;
  return video;
}

}  // namespace depthd::testing

#endif  // DEPTHD_TESTS_TESTING_FIXTURE_MODEL_H_
