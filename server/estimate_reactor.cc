// Estimate: the upload (UploadReceiver) and the result (ResponseStream) on one bidi stream.
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/job_state.h"
#include "server/reactors.h"
#include "server/response_stream.h"

namespace depthd::server {
namespace {

using EstimateBase = grpc::ServerBidiReactor<v1::EstimateRequest, v1::EstimateResponse>;

class EstimateReactor final : public ResponseStream<EstimateBase> {
 public:
  EstimateReactor(ServiceContext* context, UploadTracker* tracker, grpc::CallbackServerContext* call)
      : ResponseStream(context, call, "Estimate"), tracker_(tracker) {}

  void Begin(std::shared_ptr<EstimateReactor> self) {
    weak_ = self;
    Own(self);
    auto tenant = context_->Identify(call_);
    if (!tenant.ok() || context_->draining) {
      const absl::Status refused =
          !tenant.ok() ? tenant.status()
                       : absl::UnavailableError("depthd is shutting down; retry on another server");
      context_->metrics->CountJob(Outcome(refused));
      End(ToGrpc(refused));
      return;
    }
    receiver_.emplace(context_, tracker_, *tenant);
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (finished()) return;
    std::vector<v1::EstimateResponse> out;
    std::optional<absl::Status> end;
    bool read_more = false;
    {
      absl::MutexLock lock(&receiver_mu_);
      if (!ok) {
        if (!begun_) {
          end = absl::InvalidArgumentError(
              "the stream ended before a JobSpec; send a JobSpec first, then the video");
        } else if (!receiver_->complete()) {
          if (call_->IsCancelled()) {
            receiver_->Broken(ClientGone(), /*final=*/false);
            end = ClientGone();
          } else {
            auto ack = receiver_->Complete();
            if (ack.ok()) {
              out.push_back(*std::move(ack));
            } else {
              receiver_->Broken(ack.status(), /*final=*/true);
              end = ack.status();
            }
          }
        }
      } else if (!begun_) {
        begun_ = true;
        auto first = receiver_->Begin(request_);
        if (first.ok()) {
          out = *std::move(first);
          read_more = true;
        } else {
          end = first.status();
        }
      } else {
        std::weak_ptr<EstimateReactor> weak = weak_;
        auto next = receiver_->Add(request_, [weak] {
          if (auto self = weak.lock()) self->ResumeReading();
        }, &out);
        if (!next.ok()) {
          receiver_->Broken(next.status(), /*final=*/true);
          end = next.status();
        } else if (*next == UploadReceiver::Next::kWait) {
          absl::MutexLock lock(&state_mu_);
          read_waiting_ = true;
        } else {
          read_more = true;
        }
        last_frame_ = absl::Now();
      }
      if (receiver_->job() && !following_) {
        following_ = true;
        job_ = receiver_->job();
        live_ = receiver_->live();
        Follow(job_->result, 0);
        if (live_) WatchLiveIdle();
        WatchProgress();
      }
      if (end && !receiver_->job()) context_->metrics->CountJob(Outcome(*end));
    }
    Enqueue(std::move(out));
    if (end) {
      End(ToGrpc(*end));
      return;
    }
    if (read_more) StartRead(&request_);
    Pump();
  }

  void OnCancel() override {
    {
      absl::MutexLock lock(&receiver_mu_);
      if (receiver_ && begun_ && !receiver_->complete()) {
        receiver_->Broken(ClientGone(), /*final=*/false);
      } else if (live_ && job_) {
        (void)context_->scheduler->Cancel(job_->id, ClientGone());
      }
    }
    End(ToGrpc(ClientGone()));
  }

 protected:
  void OnStalled() override {
    if (live_ && job_) {
      (void)context_->scheduler->Cancel(job_->id, absl::CancelledError(absl::StrCat(
          "the client read no depth frame for ", absl::FormatDuration(context_->limits.write_stall_timeout),
          " (--write_stall_timeout); the live job is cancelled")));
    }
  }

  void Cleanup() override {
    if (listener_ != 0) {
      JobStore* store = context_->store;
      const int handle = listener_;
      context_->timers->At(absl::Now(), [store, handle] { store->RemoveListener(handle); });
    }
    context_->timers->Drop(idle_timer_);
  }

 private:
  absl::Status ClientGone() const {
    const bool deadline = call_->deadline() < std::chrono::system_clock::now();
    return deadline ? absl::DeadlineExceededError("the client's deadline passed")
                    : absl::CancelledError("the client cancelled the call or went away");
  }

  void ResumeReading() {
    {
      absl::MutexLock lock(&state_mu_);
      if (!read_waiting_) return;
      read_waiting_ = false;
    }
    if (!finished()) StartRead(&request_);
  }

  // Progress goes out as the job's record changes (deferred to the timer thread: the store
  // notifies from inside its callers' locks).
  void WatchProgress() {
    std::weak_ptr<EstimateReactor> weak = weak_;
    const std::string id = job_->id;
    Timers* timers = context_->timers;
    listener_ = context_->store->AddListener([weak, id, timers](const JobRecord& now, v1::JobState) {
      if (now.id != id) return;
      timers->At(absl::Now(), [weak] {
        if (auto self = weak.lock()) self->SendProgress();
      });
    });
  }

  void SendProgress() {
    const std::optional<JobRecord> record = context_->store->Get(job_->id);
    if (!record || IsFinal(record->state)) return;
    v1::EstimateResponse response;
    v1::Progress* progress = response.mutable_progress();
    if (record->state == v1::JOB_STATE_QUEUED || record->state == v1::JOB_STATE_UPLOADING) {
      if (!record->upload_complete) return;
      progress->set_stage(v1::STAGE_QUEUED);
      progress->set_queue_position(std::max(0, context_->scheduler->Position(job_->id)));
    } else {
      progress->set_stage(record->stage);
      progress->set_done(record->done);
      progress->set_total(record->total);
    }
    const std::string key = progress->SerializeAsString();
    {
      absl::MutexLock lock(&state_mu_);
      if (key == last_progress_) return;
      last_progress_ = key;
    }
    Enqueue({std::move(response)});
    Pump();
  }

  // A live stream that sends no frame for --live_idle_timeout ends.
  void WatchLiveIdle() {
    std::weak_ptr<EstimateReactor> weak = weak_;
    const absl::Time due = absl::Now() + context_->limits.live_idle_timeout;
    idle_timer_ = context_->timers->At(due, [weak] {
      if (auto self = weak.lock()) self->CheckLiveIdle();
    });
  }

  void CheckLiveIdle() {
    absl::Time last;
    {
      absl::MutexLock lock(&receiver_mu_);
      if (receiver_->complete()) return;
      last = last_frame_;
    }
    if (last + context_->limits.live_idle_timeout > absl::Now()) {
      WatchLiveIdle();
      return;
    }
    const absl::Status idle = absl::DeadlineExceededError(absl::StrCat(
        "the live stream sent no frame for ", absl::FormatDuration(context_->limits.live_idle_timeout),
        " (--live_idle_timeout); send frames or half-close to end it"));
    (void)context_->scheduler->Cancel(job_->id, idle);
    End(ToGrpc(idle));
  }

  UploadTracker* tracker_;
  std::weak_ptr<EstimateReactor> weak_;
  v1::EstimateRequest request_;  // the read in flight
  absl::Mutex receiver_mu_;
  std::optional<UploadReceiver> receiver_;
  bool begun_ = false;
  bool following_ = false;
  bool live_ = false;
  std::shared_ptr<ActiveJob> job_;
  absl::Time last_frame_;
  absl::Mutex state_mu_;
  bool read_waiting_ = false;
  std::string last_progress_;
  int listener_ = 0;
  uint64_t idle_timer_ = 0;
};

}  // namespace

grpc::ServerBidiReactor<v1::EstimateRequest, v1::EstimateResponse>* StartEstimate(
    ServiceContext* context, UploadTracker* tracker, grpc::CallbackServerContext* call) {
  auto reactor = std::make_shared<EstimateReactor>(context, tracker, call);
  reactor->Begin(reactor);
  return reactor.get();
}

}  // namespace depthd::server
