#include "server/upload_receiver.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/media/image_header.h"
#include "core/status_macros.h"
#include "server/job_state.h"

namespace depthd::server {
namespace {

constexpr int64_t kMaxChunkBytes = 1 << 20;
constexpr int64_t kAckEveryBytes = 8 << 20;
constexpr absl::Duration kAckEvery = absl::Seconds(1);

v1::EstimateResponse UploadMessage(int64_t bytes, int frames, bool complete, bool durable) {
  v1::EstimateResponse response;
  v1::UploadReceived* upload = response.mutable_upload();
  upload->set_bytes(bytes);
  upload->set_frames(frames);
  upload->set_complete(complete);
  upload->set_durable(durable);
  return response;
}

// A frame's size before it is kept: from the image header (nothing decoded) or the raw size.
absl::Status CheckFrame(const v1::Frame& frame, int64_t max_pixels, int index) {
  int64_t pixels = 0;
  if (frame.has_raw_rgb()) {
    const v1::RawImage& raw = frame.raw_rgb();
    if (raw.width() <= 0 || raw.height() <= 0) {
      return absl::InvalidArgumentError(absl::StrCat("frame ", index, ": raw size ", raw.width(),
                                                     "x", raw.height(), " must be positive"));
    }
    pixels = static_cast<int64_t>(raw.width()) * raw.height();
    if (static_cast<int64_t>(raw.data().size()) != pixels * 3) {
      return absl::InvalidArgumentError(absl::StrCat("frame ", index, ": raw frame has ",
                                                     raw.data().size(), " bytes, expected ",
                                                     raw.width(), "*", raw.height(), "*3"));
    }
  } else if (frame.image_case() == v1::Frame::kEncoded) {
    absl::StatusOr<ImageHeader> header = ReadImageHeader(frame.encoded());
    if (!header.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("frame ", index, ": ", header.status().message()));
    }
    pixels = header->width * header->height;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("frame ", index, " carries neither an encoded image nor raw_rgb"));
  }
  if (pixels > max_pixels) {
    return absl::ResourceExhaustedError(absl::StrCat("frame ", index, " has ", pixels,
                                                     " pixels, above the limit of ", max_pixels,
                                                     " (--max_pixels)"));
  }
  return absl::OkStatus();
}

}  // namespace

UploadTracker::~UploadTracker() {
  std::vector<uint64_t> timers;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [id, entry] : entries_) timers.push_back(entry.timer);
  }
  for (uint64_t timer : timers) context_->timers->Cancel(timer);
}

void UploadTracker::Arm(const std::string& id, absl::Time at) {
  entries_[id].timer = context_->timers->At(at, [this, id] { Expire(id); });
}

void UploadTracker::Start(std::shared_ptr<ActiveJob> job) {
  absl::MutexLock lock(&mu_);
  const std::string id = job->id;
  entries_[id] = Entry{std::move(job), absl::Now(), true, 0};
  Arm(id, absl::Now() + context_->limits.upload_idle_timeout);
}

void UploadTracker::Touch(const std::string& id) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(id);
  if (it != entries_.end()) it->second.last = absl::Now();
}

void UploadTracker::Detach(const std::string& id) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  it->second.attached = false;
  it->second.last = absl::Now();
}

absl::StatusOr<std::shared_ptr<ActiveJob>> UploadTracker::Attach(const std::string& tenant,
                                                                 const std::string& id) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second.job->tenant != tenant) {
    return absl::NotFoundError(absl::StrCat("no upload in progress for job '", id,
                                            "' (it completed, ended, or never existed)"));
  }
  if (it->second.attached) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the upload of job ", id, " is still carried by another stream; end that one first"));
  }
  it->second.attached = true;
  it->second.last = absl::Now();
  return it->second.job;
}

void UploadTracker::Stop(const std::string& id) {
  uint64_t timer = 0;
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(id);
    if (it == entries_.end()) return;
    timer = it->second.timer;
    entries_.erase(it);
  }
  context_->timers->Cancel(timer);
}

void UploadTracker::Expire(const std::string& id) {
  std::shared_ptr<ActiveJob> job;
  absl::Status why;
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(id);
    if (it == entries_.end()) return;
    const absl::Time due = it->second.last + context_->limits.upload_idle_timeout;
    if (due > absl::Now()) {
      Arm(id, due);  // a message came since: wait for the rest of the limit
      return;
    }
    const std::string limit = absl::FormatDuration(context_->limits.upload_idle_timeout);
    why = it->second.attached
              ? absl::DeadlineExceededError(absl::StrCat(
                    "no upload message for ", limit, " (--upload_idle_timeout); the job is cancelled"))
              : absl::CancelledError(absl::StrCat(
                    "the client went away during the upload and did not resume it within ", limit,
                    " (--upload_idle_timeout)"));
    job = it->second.job;
    entries_.erase(it);
  }
  context_->scheduler->UploadFailed(job, why);
}

absl::StatusOr<std::vector<v1::EstimateResponse>> UploadReceiver::Begin(const v1::EstimateRequest& first) {
  std::vector<v1::EstimateResponse> out;
  begun_ = true;
  if (first.payload_case() == v1::EstimateRequest::kResume) {
    DEPTHD_ASSIGN_OR_RETURN(job_, tracker_->Attach(tenant_, first.resume().job_id()));
    spec_message_ = v1::JobSpec();
    frames_ = job_->frames_upload;
    DEPTHD_ASSIGN_OR_RETURN(UploadSpool::Durable durable, job_->upload->Sync());
    received_bytes_ = acknowledged_bytes_ = durable.bytes;
    received_frames_ = durable.frames;
    (void)context_->store->RecordUpload(job_->id, durable.bytes, durable.frames);
    v1::EstimateResponse accepted;
    accepted.mutable_accepted()->set_job_id(job_->id);
    accepted.mutable_accepted()->set_queue_position(std::max(0, context_->scheduler->Position(job_->id)));
    accepted.mutable_accepted()->set_latency_frames(job_->spec.latency_frames);
    accepted.mutable_accepted()->set_replica_address(context_->advertise_address);
    out.push_back(std::move(accepted));
    out.push_back(UploadMessage(durable.bytes, durable.frames, false, true));
    spec_ = job_->spec;
    return out;
  }
  if (first.payload_case() != v1::EstimateRequest::kSpec) {
    return absl::InvalidArgumentError(
        "the first message must be a JobSpec (or a ResumeUpload), then VideoChunk or Frame messages");
  }
  spec_message_ = first.spec();
  DEPTHD_ASSIGN_OR_RETURN(spec_, ResolveJobSpec(spec_message_, context_->model, context_->limits.job,
                                                context_->limits.defaults));
  DEPTHD_RETURN_IF_ERROR(context_->CheckDisk());
  return out;
}

absl::Status UploadReceiver::Admit(bool frames, std::vector<v1::EstimateResponse>* out) {
  frames_ = frames;
  JobRecord record;
  record.id = NewJobId();
  record.tenant = tenant_;
  record.spec = spec_message_;
  record.live = spec_.live;
  record.frames_upload = frames;
  DEPTHD_ASSIGN_OR_RETURN(job_, context_->scheduler->Admit(std::move(record), spec_));
  if (!spec_.live) tracker_->Start(job_);
  v1::EstimateResponse accepted;
  v1::Accepted* a = accepted.mutable_accepted();
  a->set_job_id(job_->id);
  a->set_queue_position(std::max(0, context_->scheduler->Position(job_->id)));
  a->set_latency_frames(spec_.latency_frames);
  a->set_replica_address(context_->advertise_address);
  a->set_coalign_scope(CoalignScopeName(spec_.session.scope));
  a->set_normalization(spec_.session.normalization == Normalization::kGlobal
                           ? v1::NORMALIZATION_GLOBAL
                           : spec_.session.normalization == Normalization::kAligned
                                 ? v1::NORMALIZATION_ALIGNED
                                 : v1::NORMALIZATION_RUNNING);
  out->push_back(std::move(accepted));
  last_ack_ = upload_started_ = absl::Now();
  return absl::OkStatus();
}

absl::Status UploadReceiver::MaybeAcknowledge(bool force, std::vector<v1::EstimateResponse>* out) {
  // The first message is acknowledged at once (a client learns early that resuming works),
  // then every 8 MiB or second.
  const bool first = acknowledged_bytes_ == 0;
  if (!force && !first && received_bytes_ - acknowledged_bytes_ < kAckEveryBytes &&
      absl::Now() - last_ack_ < kAckEvery) {
    return absl::OkStatus();
  }
  DEPTHD_ASSIGN_OR_RETURN(UploadSpool::Durable durable, job_->upload->Sync());
  DEPTHD_RETURN_IF_ERROR(context_->store->RecordUpload(job_->id, durable.bytes, durable.frames));
  acknowledged_bytes_ = durable.bytes;
  last_ack_ = absl::Now();
  out->push_back(UploadMessage(durable.bytes, durable.frames, false, true));
  context_->scheduler->UploadProgressed(job_);
  return absl::OkStatus();
}

absl::StatusOr<UploadReceiver::Next> UploadReceiver::Add(v1::EstimateRequest& message,
                                                         std::function<void()> on_space,
                                                         std::vector<v1::EstimateResponse>* out) {
  if (job_ && job_->cancelled) {
    const absl::Status why = job_->why_cancelled();
    return why.ok() ? absl::CancelledError("the job was cancelled") : why;
  }
  switch (message.payload_case()) {
    case v1::EstimateRequest::kSpec:
      return absl::InvalidArgumentError("a second JobSpec arrived; send exactly one, first");
    case v1::EstimateRequest::kResume:
      return absl::InvalidArgumentError("ResumeUpload must be the first message of a call");
    case v1::EstimateRequest::kChunk: {
      if (job_ && frames_) return absl::InvalidArgumentError("VideoChunk after Frame messages; send one kind");
      if (spec_.live) {
        return absl::InvalidArgumentError("a live job takes Frame messages, not VideoChunk bytes");
      }
      const std::string& data = message.chunk().data();
      if (static_cast<int64_t>(data.size()) > kMaxChunkBytes) {
        return absl::InvalidArgumentError(absl::StrCat("a VideoChunk of ", data.size(),
                                                       " bytes exceeds the 1 MiB chunk limit"));
      }
      if (received_bytes_ + static_cast<int64_t>(data.size()) > context_->limits.job.max_upload_bytes) {
        return absl::ResourceExhaustedError(absl::StrCat("the upload exceeds ",
                                                         context_->limits.job.max_upload_bytes,
                                                         " bytes (--max_upload_bytes)"));
      }
      if (!job_) DEPTHD_RETURN_IF_ERROR(Admit(/*frames=*/false, out));
      DEPTHD_RETURN_IF_ERROR(job_->upload->AppendBytes(data));
      received_bytes_ += static_cast<int64_t>(data.size());
      tracker_->Touch(job_->id);
      DEPTHD_RETURN_IF_ERROR(MaybeAcknowledge(false, out));
      return Next::kRead;
    }
    case v1::EstimateRequest::kFrame: {
      if (job_ && !frames_) return absl::InvalidArgumentError("Frame after VideoChunk messages; send one kind");
      const int index = received_frames_;
      DEPTHD_RETURN_IF_ERROR(CheckFrame(message.frame(), context_->limits.job.max_pixels, index));
      const int64_t size = static_cast<int64_t>(message.frame().ByteSizeLong());
      if (!spec_.live) {
        if (received_frames_ >= context_->limits.job.max_frames + spec_.read.start_frame) {
          return absl::ResourceExhaustedError(absl::StrCat(
              "more than ", context_->limits.job.max_frames, " frames (--max_frames)"));
        }
        if (received_bytes_ + size > context_->limits.job.max_upload_bytes) {
          return absl::ResourceExhaustedError(absl::StrCat(
              "the upload exceeds ", context_->limits.job.max_upload_bytes, " bytes (--max_upload_bytes)"));
        }
      }
      if (!job_) DEPTHD_RETURN_IF_ERROR(Admit(/*frames=*/true, out));
      ++received_frames_;
      received_bytes_ += size;
      if (spec_.live) {
        if (!spec_.skip_frames || !job_->input->full()) {
          return job_->input->Push(index, message.frame(), std::move(on_space)) ? Next::kRead
                                                                                : Next::kWait;
        }
        // Behind: this frame is skipped and said so; the stream keeps its pace.
        job_->input->Skipped();
        context_->metrics->CountFramesSkipped(1);
        v1::EstimateResponse skipped;
        skipped.mutable_skipped()->set_input_index(index);
        skipped.mutable_skipped()->set_reason("the device is behind the stream");
        out->push_back(std::move(skipped));
        return Next::kRead;
      }
      DEPTHD_RETURN_IF_ERROR(job_->upload->AppendFrame(message.frame()));
      tracker_->Touch(job_->id);
      DEPTHD_RETURN_IF_ERROR(MaybeAcknowledge(false, out));
      return Next::kRead;
    }
    default:
      return absl::InvalidArgumentError("an empty EstimateRequest arrived");
  }
}

absl::StatusOr<v1::EstimateResponse> UploadReceiver::Complete() {
  if (!job_) {
    return absl::InvalidArgumentError(
        "no video arrived: send VideoChunk or Frame messages after the JobSpec");
  }
  if (spec_.live) {
    job_->input->Close();
    complete_ = true;
    return UploadMessage(received_bytes_, received_frames_, true, false);
  }
  DEPTHD_ASSIGN_OR_RETURN(UploadSpool::Durable durable, job_->upload->Complete());
  job_->upload_seconds = absl::ToDoubleSeconds(absl::Now() - upload_started_);
  DEPTHD_RETURN_IF_ERROR(context_->scheduler->UploadCompleted(job_, durable.bytes, durable.frames));
  tracker_->Stop(job_->id);
  complete_ = true;
  return UploadMessage(durable.bytes, durable.frames, true, true);
}

void UploadReceiver::Broken(const absl::Status& why, bool final) {
  if (!job_ || complete_) return;
  if (spec_.live) {
    job_->input->Abandon(why);
    (void)context_->scheduler->Cancel(job_->id, why);
    return;
  }
  if (final) {
    tracker_->Stop(job_->id);
    context_->scheduler->UploadFailed(job_, why);
    return;
  }
  tracker_->Detach(job_->id);
}

}  // namespace depthd::server
