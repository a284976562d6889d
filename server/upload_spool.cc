#include "server/upload_spool.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"

namespace depthd::server {
namespace {

absl::Status DiskError(const char* doing) {
  const int error = errno;
  if (error == ENOSPC || error == EDQUOT) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the server's disk is full while ", doing, "; retry later"));
  }
  return absl::InternalError(absl::StrCat(doing, " failed: ", std::strerror(error)));
}

void SyncDirectory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

// The container bytes for the decoder, blocking for bytes that have not arrived yet.
class SpoolReader final : public ByteSource {
 public:
  SpoolReader(std::shared_ptr<UploadSpool> spool, const std::atomic<bool>* cancelled)
      : spool_(std::move(spool)), cancelled_(cancelled) {}

  absl::StatusOr<size_t> ReadAt(int64_t offset, char* dst, size_t n) override {
    DEPTHD_RETURN_IF_ERROR(spool_->WaitFor(offset + 1, cancelled_));
    const int64_t have = spool_->bytes();
    if (offset >= have) return 0;
    const size_t count = static_cast<size_t>(std::min<int64_t>(n, have - offset));
    while (true) {
      const ssize_t got = ::pread(spool_->fd_, dst, count, offset);
      // Nothing where bytes were written: the upload was removed (it failed, or its job ended)
      // while this reader was past WaitFor. Not the video's end (CI's load test saw the cut read
      // as a video FFmpeg does not recognise, and the job FAILED instead of CANCELLED).
      if (got == 0) return spool_->WhyRemoved(cancelled_);
      if (got > 0) return static_cast<size_t>(got);
      if (errno != EINTR) return absl::DataLossError("cannot read the spooled upload");
    }
  }
  absl::StatusOr<int64_t> Size() override {
    DEPTHD_RETURN_IF_ERROR(spool_->WaitFor(INT64_MAX, cancelled_));
    return spool_->bytes();
  }
  int64_t known_size() const override { return spool_->complete() ? spool_->bytes() : -1; }

 private:
  std::shared_ptr<UploadSpool> spool_;
  const std::atomic<bool>* cancelled_;
};

std::string UploadSpool::FileName(const std::string& job_id, bool frames) {
  return job_id + (frames ? ".frames" : ".video");
}

absl::StatusOr<std::shared_ptr<UploadSpool>> UploadSpool::Create(const std::string& dir,
                                                                 const std::string& job_id,
                                                                 bool frames, bool sync) {
  const std::string path = dir + "/" + FileName(job_id, frames);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return DiskError("creating the upload's file");
  if (sync) SyncDirectory(dir);
  return std::shared_ptr<UploadSpool>(new UploadSpool(path, fd, frames, sync));
}

absl::StatusOr<std::shared_ptr<UploadSpool>> UploadSpool::OpenComplete(const std::string& dir,
                                                                       const std::string& job_id,
                                                                       bool frames, int64_t bytes,
                                                                       int frames_count) {
  const std::string path = dir + "/" + FileName(job_id, frames);
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return absl::DataLossError("the job's upload is gone from the server's disk");
  struct stat st;
  if (::fstat(fd, &st) != 0 || st.st_size < bytes) {
    ::close(fd);
    return absl::DataLossError("the job's upload on the server's disk is shorter than acknowledged");
  }
  // Bytes past the acknowledged end were never acknowledged: drop them.
  if (st.st_size > bytes && ::ftruncate(fd, bytes) != 0) {
    ::close(fd);
    return DiskError("trimming the upload");
  }
  std::shared_ptr<UploadSpool> spool(new UploadSpool(path, fd, frames, true));
  absl::MutexLock lock(&spool->mu_);
  spool->written_ = bytes;
  spool->complete_ = true;
  if (frames) {
    // Rebuild the record index: [u32 length][Frame].
    int64_t offset = 0;
    while (offset + 4 <= bytes) {
      uint32_t length = 0;
      if (::pread(fd, &length, 4, offset) != 4 || offset + 4 + length > bytes) break;
      spool->record_offsets_.push_back(offset);
      offset += 4 + length;
    }
    if (static_cast<int>(spool->record_offsets_.size()) != frames_count) {
      return absl::DataLossError("the job's spooled frames do not match what was acknowledged");
    }
    spool->frames_written_ = frames_count;
  }
  return spool;
}

UploadSpool::UploadSpool(std::string path, int fd, bool frames, bool sync)
    : path_(std::move(path)), fd_(fd), frames_mode_(frames), sync_(sync) {}

UploadSpool::~UploadSpool() { ::close(fd_); }

absl::Status UploadSpool::Write(const char* data, size_t n) {
  int64_t offset;
  {
    absl::MutexLock lock(&mu_);
    offset = written_;
  }
  while (n > 0) {
    const ssize_t put = ::pwrite(fd_, data, n, offset);
    if (put < 0 && errno == EINTR) continue;
    if (put <= 0) {
      if (put == 0) errno = ENOSPC;
      return DiskError("writing the upload");
    }
    data += put;
    n -= static_cast<size_t>(put);
    offset += put;
  }
  return absl::OkStatus();
}

absl::Status UploadSpool::AppendBytes(std::string_view data) {
  DEPTHD_RETURN_IF_ERROR(Write(data.data(), data.size()));
  absl::MutexLock lock(&mu_);
  written_ += static_cast<int64_t>(data.size());
  return absl::OkStatus();
}

absl::Status UploadSpool::AppendFrame(const v1::Frame& frame) {
  std::string record(4, '\0');
  const uint32_t length = static_cast<uint32_t>(frame.ByteSizeLong());
  std::memcpy(record.data(), &length, 4);
  record += frame.SerializeAsString();
  DEPTHD_RETURN_IF_ERROR(Write(record.data(), record.size()));
  absl::MutexLock lock(&mu_);
  record_offsets_.push_back(written_);
  written_ += static_cast<int64_t>(record.size());
  ++frames_written_;
  return absl::OkStatus();
}

absl::StatusOr<UploadSpool::Durable> UploadSpool::Sync() {
  Durable durable;
  {
    absl::MutexLock lock(&mu_);
    durable = {written_, frames_written_};
  }
  if (sync_ && ::fdatasync(fd_) != 0) return DiskError("syncing the upload");
  return durable;
}

absl::StatusOr<UploadSpool::Durable> UploadSpool::Complete() {
  DEPTHD_ASSIGN_OR_RETURN(Durable durable, Sync());
  absl::MutexLock lock(&mu_);
  complete_ = true;
  return durable;
}

void UploadSpool::Abandon(const absl::Status& why) {
  absl::MutexLock lock(&mu_);
  if (!complete_ && abandoned_.ok()) abandoned_ = why;
}

void UploadSpool::Wake() {
  absl::MutexLock lock(&mu_);
  ++wakes_;
}

void UploadSpool::Remove() {
  // Emptied as well as unlinked: the space is free at once, even while someone holds the file.
  if (::ftruncate(fd_, 0) != 0) {
    // Nothing more to do: the unlink below still removes the name.
  }
  ::unlink(path_.c_str());
}

absl::Status UploadSpool::WhyRemoved(const std::atomic<bool>* cancelled) const {
  if (cancelled != nullptr && cancelled->load()) return absl::CancelledError("job cancelled");
  absl::MutexLock lock(&mu_);
  if (!abandoned_.ok()) return abandoned_;
  return absl::DataLossError("the spooled upload was removed while the job read it");
}

int64_t UploadSpool::bytes() const {
  absl::MutexLock lock(&mu_);
  return written_;
}

int UploadSpool::frames() const {
  absl::MutexLock lock(&mu_);
  return frames_written_;
}

bool UploadSpool::complete() const {
  absl::MutexLock lock(&mu_);
  return complete_;
}

absl::Status UploadSpool::WaitFor(int64_t end, const std::atomic<bool>* cancelled) {
  absl::MutexLock lock(&mu_);
  while (true) {
    if (cancelled != nullptr && cancelled->load()) return absl::CancelledError("job cancelled");
    if (written_ >= end || complete_) return absl::OkStatus();
    if (!abandoned_.ok()) return abandoned_;
    const int seen = wakes_;
    auto changed = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return written_ >= end || complete_ || !abandoned_.ok() || wakes_ != seen;
    };
    mu_.Await(absl::Condition(&changed));
  }
}

absl::Status UploadSpool::WaitForRecord(int index, const std::atomic<bool>* cancelled) {
  absl::MutexLock lock(&mu_);
  while (true) {
    if (cancelled != nullptr && cancelled->load()) return absl::CancelledError("job cancelled");
    if (frames_written_ > index || complete_) return absl::OkStatus();
    if (!abandoned_.ok()) return abandoned_;
    const int seen = wakes_;
    auto changed = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return frames_written_ > index || complete_ || !abandoned_.ok() || wakes_ != seen;
    };
    mu_.Await(absl::Condition(&changed));
  }
}

std::unique_ptr<ByteSource> UploadSpool::Reader(const std::atomic<bool>* cancelled) {
  return std::make_unique<SpoolReader>(shared_from_this(), cancelled);
}

absl::StatusOr<std::optional<v1::Frame>> UploadSpool::ReadFrame(int index,
                                                                const std::atomic<bool>* cancelled) {
  // Record `index` exists once the bytes of the next record's start (or the end) are in.
  DEPTHD_RETURN_IF_ERROR(WaitForRecord(index, cancelled));
  int64_t begin, end;
  {
    absl::MutexLock lock(&mu_);
    if (frames_written_ <= index) return std::optional<v1::Frame>();  // complete, and no more
    begin = record_offsets_[index];
    end = index + 1 < frames_written_ ? record_offsets_[index + 1] : written_;
  }
  std::string record(static_cast<size_t>(end - begin), '\0');
  if (::pread(fd_, record.data(), record.size(), begin) != static_cast<ssize_t>(record.size())) {
    return absl::DataLossError("cannot read a spooled frame");
  }
  v1::Frame frame;
  if (record.size() < 4 || !frame.ParseFromArray(record.data() + 4, static_cast<int>(record.size() - 4))) {
    return absl::DataLossError("a spooled frame is damaged");
  }
  return std::optional<v1::Frame>(std::move(frame));
}

}  // namespace depthd::server
