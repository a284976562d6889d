#include "client/estimate_call.h"

#include <algorithm>
#include <atomic>
#include <fstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "client/connection.h"

namespace depthd::client {
namespace {

namespace fs = std::filesystem;
constexpr size_t kChunkBytes = 1 << 20;

bool IsImage(const fs::path& p) {
  const std::string ext = absl::AsciiStrToLower(p.extension().string());
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp" || ext == ".webp" ||
         ext == ".tif" || ext == ".tiff";
}

// What the client knows of its job across streams.
struct JobProgress {
  absl::Mutex mu;
  std::string job_id ABSL_GUARDED_BY(mu);
  bool upload_complete ABSL_GUARDED_BY(mu) = false;
  bool resume_known ABSL_GUARDED_BY(mu) = false;  // the server said where to continue from
  int64_t resume_bytes ABSL_GUARDED_BY(mu) = 0;
  int resume_frames ABSL_GUARDED_BY(mu) = 0;
  int frames_delivered = 0;  // the reader's own
  bool summary = false;
};

// One Estimate stream: a new upload, or (resume) the rest of an earlier one.
grpc::Status OneStream(v1::DepthService::Stub& stub, const v1::JobSpec& spec,
                       const UploadSource& upload, const EstimateCallbacks& callbacks,
                       JobProgress& job, bool resume) {
  grpc::ClientContext context;
  Prepare(context);
  auto stream = stub.Estimate(&context);
  std::atomic<bool> stop{false};
  // The upload runs beside the reader so that Accepted and acknowledgements show during it.
  std::thread writer([&] {
    v1::EstimateRequest first;
    int64_t from_bytes = 0;
    int from_frame = 0;
    if (resume) {
      absl::MutexLock lock(&job.mu);
      first.mutable_resume()->set_job_id(job.job_id);
    } else {
      *first.mutable_spec() = spec;
    }
    if (!stream->Write(first)) return;
    if (resume) {
      absl::MutexLock lock(&job.mu);
      auto known = [&]() ABSL_SHARED_LOCKS_REQUIRED(job.mu) { return job.resume_known || stop.load(); };
      job.mu.Await(absl::Condition(&known));
      from_bytes = job.resume_bytes;
      from_frame = job.resume_frames;
    }
    int64_t sent = from_bytes;
    if (upload.folder) {
      for (size_t i = from_frame; i < upload.images.size() && !stop; ++i) {
        std::ifstream in(upload.images[i], std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        v1::EstimateRequest frame;
        sent += static_cast<int64_t>(bytes.size());
        frame.mutable_frame()->set_encoded(std::move(bytes));
        if (!stream->Write(frame)) return;
        if (callbacks.uploaded) callbacks.uploaded(sent, upload.total_bytes);
      }
    } else {
      std::ifstream in(upload.path, std::ios::binary);
      in.seekg(from_bytes);
      std::string buffer(kChunkBytes, '\0');
      while (in && !stop) {
        in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
        const std::streamsize n = in.gcount();
        if (n <= 0) break;
        v1::EstimateRequest chunk;
        chunk.mutable_chunk()->set_data(buffer.data(), static_cast<size_t>(n));
        if (!stream->Write(chunk)) return;
        sent += n;
        if (callbacks.uploaded) callbacks.uploaded(sent, upload.total_bytes);
      }
    }
    stream->WritesDone();
  });
  v1::EstimateResponse response;
  bool cancelled = false;
  while (stream->Read(&response)) {
    if (response.has_accepted()) {
      absl::MutexLock lock(&job.mu);
      job.job_id = response.accepted().job_id();
    }
    if (response.has_upload()) {
      absl::MutexLock lock(&job.mu);
      if (response.upload().complete()) job.upload_complete = true;
      if (resume && !job.resume_known) {
        job.resume_bytes = response.upload().bytes();
        job.resume_frames = response.upload().frames();
        job.resume_known = true;
      }
    }
    if (response.has_frame()) {
      if (response.frame().index() < job.frames_delivered) continue;  // seen before a re-attach
      ++job.frames_delivered;
    }
    if (response.has_summary()) job.summary = true;
    if (callbacks.response && !callbacks.response(response) && !cancelled) {
      cancelled = true;
      context.TryCancel();
    }
  }
  {
    absl::MutexLock lock(&job.mu);
    stop = true;  // a resume that never learnt its offset gives up
  }
  writer.join();
  return stream->Finish();
}

bool WaitToRetry(absl::Time deadline, int attempt, const EstimateCallbacks& callbacks,
                 const std::string& what) {
  const absl::Duration pause = std::min(absl::Milliseconds(250) * (1 << std::min(attempt, 4)), absl::Seconds(4));
  if (absl::Now() + pause > deadline) return false;
  if (callbacks.retrying) callbacks.retrying(what);
  absl::SleepFor(pause);
  return true;
}

}  // namespace

absl::StatusOr<UploadSource> OpenUpload(const std::string& path) {
  UploadSource source;
  source.path = path;
  std::error_code error;
  source.folder = fs::is_directory(path, error);
  if (source.folder) {
    for (const auto& entry : fs::directory_iterator(path)) {
      if (entry.is_regular_file() && IsImage(entry.path())) source.images.push_back(entry.path());
    }
    std::sort(source.images.begin(), source.images.end());
    if (source.images.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(path, " holds no images (png, jpg, bmp, tif, webp)"));
    }
    for (const auto& image : source.images) source.total_bytes += fs::file_size(image, error);
  } else {
    source.total_bytes = static_cast<int64_t>(fs::file_size(path, error));
    if (error) return absl::NotFoundError(absl::StrCat("cannot read ", path, ": ", error.message()));
  }
  return source;
}

grpc::Status FetchFrom(v1::DepthService::Stub& stub, const std::string& job_id, int from_frame,
                       const EstimateCallbacks& callbacks, absl::Duration retry_for) {
  const absl::Time deadline = absl::Now() + retry_for;
  int next = from_frame;
  for (int attempt = 0;; ++attempt) {
    grpc::ClientContext context;
    Prepare(context);
    v1::FetchResultRequest request;
    request.set_job_id(job_id);
    request.set_from_frame(next);
    auto reader = stub.FetchResult(&context, request);
    v1::EstimateResponse response;
    bool cancelled = false;
    while (reader->Read(&response)) {
      if (response.has_frame()) next = response.frame().index() + 1;
      if (callbacks.response && !callbacks.response(response) && !cancelled) {
        cancelled = true;
        context.TryCancel();
      }
    }
    const grpc::Status status = reader->Finish();
    if (!Transient(status) || cancelled ||
        !WaitToRetry(deadline, attempt, callbacks,
                     absl::StrCat("re-attaching to job ", job_id, " from frame ", next, " (",
                                  status.error_message(), ")"))) {
      return status;
    }
  }
}

grpc::Status RunEstimate(v1::DepthService::Stub& stub, const v1::JobSpec& spec,
                         const UploadSource& upload, const EstimateCallbacks& callbacks,
                         absl::Duration retry_for) {
  const absl::Time deadline = absl::Now() + retry_for;
  JobProgress job;
  bool resume = false;
  for (int attempt = 0;; ++attempt) {
    const grpc::Status status = OneStream(stub, spec, upload, callbacks, job, resume);
    if (status.ok() || !Transient(status)) return status;
    std::string id;
    bool complete;
    {
      absl::MutexLock lock(&job.mu);
      id = job.job_id;
      complete = job.upload_complete;
      job.resume_known = false;
    }
    if (id.empty()) {
      // Nothing was acknowledged: start again.
      if (!WaitToRetry(deadline, attempt, callbacks, absl::StrCat("retrying (", status.error_message(), ")"))) {
        return status;
      }
      continue;
    }
    if (complete) {
      // The job is the server's: its frames are fetched from where the stream broke.
      if (!WaitToRetry(deadline, attempt, callbacks,
                       absl::StrCat("re-attaching to job ", id, " (", status.error_message(), ")"))) {
        return status;
      }
      return FetchFrom(stub, id, job.frames_delivered, callbacks, deadline - absl::Now());
    }
    if (!WaitToRetry(deadline, attempt, callbacks,
                     absl::StrCat("resuming the upload of job ", id, " (", status.error_message(), ")"))) {
      return status;
    }
    resume = true;
  }
}

}  // namespace depthd::client
