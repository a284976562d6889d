// The snippet network's predictions for a whole video: one depth map per snippet frame, stored
// flat so that co-alignment and merge can walk them without building dense tensors.
#ifndef DEPTHD_CORE_SNIPPET_DEPTHS_H_
#define DEPTHD_CORE_SNIPPET_DEPTHS_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/snippet_plan.h"

namespace depthd {

// Smallest value of a depth map and whether every value is finite.
struct DepthRange {
  float min = 0.0f;
  bool finite = true;
};
DepthRange RangeOf(const float* data, int64_t n);

class SnippetDepths {
 public:
  SnippetDepths() = default;
  // Allocates zeroed storage for every snippet frame of `plan` at height x width.
  SnippetDepths(SnippetPlan plan, int height, int width);
  // The same without storage: every snippet is then given with Adopt.
  static SnippetDepths Empty(SnippetPlan plan, int height, int width);

  const SnippetPlan& plan() const { return plan_; }
  int height() const { return height_; }
  int width() const { return width_; }
  int64_t pixels() const { return static_cast<int64_t>(height_) * width_; }
  int num_frames() const { return plan_.num_frames; }
  // Snippet frames in total (sum over snippets of their lengths).
  int64_t num_slots() const { return slot_count_; }

  // Depth of position `position` of snippet `snippet` in group `group`: height * width floats.
  // Writing through this pointer forgets the slot's recorded range.
  float* Slot(int group, int snippet, int position) {
    const int64_t slot = SlotIndex(group, snippet, position);
    recorded_[slot] = 0;
    return SlotPointer(group, snippet, position);
  }
  // Copies a prediction into its slot from rows `row_stride` floats apart and records its range
  // while the rows are still in cache, so co-alignment need not read every prediction again.
  void Write(int group, int snippet, int position, const float* src, int64_t row_stride);
  // Takes a whole snippet's depth (snippet_length * height * width floats, position-major) with
  // its slots' ranges, without copying it.
  void Adopt(int group, int snippet, std::vector<float> depth, const std::vector<DepthRange>& ranges);
  // The slot's range: recorded by Write, else computed now.
  DepthRange Range(int64_t slot) const;
  const float* Slot(int group, int snippet, int position) const {
    return const_cast<SnippetDepths*>(this)->SlotPointer(group, snippet, position);
  }
  // The same by flat slot index, 0 .. num_slots() - 1.
  const float* SlotData(int64_t slot) const;
  float* MutableSlotData(int64_t slot) {
    recorded_[slot] = 0;
    return const_cast<float*>(SlotData(slot));
  }
  int64_t SlotIndex(int group, int snippet, int position) const {
    const SnippetGroup& g = plan_.groups[group];
    return group_offset_[group] + static_cast<int64_t>(snippet) * g.snippet_length + position;
  }
  size_t bytes() const;

 private:
  float* SlotPointer(int group, int snippet, int position) {
    return data_[group_first_[group] + snippet].data() + static_cast<int64_t>(position) * pixels();
  }

  SnippetPlan plan_;
  int height_ = 0, width_ = 0;
  std::vector<int64_t> group_offset_;  // first slot of each group
  std::vector<int> group_first_;       // first snippet of each group
  int64_t slot_count_ = 0;
  std::vector<std::vector<float>> data_;  // per snippet, its frames one after another
  std::vector<DepthRange> ranges_;
  std::vector<char> recorded_;  // per slot: ranges_ holds its range
};

}  // namespace depthd

#endif  // DEPTHD_CORE_SNIPPET_DEPTHS_H_
