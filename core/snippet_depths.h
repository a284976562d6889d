// The snippet network's predictions for a whole video: one depth map per snippet frame, stored
// flat so that co-alignment and merge can walk them without building dense tensors.
#ifndef DEPTHD_CORE_SNIPPET_DEPTHS_H_
#define DEPTHD_CORE_SNIPPET_DEPTHS_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/snippet_plan.h"

namespace depthd {

class SnippetDepths {
 public:
  SnippetDepths() = default;
  // Allocates zeroed storage for every snippet frame of `plan` at height x width.
  SnippetDepths(SnippetPlan plan, int height, int width);

  const SnippetPlan& plan() const { return plan_; }
  int height() const { return height_; }
  int width() const { return width_; }
  int64_t pixels() const { return static_cast<int64_t>(height_) * width_; }
  int num_frames() const { return plan_.num_frames; }
  // Snippet frames in total (sum over snippets of their lengths).
  int64_t num_slots() const { return slot_count_; }

  // Depth of position `position` of snippet `snippet` in group `group`: height * width floats.
  float* Slot(int group, int snippet, int position) {
    return data_.data() + SlotIndex(group, snippet, position) * pixels();
  }
  const float* Slot(int group, int snippet, int position) const {
    return data_.data() + SlotIndex(group, snippet, position) * pixels();
  }
  // The same by flat slot index, 0 .. num_slots() - 1.
  const float* SlotData(int64_t slot) const { return data_.data() + slot * pixels(); }
  int64_t SlotIndex(int group, int snippet, int position) const {
    const SnippetGroup& g = plan_.groups[group];
    return group_offset_[group] + static_cast<int64_t>(snippet) * g.snippet_length + position;
  }
  size_t bytes() const { return data_.size() * sizeof(float); }

 private:
  SnippetPlan plan_;
  int height_ = 0, width_ = 0;
  std::vector<int64_t> group_offset_;
  int64_t slot_count_ = 0;
  std::vector<float> data_;
};

}  // namespace depthd

#endif  // DEPTHD_CORE_SNIPPET_DEPTHS_H_
