// One reactor per stream (gRPC's callback API): at most one read and one write in flight, so
// gRPC's flow control holds a fast sender or a slow reader without a thread per stream.
// Reactions never block; the heavy work runs on the job's own thread.
#ifndef DEPTHD_SERVER_REACTORS_H_
#define DEPTHD_SERVER_REACTORS_H_

#include <grpcpp/grpcpp.h>

#include "depthd/v1/depthd.grpc.pb.h"
#include "server/service_context.h"
#include "server/upload_receiver.h"

namespace depthd::server {

grpc::ServerBidiReactor<v1::EstimateRequest, v1::EstimateResponse>* StartEstimate(
    ServiceContext* context, UploadTracker* tracker, grpc::CallbackServerContext* call);
grpc::ServerReadReactor<v1::EstimateRequest>* StartSubmit(ServiceContext* context,
                                                          UploadTracker* tracker,
                                                          grpc::CallbackServerContext* call,
                                                          v1::JobStatus* response);
grpc::ServerWriteReactor<v1::EstimateResponse>* StartFetch(ServiceContext* context,
                                                           grpc::CallbackServerContext* call,
                                                           const v1::FetchResultRequest* request);
grpc::ServerWriteReactor<v1::JobStatus>* StartWatch(ServiceContext* context,
                                                    grpc::CallbackServerContext* call,
                                                    const v1::WatchJobRequest* request);

}  // namespace depthd::server

#endif  // DEPTHD_SERVER_REACTORS_H_
