// Windowed co-alignment for videos that arrive frame by frame. Snippets join as they are
// predicted; each solve frees the snippets that ended within the last `window` frames (the
// window) and holds every older snippet at the scale and shift it was frozen with, while those
// still take part in the per-frame targets of frames they share with the window. A frame is final
// once every snippet that covers it is frozen: it is merged then, handed out, and its memory
// released, so memory depends on the window and the dilations, not on the video's length.
#ifndef DEPTHD_CORE_COALIGN_WINDOW_H_
#define DEPTHD_CORE_COALIGN_WINDOW_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include <opencv2/core.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/coalign.h"
#include "core/merge.h"
#include "core/snippet_depths.h"

namespace depthd {

struct WindowOptions {
  int window = 50;       // frames; snippets ending this close to the newest prediction stay free
  int solve_every = 10;  // new frames of predictions between solves
  // The soft constraints of a solve are means over the snippets of the video so far, as in the
  // whole-video objective, but over at most this many per group: beyond it their weight would
  // keep shrinking as 1/n, and each solve would take more iterations the longer the video.
  int soft_horizon = 1000;
  CoalignOptions coalign;  // the fast solver's settings
};

struct WindowStats {
  int solves = 0;
  int iterations = 0;     // solver iterations over all solves
  bool converged = true;  // every solve converged
  double last_loss = 0.0;
};

class WindowedCoalignment {
 public:
  // snippet_lengths: per group.
  WindowedCoalignment(int height, int width, std::vector<int> snippet_lengths,
                      WindowOptions options);
  ~WindowedCoalignment();

  // A snippet's prediction: snippet_lengths[group] planes of height x width floats, rows
  // `row_stride` floats apart, planes `plane_stride` apart. INVALID_ARGUMENT for NaN or Inf.
  absl::Status Add(int group, const std::vector<int>& frames, const float* depth,
                   int64_t row_stride, int64_t plane_stride);
  // Every snippet that ends at or before frame `predicted_through` has been added; `max_span` is
  // (snippet length - 1) * dilation at its largest. Solves when enough is new (always when
  // `finished`: no more snippets will come and `num_frames` frames exist), freezes the snippets
  // that left the window, and hands every frame that became final to `sink` in order, in
  // aligned units.
  absl::Status Advance(int predicted_through, int max_span, bool finished, int num_frames,
                       const FrameSink& sink);

  const WindowStats& stats() const { return stats_; }
  // Bytes held now (predictions, accumulators), for tests and benchmarks.
  int64_t bytes() const;
  // Frames handed out so far.
  int frames_out() const { return next_final_; }

 private:
  struct Snippet;
  struct Accumulator;
  absl::Status Solve(int predicted_through);
  void Freeze(Snippet& snippet);

  const int height_, width_;
  const std::vector<int> lengths_;
  const WindowOptions options_;
  std::vector<int> rows_, cols_;                                      // sampled coordinates
  std::map<std::pair<int, int>, std::unique_ptr<Snippet>> snippets_;  // by (last frame, group)
  std::map<int, Accumulator> frames_;                                 // frames not yet final
  // Smallest prediction so far: the offset m of the solver's coordinates x - m. The whole-video
  // solve uses the video's minimum; when a stream's minimum keeps falling the windows drift
  // (docs/benchmarks.md says why a fixed offset is no cure).
  float min_value_;
  int solved_through_ = -1;
  int next_final_ = 0;
  std::vector<int> added_;  // per group: snippets added so far
  WindowStats stats_;
};

// A snippet's prediction on demand: snippet `index` of plan group `group`, its planes of
// height x width floats one after another. The pointer stays valid until the next call.
using SnippetSource = std::function<absl::StatusOr<const float*>(int group, int index)>;

// The windowed co-alignment of a planned video fed as a stream produces it: snippets by the
// frame they end on, a solve every `solve_every` frames; the aligned frames go to `sink` in
// order. For benchmarks and tests against the global solve, and for lengths whose predictions
// would not fit in memory together.
absl::Status CoalignWindowedStream(const SnippetPlan& plan, int height, int width,
                                   const WindowOptions& options, const SnippetSource& source,
                                   const FrameSink& sink, WindowStats* stats = nullptr);

// The same over predictions that are all at hand.
absl::Status CoalignWindowedOffline(const SnippetDepths& depths, const WindowOptions& options,
                                    const FrameSink& sink, WindowStats* stats = nullptr);

}  // namespace depthd

#endif  // DEPTHD_CORE_COALIGN_WINDOW_H_
