// Reads .safetensors files (the format of diffusers checkpoints): an 8-byte little-endian header
// length, a JSON header naming every tensor (dtype, shape, data offsets), then the raw data.
// The data is memory-mapped; tensors are views into it, valid while the file object lives.
#ifndef DEPTHD_CORE_MODEL_SAFETENSORS_H_
#define DEPTHD_CORE_MODEL_SAFETENSORS_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace depthd {

struct SafetensorsView {
  std::string dtype;            // "F32", "F16", "BF16", ... as in the header
  std::vector<int64_t> shape;
  const std::byte* data = nullptr;
  size_t bytes = 0;

  int64_t NumElements() const;
};

class SafetensorsFile {
 public:
  // INVALID_ARGUMENT (with the path and what is wrong) for truncated or malformed files;
  // NOT_FOUND when the file does not exist.
  static absl::StatusOr<std::unique_ptr<SafetensorsFile>> Open(const std::string& path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  const std::map<std::string, SafetensorsView>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  // The tensor called `name` with exactly `shape`; NOT_FOUND or INVALID_ARGUMENT naming it.
  absl::StatusOr<SafetensorsView> Get(const std::string& name,
                                      const std::vector<int64_t>& shape) const;

  // Element values converted to float32 (F32, F16 and BF16).
  static absl::StatusOr<std::vector<float>> ToFloat(const SafetensorsView& view);

 private:
  SafetensorsFile() = default;

  std::string path_;
  void* mapping_ = nullptr;
  size_t mapping_size_ = 0;
  std::map<std::string, SafetensorsView> tensors_;
  std::map<std::string, std::string> metadata_;
};

// Bytes per element of a safetensors dtype; 0 for unknown names.
size_t SafetensorsDtypeSize(const std::string& dtype);

}  // namespace depthd

#endif  // DEPTHD_CORE_MODEL_SAFETENSORS_H_
