#include "core/snippet_depths.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

namespace depthd {

SnippetDepths::SnippetDepths(SnippetPlan plan, int height, int width)
    : plan_(std::move(plan)), height_(height), width_(width) {
  for (const SnippetGroup& group : plan_.groups) {
    group_offset_.push_back(slot_count_);
    slot_count_ += static_cast<int64_t>(group.snippets.size()) * group.snippet_length;
  }
  data_.assign(static_cast<size_t>(slot_count_) * pixels(), 0.0f);
  ranges_.resize(slot_count_);
  recorded_.assign(slot_count_, 0);
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
  float* dst = data_.data() + slot * pixels();
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
