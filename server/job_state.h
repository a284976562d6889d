// The job state machine: which changes are allowed, and what a job's end means for the
// depthd_jobs_total metric. The JobStore applies it to every change it makes.
//
//   UPLOADING -> QUEUED (upload complete and durable) | RUNNING (live, or streamed while uploading)
//             | CANCELLED (client cancelled or abandoned the upload) | FAILED (bad upload)
//   QUEUED    -> RUNNING | CANCELLED
//   RUNNING   -> SUCCEEDED | FAILED | CANCELLED | QUEUED (the server stopped; it runs again)
//   SUCCEEDED, FAILED, CANCELLED: final.
#ifndef DEPTHD_SERVER_JOB_STATE_H_
#define DEPTHD_SERVER_JOB_STATE_H_

#include <string>

#include "absl/status/status.h"
#include "depthd/v1/depthd.pb.h"

namespace depthd::server {

bool IsFinal(v1::JobState state);
bool CanMove(v1::JobState from, v1::JobState to);

// The state a job ends in for the status it ended with.
v1::JobState FinalState(const absl::Status& status);

// depthd_jobs_total's outcome: succeeded | invalid (the client's input) | failed (the server's
// fault) | cancelled | rejected (limits, queue, draining, credentials).
std::string Outcome(const absl::Status& status);

}  // namespace depthd::server

#endif  // DEPTHD_SERVER_JOB_STATE_H_
