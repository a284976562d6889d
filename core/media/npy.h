// NumPy .npy files (format version 1.0, little-endian, C order) that numpy.load reads.
#ifndef DEPTHD_CORE_MEDIA_NPY_H_
#define DEPTHD_CORE_MEDIA_NPY_H_

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace depthd {

struct NpyArray {
  std::string dtype;  // numpy descr: "<f4", "<f2", "<u2", "|u1"
  std::vector<int64_t> shape;
  std::vector<char> data;  // raw little-endian bytes, C order

  // Converts "<f4", "<f2", "<u2", "|u1" data to float32.
  absl::StatusOr<std::vector<float>> AsFloat() const;
};

absl::Status WriteNpyFloat32(const std::string& path, const float* data,
                             const std::vector<int64_t>& shape);
absl::StatusOr<NpyArray> ReadNpy(const std::string& path);

// Writes [N, H, W] float32 frame by frame, so the whole video never sits in memory; the frame
// count in the header is patched on Close().
class NpyFrameWriter {
 public:
  static absl::StatusOr<NpyFrameWriter> Open(const std::string& path, int height, int width);
  // Continues a file an NpyFrameWriter wrote (and closed), after its last frame.
  static absl::StatusOr<NpyFrameWriter> OpenAppend(const std::string& path);
  NpyFrameWriter(NpyFrameWriter&& other) noexcept;
  NpyFrameWriter& operator=(NpyFrameWriter&& other) noexcept;
  ~NpyFrameWriter();

  absl::Status Append(const float* frame);  // height * width values
  absl::Status Close();
  int64_t frames_written() const { return frames_; }

 private:
  NpyFrameWriter() = default;
  std::FILE* file_ = nullptr;
  std::string path_;
  int height_ = 0, width_ = 0;
  int64_t frames_ = 0;
};

// An [N, H, W] float32 .npy as NpyFrameWriter writes it, opened to read or rewrite its frames in
// place (a client normalising frames it received in aligned units) or to append more (a fetch
// that resumes).
class NpyFrameFile {
 public:
  static absl::StatusOr<NpyFrameFile> Open(const std::string& path);
  NpyFrameFile(NpyFrameFile&& other) noexcept;
  ~NpyFrameFile();

  int64_t frames() const { return frames_; }
  int height() const { return height_; }
  int width() const { return width_; }
  absl::Status Read(int64_t index, float* frame) const;
  absl::Status Write(int64_t index, const float* frame);

 private:
  NpyFrameFile() = default;
  std::FILE* file_ = nullptr;
  std::string path_;
  int64_t data_offset_ = 0, frames_ = 0;
  int height_ = 0, width_ = 0;
};

}  // namespace depthd

#endif  // DEPTHD_CORE_MEDIA_NPY_H_
