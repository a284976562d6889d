#include "core/snippet_depths.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

namespace depthd {

SnippetDepths SnippetDepths::Empty(SnippetPlan plan, int height, int width) {
  SnippetDepths depths;
  depths.plan_ = std::move(plan);
  depths.height_ = height;
  depths.width_ = width;
  int snippets = 0;
  for (const SnippetGroup& group : depths.plan_.groups) {
    depths.group_offset_.push_back(depths.slot_count_);
    depths.group_first_.push_back(snippets);
    depths.slot_count_ += static_cast<int64_t>(group.snippets.size()) * group.snippet_length;
    snippets += static_cast<int>(group.snippets.size());
  }
  depths.data_.resize(snippets);
  depths.ranges_.resize(depths.slot_count_);
  depths.recorded_.assign(depths.slot_count_, 0);
  return depths;
}

SnippetDepths::SnippetDepths(SnippetPlan plan, int height, int width)
    : SnippetDepths(Empty(std::move(plan), height, width)) {
  for (size_t g = 0; g < plan_.groups.size(); ++g) {
    const SnippetGroup& group = plan_.groups[g];
    for (size_t i = 0; i < group.snippets.size(); ++i) {
      data_[group_first_[g] + i].assign(static_cast<size_t>(group.snippet_length * pixels()), 0.0f);
    }
  }
}

void SnippetDepths::Adopt(int group, int snippet, std::vector<float> depth,
                          const std::vector<DepthRange>& ranges) {
  const int length = plan_.groups[group].snippet_length;
  data_[group_first_[group] + snippet] = std::move(depth);
  for (int j = 0; j < length; ++j) {
    const int64_t slot = SlotIndex(group, snippet, j);
    ranges_[slot] = ranges[j];
    recorded_[slot] = 1;
  }
}

const float* SnippetDepths::SlotData(int64_t slot) const {
  const size_t g = std::upper_bound(group_offset_.begin(), group_offset_.end(), slot) -
                   group_offset_.begin() - 1;
  const int length = plan_.groups[g].snippet_length;
  const int64_t local = slot - group_offset_[g];
  return data_[group_first_[g] + local / length].data() + (local % length) * pixels();
}

size_t SnippetDepths::bytes() const {
  size_t total = 0;
  for (const auto& snippet : data_) total += snippet.size() * sizeof(float);
  return total;
}

// Independent lanes let the compiler use SIMD without reassociating a single reduction.
DepthRange RangeOf(const float* data, int64_t n) {
  constexpr int kLanes = 16;
  float low[kLanes];
  float probe[kLanes];  // x * 0 is 0 for finite x and NaN otherwise
  for (int l = 0; l < kLanes; ++l) {
    low[l] = std::numeric_limits<float>::infinity();
    probe[l] = 0.0f;
  }
  int64_t p = 0;
  for (; p + kLanes <= n; p += kLanes) {
    for (int l = 0; l < kLanes; ++l) {
      const float x = data[p + l];
      low[l] = x < low[l] ? x : low[l];
      probe[l] += x * 0.0f;
    }
  }
  DepthRange range{std::numeric_limits<float>::infinity(), true};
  for (int l = 0; l < kLanes; ++l) {
    range.min = std::min(range.min, low[l]);
    range.finite = range.finite && probe[l] == 0.0f;
  }
  for (; p < n; ++p) {
    if (!std::isfinite(data[p])) range.finite = false;
    range.min = std::min(range.min, data[p]);
  }
  return range;
}

void SnippetDepths::Write(int group, int snippet, int position, const float* src,
                          int64_t row_stride) {
  const int64_t slot = SlotIndex(group, snippet, position);
  float* dst = SlotPointer(group, snippet, position);
  for (int y = 0; y < height_; ++y) {
    std::copy_n(src + y * row_stride, width_, dst + static_cast<int64_t>(y) * width_);
  }
  ranges_[slot] = RangeOf(dst, pixels());
  recorded_[slot] = 1;
}

DepthRange SnippetDepths::Range(int64_t slot) const {
  return recorded_[slot] ? ranges_[slot] : RangeOf(SlotData(slot), pixels());
}

}  // namespace depthd
