// The writing half that Estimate and FetchResult share: control messages first (Accepted,
// acknowledgements), then the job's result from a frame on, then the Summary, one write in
// flight. A client that reads nothing for --write_stall_timeout while a write waits is cut off
// (the job goes on and its result stays fetchable; OnStalled lets a live stream cancel its job).
#ifndef DEPTHD_SERVER_RESPONSE_STREAM_H_
#define DEPTHD_SERVER_RESPONSE_STREAM_H_

#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "depthd/v1/depthd.pb.h"
#include "server/result_cursor.h"
#include "server/service_context.h"

namespace depthd::server {

template <typename Reactor>
class ResponseStream : public Reactor, public Abortable {
 public:
  void Abort(const grpc::Status& status) override { End(status, /*cancel_write=*/true); }
  bool Delivering() const override {
    absl::MutexLock lock(&mu_);
    return !done_ && !finished_ && cursor_ && cursor_->result()->complete();
  }

  void OnWriteDone(bool ok) override {
    std::optional<grpc::Status> end;
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      if (ok && from_cursor_ && cursor_) cursor_->Sent();
      if (!ok && !finish_after_write_) finish_after_write_ = grpc::Status(grpc::StatusCode::CANCELLED, "the client went away");
      end = finish_after_write_;
    }
    context_->timers->Drop(stall_timer_);
    if (end) {
      End(*end);
      return;
    }
    Pump();
  }

  void OnDone() override {
    std::shared_ptr<JobResult> result;
    int watch = 0;
    {
      absl::MutexLock lock(&mu_);
      done_ = true;
      if (cursor_) result = cursor_->result();
      watch = watch_;
    }
    context_->timers->Drop(stall_timer_);
    context_->Unregister(registry_);
    if (result && watch != 0) {
      // Not from here: OnDone may run inside a notification of this very result.
      context_->timers->At(absl::Now(), [result, watch] { result->Unwatch(watch); });
    }
    Cleanup();
    self_.reset();  // may delete this
  }

 protected:
  ResponseStream(ServiceContext* context, grpc::CallbackServerContext* call, const char* method)
      : context_(context), call_(call), method_(method) {}

  // After construction, with the owner's shared_ptr: keeps the stream alive until OnDone.
  void Own(std::shared_ptr<ResponseStream> self) {
    self_ = self;
    registry_ = context_->Register(std::weak_ptr<Abortable>(self));
  }

  void Enqueue(std::vector<v1::EstimateResponse> messages) {
    absl::MutexLock lock(&mu_);
    for (auto& m : messages) pending_.push_back(std::move(m));
  }

  // Streams `result` from frame `from` once the control messages are out.
  void Follow(std::shared_ptr<JobResult> result, int from) {
    std::weak_ptr<ResponseStream> weak = std::static_pointer_cast<ResponseStream>(self_);
    const int watch = result->Watch([weak] {
      if (auto stream = weak.lock()) stream->Pump();
    });
    absl::MutexLock lock(&mu_);
    cursor_.emplace(std::move(result), from);
    watch_ = watch;
  }

  void Pump() {
    std::optional<grpc::Status> end;
    uint64_t serial = 0;
    {
      absl::MutexLock lock(&mu_);
      if (done_ || finished_ || writing_ || finish_after_write_) return;
      if (!pending_.empty()) {
        buffer_ = std::move(pending_.front());
        pending_.pop_front();
        from_cursor_ = false;
      } else if (cursor_) {
        auto next = cursor_->Next();
        if (!next.ok()) {
          end = ToGrpc(next.status());
        } else if (!*next) {
          if (!cursor_->finished()) return;  // more will come; the result's watch calls again
          end = grpc::Status::OK;
        } else {
          buffer_ = std::move(**next);
          from_cursor_ = true;
        }
      } else {
        return;
      }
      if (!end) {
        writing_ = true;
        serial = ++write_serial_;
      }
    }
    if (end) {
      End(*end);
      return;
    }
    std::weak_ptr<ResponseStream> weak = std::static_pointer_cast<ResponseStream>(self_);
    const uint64_t timer = context_->timers->At(
        absl::Now() + context_->limits.write_stall_timeout, [weak, serial] {
          if (auto stream = weak.lock()) stream->Stalled(serial);
        });
    {
      absl::MutexLock lock(&mu_);
      stall_timer_ = timer;
    }
    this->StartWrite(&buffer_);
  }

  // Finishes once; while a write is in flight, right after it (or at once, cancelling it).
  void End(const grpc::Status& status, bool cancel_write = false) {
    {
      absl::MutexLock lock(&mu_);
      if (finished_ || done_) return;
      if (writing_) {
        if (!finish_after_write_) finish_after_write_ = status;
        if (!cancel_write) return;
      } else {
        finished_ = true;
      }
    }
    if (!finished()) {
      call_->TryCancel();  // the write fails; OnWriteDone finishes
      return;
    }
    context_->CountRpc(method_, status);
    this->Finish(status);
  }

  bool finished() const {
    absl::MutexLock lock(&mu_);
    return finished_;
  }
  int next_frame() const {
    absl::MutexLock lock(&mu_);
    return cursor_ ? cursor_->next_frame() : 0;
  }
  virtual void OnStalled() {}
  virtual void Cleanup() {}

  ServiceContext* const context_;
  grpc::CallbackServerContext* const call_;
  const char* const method_;

 private:
  void Stalled(uint64_t serial) {
    {
      absl::MutexLock lock(&mu_);
      if (done_ || finished_ || !writing_ || serial != write_serial_) return;
    }
    OnStalled();
    End(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                     absl::StrCat("the client read nothing for ",
                                  absl::FormatDuration(context_->limits.write_stall_timeout),
                                  " (--write_stall_timeout); re-attach with FetchResult from frame ",
                                  next_frame())),
        /*cancel_write=*/true);
  }

  mutable absl::Mutex mu_;
  bool done_ = false, finished_ = false, writing_ = false, from_cursor_ = false;
  std::optional<grpc::Status> finish_after_write_;
  std::deque<v1::EstimateResponse> pending_;
  v1::EstimateResponse buffer_;  // the write in flight
  std::optional<ResultCursor> cursor_;
  int watch_ = 0;
  uint64_t write_serial_ = 0;
  uint64_t stall_timer_ = 0;
  int registry_ = 0;
  std::shared_ptr<ResponseStream> self_;
};

}  // namespace depthd::server

#endif  // DEPTHD_SERVER_RESPONSE_STREAM_H_
