// WatchJob: the job's status each time it changes, until it ends.
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "server/job_state.h"
#include "server/reactors.h"

namespace depthd::server {
namespace {

class WatchReactor final : public grpc::ServerWriteReactor<v1::JobStatus>, public Abortable {
 public:
  WatchReactor(ServiceContext* context, grpc::CallbackServerContext* call)
      : context_(context), call_(call) {}

  void Begin(std::shared_ptr<WatchReactor> self, const v1::WatchJobRequest& request) {
    self_ = self;
    registry_ = context_->Register(std::weak_ptr<Abortable>(self));
    auto tenant = context_->Identify(call_);
    absl::StatusOr<JobRecord> record = tenant.ok() ? context_->FindJob(*tenant, request.job_id())
                                                   : absl::StatusOr<JobRecord>(tenant.status());
    if (!record.ok()) {
      End(ToGrpc(record.status()));
      return;
    }
    id_ = record->id;
    std::weak_ptr<WatchReactor> weak = self;
    Timers* timers = context_->timers;
    const std::string id = id_;
    listener_ = context_->store->AddListener([weak, id, timers](const JobRecord& now, v1::JobState) {
      if (now.id != id) return;
      timers->At(absl::Now(), [weak] {
        if (auto reactor = weak.lock()) reactor->Pump();
      });
    });
    Pump();
  }

  void OnWriteDone(bool ok) override {
    bool final;
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      final = sent_final_;
    }
    if (!ok) {
      End(grpc::Status(grpc::StatusCode::CANCELLED, "the client went away"));
    } else if (final) {
      End(grpc::Status::OK);
    } else {
      Pump();
    }
  }

  void OnCancel() override { End(grpc::Status(grpc::StatusCode::CANCELLED, "the client cancelled the call")); }

  void OnDone() override {
    context_->Unregister(registry_);
    if (listener_ != 0) {
      JobStore* store = context_->store;
      const int handle = listener_;
      context_->timers->At(absl::Now(), [store, handle] { store->RemoveListener(handle); });
    }
    {
      absl::MutexLock lock(&mu_);
      done_ = true;
    }
    self_.reset();
  }

  void Abort(const grpc::Status& status) override {
    {
      absl::MutexLock lock(&mu_);
      if (writing_) call_->TryCancel();
    }
    End(status);
  }

 private:
  // Writes the record when it differs from the last one written.
  void Pump() {
    const std::optional<JobRecord> record = context_->store->Get(id_);
    if (!record) {
      End(grpc::Status(grpc::StatusCode::NOT_FOUND, absl::StrCat("job ", id_, " was deleted")));
      return;
    }
    v1::JobStatus status;
    context_->FillStatus(*record, &status);
    status.clear_spec();
    const std::string key = status.SerializeAsString();
    {
      absl::MutexLock lock(&mu_);
      if (done_ || finished_ || writing_ || sent_final_ || key == last_) return;
      last_ = key;
      buffer_ = std::move(status);
      writing_ = true;
      sent_final_ = IsFinal(record->state);
    }
    StartWrite(&buffer_);
  }

  void End(const grpc::Status& status) {
    {
      absl::MutexLock lock(&mu_);
      if (finished_ || done_ || (writing_ && status.ok())) return;
      finished_ = true;
    }
    context_->CountRpc("WatchJob", status);
    Finish(status);
  }

  ServiceContext* context_;
  grpc::CallbackServerContext* call_;
  std::string id_;
  int listener_ = 0;
  int registry_ = 0;
  absl::Mutex mu_;
  bool done_ = false, finished_ = false, writing_ = false, sent_final_ = false;
  std::string last_;
  v1::JobStatus buffer_;
  std::shared_ptr<WatchReactor> self_;
};

}  // namespace

grpc::ServerWriteReactor<v1::JobStatus>* StartWatch(ServiceContext* context,
                                                    grpc::CallbackServerContext* call,
                                                    const v1::WatchJobRequest* request) {
  auto reactor = std::make_shared<WatchReactor>(context, call);
  reactor->Begin(reactor, *request);
  return reactor.get();
}

}  // namespace depthd::server
