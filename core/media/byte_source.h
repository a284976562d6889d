// Bytes a decoder reads: an in-memory buffer, a local file, or (in the server) an upload that is
// still arriving. Readers may block until the bytes they ask for exist.
#ifndef DEPTHD_CORE_MEDIA_BYTE_SOURCE_H_
#define DEPTHD_CORE_MEDIA_BYTE_SOURCE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace depthd {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to `n` bytes at `offset`; 0 means the end. A growing source blocks until the bytes
  // exist or the source is complete, and fails when it was abandoned.
  virtual absl::StatusOr<size_t> ReadAt(int64_t offset, char* dst, size_t n) = 0;
  // Total size; a growing source blocks until it is complete.
  virtual absl::StatusOr<int64_t> Size() = 0;
  // The total size if it is known now, else -1 (a growing source before its end). Never blocks,
  // so a demuxer that asks for the size of an upload still arriving can carry on without it.
  virtual int64_t known_size() const = 0;
};

// A view of `bytes`, which must outlive the source.
std::unique_ptr<ByteSource> MemorySource(std::string_view bytes);
// A local file (NOT_FOUND when missing).
absl::StatusOr<std::unique_ptr<ByteSource>> FileSource(const std::string& path);

}  // namespace depthd

#endif  // DEPTHD_CORE_MEDIA_BYTE_SOURCE_H_
