#include "server/job_result.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace depthd::server {
namespace {

namespace fs = std::filesystem;
constexpr char kFrames[] = "frames.bin";
constexpr char kSummary[] = "summary.pb";

absl::Status DiskError(const char* doing) {
  if (errno == ENOSPC || errno == EDQUOT) {
    return absl::ResourceExhaustedError(absl::StrCat("the server's disk is full while ", doing));
  }
  return absl::InternalError(absl::StrCat(doing, " failed: ", std::strerror(errno)));
}

}  // namespace

absl::StatusOr<std::shared_ptr<JobResult>> JobResult::CreateOnDisk(const std::string& dir) {
  std::error_code error;
  fs::remove_all(dir, error);
  fs::create_directories(dir, error);
  if (error) return absl::InternalError(absl::StrCat("cannot create the job's result folder: ", error.message()));
  const int fd = ::open((dir + "/" + kFrames).c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return DiskError("creating the job's result file");
  auto result = std::shared_ptr<JobResult>(new JobResult(dir, fd, 0));
  absl::MutexLock lock(&result->mu_);
  result->offsets_.push_back(0);
  return result;
}

absl::StatusOr<std::shared_ptr<JobResult>> JobResult::OpenOnDisk(const std::string& dir) {
  const int fd = ::open((dir + "/" + kFrames).c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return absl::NotFoundError("the job's results are gone from the server's disk");
  auto result = std::shared_ptr<JobResult>(new JobResult(dir, fd, 0));
  std::ifstream in(dir + "/" + kSummary, std::ios::binary);
  v1::Summary summary;
  if (!in || !summary.ParseFromIstream(&in)) {
    return absl::DataLossError("the job's result has no readable Summary");
  }
  struct stat st;
  ::fstat(fd, &st);
  absl::MutexLock lock(&result->mu_);
  int64_t offset = 0;
  result->offsets_.push_back(0);
  while (offset + 4 <= st.st_size) {
    uint32_t length = 0;
    if (::pread(fd, &length, 4, offset) != 4 || offset + 4 + length > st.st_size) break;
    offset += 4 + length;
    result->offsets_.push_back(offset);
  }
  result->frames_ = static_cast<int>(result->offsets_.size()) - 1;
  if (result->frames_ != summary.frames()) {
    return absl::DataLossError("the job's result holds fewer frames than its Summary");
  }
  result->bytes_ = offset;
  result->summary_ = std::move(summary);
  return result;
}

std::shared_ptr<JobResult> JobResult::InMemory(int capacity) {
  return std::shared_ptr<JobResult>(new JobResult("", -1, std::max(1, capacity)));
}

JobResult::JobResult(std::string dir, int fd, int capacity)
    : dir_(std::move(dir)), fd_(fd), capacity_(capacity) {}

JobResult::~JobResult() {
  if (fd_ >= 0) ::close(fd_);
}

absl::Status JobResult::Append(const v1::DepthFrame& frame, absl::Duration stall) {
  if (in_memory()) {
    absl::MutexLock lock(&mu_);
    auto room = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return frames_ - consumed_ < capacity_ || !failed_.ok();
    };
    if (!mu_.AwaitWithTimeout(absl::Condition(&room), stall)) {
      return absl::CancelledError(absl::StrCat(
          "the client read no depth frame for ", absl::FormatDuration(stall),
          " (--write_stall_timeout) while the live job's frames waited; the job is cancelled"));
    }
    if (!failed_.ok()) return failed_;
    recent_.push_back(frame);
    ++frames_;
    while (static_cast<int>(recent_.size()) > capacity_ + 1) {
      recent_.pop_front();
      ++first_recent_;
    }
  } else {
    std::string record(4, '\0');
    const uint32_t length = static_cast<uint32_t>(frame.ByteSizeLong());
    std::memcpy(record.data(), &length, 4);
    record += frame.SerializeAsString();
    int64_t offset;
    {
      absl::MutexLock lock(&mu_);
      offset = offsets_.back();
    }
    const char* data = record.data();
    size_t n = record.size();
    while (n > 0) {
      const ssize_t put = ::pwrite(fd_, data, n, offset);
      if (put < 0 && errno == EINTR) continue;
      if (put <= 0) return DiskError("writing a depth frame");
      data += put;
      n -= static_cast<size_t>(put);
      offset += put;
    }
    absl::MutexLock lock(&mu_);
    offsets_.push_back(offset);
    ++frames_;
    bytes_ = offset;
  }
  NotifyAll();
  return absl::OkStatus();
}

absl::Status JobResult::Finish(const v1::Summary& summary) {
  if (!in_memory()) {
    // The Summary marks a complete result: written only after the frames are durable.
    if (::fdatasync(fd_) != 0) return DiskError("syncing the depth frames");
    const std::string tmp = dir_ + "/" + kSummary + ".tmp";
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      if (!summary.SerializeToOstream(&out)) return absl::ResourceExhaustedError("cannot write the Summary");
      out.flush();
      if (!out) return absl::ResourceExhaustedError("cannot write the Summary (disk full?)");
    }
    const int fd = ::open(tmp.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      ::fsync(fd);
      ::close(fd);
    }
    if (::rename(tmp.c_str(), (dir_ + "/" + kSummary).c_str()) != 0) return DiskError("saving the Summary");
    const int dir_fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {
      ::fsync(dir_fd);
      ::close(dir_fd);
    }
  }
  absl::MutexLock lock(&mu_);
  sealed_ = summary;
  return absl::OkStatus();
}

void JobResult::Publish() {
  {
    absl::MutexLock lock(&mu_);
    if (!sealed_ || !failed_.ok()) return;
    summary_ = std::move(sealed_);
    sealed_.reset();
  }
  NotifyAll();
}

void JobResult::Fail(const absl::Status& status) {
  {
    absl::MutexLock lock(&mu_);
    if (failed_.ok() && !summary_) failed_ = status;
  }
  NotifyAll();
}

void JobResult::Remove(const absl::Status& why) {
  {
    absl::MutexLock lock(&mu_);
    failed_ = why;
    summary_.reset();
  }
  if (!in_memory()) {
    // Emptied as well as removed, so the space is free while a reader still holds the file.
    if (::ftruncate(fd_, 0) != 0) {
      // remove_all below still takes the names
    }
    std::error_code error;
    fs::remove_all(dir_, error);
  }
  NotifyAll();
}

absl::StatusOr<std::optional<JobResult::Item>> JobResult::TryRead(int index) {
  int64_t begin = 0, end = 0;
  {
    absl::MutexLock lock(&mu_);
    if (!failed_.ok()) return failed_;
    if (index >= frames_) {
      if (summary_ && index == frames_) return std::optional<Item>(Item{std::nullopt, *summary_});
      if (summary_) return absl::OutOfRangeError(absl::StrCat("the job has ", frames_, " frames"));
      return std::optional<Item>();
    }
    if (in_memory()) {
      if (index < first_recent_) {
        return absl::OutOfRangeError(absl::StrCat(
            "frame ", index, " of the live job is gone; frames from ", first_recent_, " are held"));
      }
      return std::optional<Item>(Item{recent_[index - first_recent_], std::nullopt});
    }
    begin = offsets_[index];
    end = offsets_[index + 1];
  }
  std::string record(static_cast<size_t>(end - begin), '\0');
  if (::pread(fd_, record.data(), record.size(), begin) != static_cast<ssize_t>(record.size())) {
    return absl::DataLossError("cannot read a stored depth frame");
  }
  v1::DepthFrame frame;
  if (record.size() < 4 || !frame.ParseFromArray(record.data() + 4, static_cast<int>(record.size() - 4))) {
    return absl::DataLossError("a stored depth frame is damaged");
  }
  return std::optional<Item>(Item{std::move(frame), std::nullopt});
}

void JobResult::Consumed(int index) {
  absl::MutexLock lock(&mu_);
  consumed_ = std::max(consumed_, index);
}

int JobResult::Watch(std::function<void()> notify) {
  absl::MutexLock lock(&watch_mu_);
  watchers_.emplace_back(next_watch_, std::move(notify));
  return next_watch_++;
}

void JobResult::Unwatch(int handle) {
  absl::MutexLock lock(&watch_mu_);
  watchers_.erase(std::remove_if(watchers_.begin(), watchers_.end(),
                                 [&](const auto& w) { return w.first == handle; }),
                  watchers_.end());
}

void JobResult::NotifyAll() {
  absl::ReaderMutexLock lock(&watch_mu_);
  for (const auto& [handle, notify] : watchers_) notify();
}

int JobResult::frames() const {
  absl::MutexLock lock(&mu_);
  return frames_;
}

int64_t JobResult::bytes() const {
  absl::MutexLock lock(&mu_);
  return bytes_;
}

bool JobResult::complete() const {
  absl::MutexLock lock(&mu_);
  return summary_.has_value();
}

}  // namespace depthd::server
