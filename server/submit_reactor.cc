// SubmitJob: the upload only. Answers once the upload is complete and durable; the job is then
// the server's, whatever happens to the client.
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "server/job_state.h"
#include "server/reactors.h"

namespace depthd::server {
namespace {

class SubmitReactor final : public grpc::ServerReadReactor<v1::EstimateRequest> {
 public:
  SubmitReactor(ServiceContext* context, UploadTracker* tracker, grpc::CallbackServerContext* call,
                v1::JobStatus* response)
      : context_(context), tracker_(tracker), call_(call), response_(response) {
    auto tenant = context_->Identify(call_);
    if (!tenant.ok() || context_->draining) {
      const absl::Status refused =
          !tenant.ok() ? tenant.status()
                       : absl::UnavailableError("depthd is shutting down; retry on another server");
      context_->metrics->CountJob(Outcome(refused));
      End(refused);
      return;
    }
    receiver_.emplace(context_, tracker_, *tenant);
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    std::optional<absl::Status> end;
    bool read_more = false;
    {
      absl::MutexLock lock(&mu_);
      if (finished_) return;
      if (!ok) {
        if (!begun_) {
          end = absl::InvalidArgumentError(
              "the stream ended before a JobSpec; send a JobSpec first, then the video");
        } else if (call_->IsCancelled()) {
          receiver_->Broken(absl::CancelledError("the client went away during the upload"), false);
          end = absl::CancelledError("the client went away during the upload");
        } else {
          auto ack = receiver_->Complete();
          if (ack.ok()) {
            end = absl::OkStatus();
          } else {
            receiver_->Broken(ack.status(), /*final=*/true);
            end = ack.status();
          }
        }
      } else {
        std::vector<v1::EstimateResponse> ignored;  // SubmitJob answers once, at the end
        if (!begun_) {
          begun_ = true;
          auto first = receiver_->Begin(request_);
          if (!first.ok()) end = first.status();
          if (first.ok() && receiver_->live()) {
            end = absl::InvalidArgumentError("a live job streams its frames back: use Estimate, not SubmitJob");
          }
        } else {
          auto next = receiver_->Add(request_, nullptr, &ignored);
          if (!next.ok()) {
            receiver_->Broken(next.status(), /*final=*/true);
            end = next.status();
          }
        }
        read_more = !end.has_value();
      }
      if (end && !end->ok() && !receiver_->job()) context_->metrics->CountJob(Outcome(*end));
      if (end && end->ok()) {
        const std::optional<JobRecord> record = context_->store->Get(receiver_->job()->id);
        if (record) context_->FillStatus(*record, response_);
      }
    }
    if (end) {
      End(*end);
      return;
    }
    if (read_more) StartRead(&request_);
  }

  void OnCancel() override {
    {
      absl::MutexLock lock(&mu_);
      if (receiver_ && begun_ && !receiver_->complete()) {
        receiver_->Broken(absl::CancelledError("the client went away during the upload"), false);
      }
    }
    End(absl::CancelledError("the client cancelled the call"));
  }

  void OnDone() override { delete this; }

 private:
  void End(const absl::Status& status) {
    {
      absl::MutexLock lock(&mu_);
      if (finished_) return;
      finished_ = true;
    }
    const grpc::Status grpc_status = ToGrpc(status);
    context_->CountRpc("SubmitJob", grpc_status);
    Finish(grpc_status);
  }

  ServiceContext* context_;
  UploadTracker* tracker_;
  grpc::CallbackServerContext* call_;
  v1::JobStatus* response_;
  v1::EstimateRequest request_;
  absl::Mutex mu_;
  std::optional<UploadReceiver> receiver_;
  bool begun_ = false;
  bool finished_ = false;
};

}  // namespace

grpc::ServerReadReactor<v1::EstimateRequest>* StartSubmit(ServiceContext* context,
                                                          UploadTracker* tracker,
                                                          grpc::CallbackServerContext* call,
                                                          v1::JobStatus* response) {
  return new SubmitReactor(context, tracker, call, response);
}

}  // namespace depthd::server
