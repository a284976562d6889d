// One thread that runs callbacks at deadlines: upload idle limits, write stalls, live-stream
// silence. Cancel waits for a callback that is running, so its owner may then be destroyed.
#ifndef DEPTHD_SERVER_TIMERS_H_
#define DEPTHD_SERVER_TIMERS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace depthd::server {

class Timers {
 public:
  Timers();
  ~Timers();

  // Runs `callback` on the timer thread at `deadline` unless cancelled first.
  uint64_t At(absl::Time deadline, std::function<void()> callback);
  // After this returns the callback has not started, or has finished. Safe from the callback's
  // own thread for another timer, not for itself.
  void Cancel(uint64_t id);
  // The same without waiting for a callback that is running (its owner must guard itself, e.g.
  // through a weak_ptr); safe from any thread, the timer's own included.
  void Drop(uint64_t id);

 private:
  void Loop();
  void RemoveLocked(uint64_t id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  std::multimap<absl::Time, uint64_t> by_time_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, std::pair<absl::Time, std::function<void()>>> timers_ ABSL_GUARDED_BY(mu_);
  uint64_t next_ ABSL_GUARDED_BY(mu_) = 1;
  uint64_t running_ ABSL_GUARDED_BY(mu_) = 0;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace depthd::server

#endif  // DEPTHD_SERVER_TIMERS_H_
