// The frames of a live job on their way from its stream's reactor to its runner: a few at a
// time. When it is full the reactor stops reading (gRPC flow control then holds the sender) or,
// when the job asked for it, skips the frame and says so.
#ifndef DEPTHD_SERVER_LIVE_INPUT_H_
#define DEPTHD_SERVER_LIVE_INPUT_H_

#include <atomic>
#include <deque>
#include <functional>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "depthd/v1/depthd.pb.h"

namespace depthd::server {

class LiveInput {
 public:
  explicit LiveInput(int capacity) : capacity_(capacity) {}

  struct Item {
    int input_index;
    v1::Frame frame;
  };
  // Queues the frame; false when the queue is now full, and then `on_space` runs (on the
  // runner's thread) once there is room again.
  bool Push(int input_index, v1::Frame frame, std::function<void()> on_space);
  bool full() const;
  void Skipped() { skipped_.fetch_add(1); }
  // The stream half-closed: the runner drains what is queued, then sees the end.
  void Close();
  // The stream broke: the runner fails with `why`.
  void Abandon(const absl::Status& why);
  void Wake();
  // The next frame, blocking; nullopt after Close and the last frame.
  absl::StatusOr<std::optional<Item>> Pop(const std::atomic<bool>* cancelled);
  int skipped() const { return skipped_.load(); }

 private:
  const int capacity_;
  mutable absl::Mutex mu_;
  std::deque<Item> items_ ABSL_GUARDED_BY(mu_);
  std::function<void()> on_space_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status abandoned_ ABSL_GUARDED_BY(mu_);
  int wakes_ ABSL_GUARDED_BY(mu_) = 0;
  std::atomic<int> skipped_{0};
};

}  // namespace depthd::server

#endif  // DEPTHD_SERVER_LIVE_INPUT_H_
