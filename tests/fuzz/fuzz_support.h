// Helpers shared by the libFuzzer targets in tests/fuzz.
#ifndef DEPTHD_TESTS_FUZZ_FUZZ_SUPPORT_H_
#define DEPTHD_TESTS_FUZZ_FUZZ_SUPPORT_H_

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

// A property the code under test promises, checked on every input: a violation is a crash that
// libFuzzer records like any other.
#define FUZZ_CHECK(condition)                                                                 \
  do {                                                                                        \
    if (!(condition)) {                                                                       \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                           \
    }                                                                                         \
  } while (0)

namespace depthd::fuzz {

inline std::string_view Bytes(const uint8_t* data, size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

// An in-memory file (memfd) that readers taking a path open as /proc/self/fd/N, so each input
// is read through the real file path without touching the disk.
class MemoryFile {
 public:
  MemoryFile() : fd_(memfd_create("depthd-fuzz", MFD_CLOEXEC)) {
    if (fd_ < 0) {
      std::perror("memfd_create");
      std::abort();
    }
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  ~MemoryFile() { close(fd_); }
  MemoryFile(const MemoryFile&) = delete;
  MemoryFile& operator=(const MemoryFile&) = delete;

  // Replaces the contents with `bytes`; returns the path to open.
  const std::string& Write(std::string_view bytes) {
    if (ftruncate(fd_, 0) != 0) std::abort();
    size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = pwrite(fd_, bytes.data() + done, bytes.size() - done, done);
      if (n <= 0) std::abort();
      done += static_cast<size_t>(n);
    }
    return path_;
  }
  const std::string& path() const { return path_; }

 private:
  int fd_;
  std::string path_;
};

}  // namespace depthd::fuzz

#endif  // DEPTHD_TESTS_FUZZ_FUZZ_SUPPORT_H_
