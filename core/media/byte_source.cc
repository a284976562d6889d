#include "core/media/byte_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace depthd {
namespace {

class Memory final : public ByteSource {
 public:
  explicit Memory(std::string_view bytes) : bytes_(bytes) {}
  absl::StatusOr<size_t> ReadAt(int64_t offset, char* dst, size_t n) override {
    if (offset < 0 || offset >= static_cast<int64_t>(bytes_.size())) return 0;
    const size_t count = std::min(n, bytes_.size() - static_cast<size_t>(offset));
    std::memcpy(dst, bytes_.data() + offset, count);
    return count;
  }
  absl::StatusOr<int64_t> Size() override { return static_cast<int64_t>(bytes_.size()); }
  int64_t known_size() const override { return static_cast<int64_t>(bytes_.size()); }

 private:
  std::string_view bytes_;
};

class File final : public ByteSource {
 public:
  File(int fd, int64_t size) : fd_(fd), size_(size) {}
  ~File() override { ::close(fd_); }
  absl::StatusOr<size_t> ReadAt(int64_t offset, char* dst, size_t n) override {
    while (true) {
      const ssize_t got = ::pread(fd_, dst, n, offset);
      if (got >= 0) return static_cast<size_t>(got);
      if (errno != EINTR) return absl::DataLossError(absl::StrCat("read failed: ", std::strerror(errno)));
    }
  }
  absl::StatusOr<int64_t> Size() override { return size_; }
  int64_t known_size() const override { return size_; }

 private:
  int fd_;
  int64_t size_;
};

}  // namespace

std::unique_ptr<ByteSource> MemorySource(std::string_view bytes) {
  return std::make_unique<Memory>(bytes);
}

absl::StatusOr<std::unique_ptr<ByteSource>> FileSource(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat("no such file: ", path));
    return absl::InvalidArgumentError(absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return absl::InvalidArgumentError(absl::StrCat(path, " is not a regular file"));
  }
  return std::make_unique<File>(fd, static_cast<int64_t>(st.st_size));
}

}  // namespace depthd
