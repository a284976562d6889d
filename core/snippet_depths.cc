#include "core/snippet_depths.h"

#include <utility>

namespace depthd {

SnippetDepths::SnippetDepths(SnippetPlan plan, int height, int width)
    : plan_(std::move(plan)), height_(height), width_(width) {
  for (const SnippetGroup& group : plan_.groups) {
    group_offset_.push_back(slot_count_);
    slot_count_ += static_cast<int64_t>(group.snippets.size()) * group.snippet_length;
  }
  data_.assign(static_cast<size_t>(slot_count_) * pixels(), 0.0f);
}

}  // namespace depthd
