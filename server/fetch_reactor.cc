// FetchResult: a job's depth frames from `from_frame` on, as they become final while it runs,
// then its Summary.
#include <memory>

#include "absl/strings/str_cat.h"
#include "server/reactors.h"
#include "server/response_stream.h"

namespace depthd::server {
namespace {

using FetchBase = grpc::ServerWriteReactor<v1::EstimateResponse>;

class FetchReactor final : public ResponseStream<FetchBase> {
 public:
  FetchReactor(ServiceContext* context, grpc::CallbackServerContext* call)
      : ResponseStream(context, call, "FetchResult") {}

  void Begin(std::shared_ptr<FetchReactor> self, const v1::FetchResultRequest& request) {
    Own(self);
    absl::StatusOr<std::shared_ptr<JobResult>> result = Find(request);
    if (!result.ok()) {
      End(ToGrpc(result.status()));
      return;
    }
    Follow(*std::move(result), request.from_frame());
    Pump();
  }

  void OnCancel() override { End(grpc::Status(grpc::StatusCode::CANCELLED, "the client cancelled the call")); }

 private:
  absl::StatusOr<std::shared_ptr<JobResult>> Find(const v1::FetchResultRequest& request) {
    auto tenant = context_->Identify(call_);
    if (!tenant.ok()) return tenant.status();
    if (request.from_frame() < 0) return absl::InvalidArgumentError("from_frame must be >= 0");
    auto record = context_->FindJob(*tenant, request.job_id());
    if (!record.ok()) return record.status();
    if (record->live) {
      return absl::FailedPreconditionError(absl::StrCat(
          "job ", record->id, " is live: its frames are only on its own Estimate stream"));
    }
    return context_->results->Find(*record);
  }
};

}  // namespace

grpc::ServerWriteReactor<v1::EstimateResponse>* StartFetch(ServiceContext* context,
                                                           grpc::CallbackServerContext* call,
                                                           const v1::FetchResultRequest* request) {
  auto reactor = std::make_shared<FetchReactor>(context, call);
  reactor->Begin(reactor, *request);
  return reactor.get();
}

}  // namespace depthd::server
