#include "core/media/npy.h"

#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/media/half_float.h"

namespace depthd {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
// Room for the frame count to grow when the header is patched in place.
constexpr int kShapeFieldWidth = 24;

std::string Header(const std::string& dtype, const std::vector<int64_t>& shape,
                   bool pad_shape) {
  std::string shape_text = "(" + absl::StrJoin(shape, ", ") + (shape.size() == 1 ? ",)" : ")");
  if (pad_shape && shape_text.size() < kShapeFieldWidth) {
    shape_text.append(kShapeFieldWidth - shape_text.size(), ' ');
  }
  std::string dict = "{'descr': '" + dtype + "', 'fortran_order': False, 'shape': " + shape_text +
                     ", }";
  // Preamble (10 bytes) + dict + padding + '\n' is a multiple of 64.
  const size_t total = 10 + dict.size() + 1;
  dict.append((64 - total % 64) % 64, ' ');
  dict.push_back('\n');
  std::string header(kMagic, 6);
  header.push_back('\x01');
  header.push_back('\x00');
  header.push_back(static_cast<char>(dict.size() & 0xff));
  header.push_back(static_cast<char>((dict.size() >> 8) & 0xff));
  return header + dict;
}

int ItemSize(const std::string& dtype) {
  if (dtype == "<f4") return 4;
  if (dtype == "<f2" || dtype == "<u2") return 2;
  if (dtype == "|u1") return 1;
  return 0;
}

}  // namespace

absl::StatusOr<std::vector<float>> NpyArray::AsFloat() const {
  const int item = ItemSize(dtype);
  if (item == 0) return absl::InvalidArgumentError(absl::StrCat("unsupported dtype ", dtype));
  const size_t n = data.size() / item;
  std::vector<float> out(n);
  for (size_t i = 0; i < n; ++i) {
    const char* p = data.data() + i * item;
    if (dtype == "<f4") {
      std::memcpy(&out[i], p, 4);
    } else if (dtype == "<f2") {
      uint16_t h;
      std::memcpy(&h, p, 2);
      out[i] = HalfToFloat(h);
    } else if (dtype == "<u2") {
      uint16_t v;
      std::memcpy(&v, p, 2);
      out[i] = v;
    } else {
      out[i] = static_cast<unsigned char>(*p);
    }
  }
  return out;
}

absl::Status WriteNpyFloat32(const std::string& path, const float* data,
                             const std::vector<int64_t>& shape) {
  std::ofstream out(path, std::ios::binary);
  if (!out) return absl::PermissionDeniedError(absl::StrCat("cannot write ", path));
  const std::string header = Header("<f4", shape, /*pad_shape=*/false);
  out.write(header.data(), header.size());
  int64_t count = 1;
  for (int64_t d : shape) count *= d;
  out.write(reinterpret_cast<const char*>(data), count * sizeof(float));
  if (!out) return absl::DataLossError(absl::StrCat("short write to ", path));
  return absl::OkStatus();
}

absl::StatusOr<NpyArray> ReadNpy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  char preamble[10];
  if (!in.read(preamble, 10) || std::memcmp(preamble, kMagic, 6) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is not a .npy file"));
  }
  size_t header_length;
  if (preamble[6] == 1) {
    header_length = static_cast<unsigned char>(preamble[8]) |
                    (static_cast<unsigned char>(preamble[9]) << 8);
  } else {
    char more[2];
    in.read(more, 2);
    header_length = static_cast<unsigned char>(preamble[8]) |
                    (static_cast<unsigned char>(preamble[9]) << 8) |
                    (static_cast<unsigned char>(more[0]) << 16) |
                    (static_cast<unsigned char>(more[1]) << 24);
  }
  std::string header(header_length, '\0');
  if (!in.read(header.data(), header_length)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": truncated header"));
  }
  std::smatch match;
  NpyArray array;
  if (!std::regex_search(header, match, std::regex("'descr':\\s*'([^']+)'"))) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": header has no descr"));
  }
  array.dtype = match[1];
  if (ItemSize(array.dtype) == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": dtype ", array.dtype, " is not supported (<f4, <f2, <u2, |u1)"));
  }
  if (std::regex_search(header, std::regex("'fortran_order':\\s*True"))) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": Fortran-ordered arrays are not supported"));
  }
  if (!std::regex_search(header, match, std::regex("'shape':\\s*\\(([^)]*)\\)"))) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": header has no shape"));
  }
  std::stringstream dims(match[1].str());
  std::string item;
  int64_t count = 1;
  while (std::getline(dims, item, ',')) {
    if (item.find_first_not_of(' ') == std::string::npos) continue;
    array.shape.push_back(std::stoll(item));
    count *= array.shape.back();
  }
  array.data.resize(count * ItemSize(array.dtype));
  if (!in.read(array.data.data(), array.data.size())) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": truncated data"));
  }
  return array;
}

absl::StatusOr<NpyFrameWriter> NpyFrameWriter::Open(const std::string& path, int height,
                                                    int width) {
  NpyFrameWriter writer;
  writer.file_ = std::fopen(path.c_str(), "wb");
  if (!writer.file_) return absl::PermissionDeniedError(absl::StrCat("cannot write ", path));
  writer.path_ = path;
  writer.height_ = height;
  writer.width_ = width;
  const std::string header = Header("<f4", {0, height, width}, /*pad_shape=*/true);
  std::fwrite(header.data(), 1, header.size(), writer.file_);
  return writer;
}

NpyFrameWriter::NpyFrameWriter(NpyFrameWriter&& other) noexcept { *this = std::move(other); }

NpyFrameWriter& NpyFrameWriter::operator=(NpyFrameWriter&& other) noexcept {
  if (this != &other) {
    if (file_) std::fclose(file_);
    file_ = other.file_;
    path_ = std::move(other.path_);
    height_ = other.height_;
    width_ = other.width_;
    frames_ = other.frames_;
    other.file_ = nullptr;
  }
  return *this;
}

NpyFrameWriter::~NpyFrameWriter() { (void)Close(); }

absl::Status NpyFrameWriter::Append(const float* frame) {
  if (!file_) return absl::FailedPreconditionError("npy writer is closed");
  const size_t n = static_cast<size_t>(height_) * width_;
  if (std::fwrite(frame, sizeof(float), n, file_) != n) {
    return absl::DataLossError(absl::StrCat("short write to ", path_));
  }
  ++frames_;
  return absl::OkStatus();
}

absl::Status NpyFrameWriter::Close() {
  if (!file_) return absl::OkStatus();
  const std::string header = Header("<f4", {frames_, height_, width_}, /*pad_shape=*/true);
  std::fseek(file_, 0, SEEK_SET);
  std::fwrite(header.data(), 1, header.size(), file_);
  const bool ok = std::fclose(file_) == 0;
  file_ = nullptr;
  if (!ok) return absl::DataLossError(absl::StrCat("cannot finish ", path_));
  return absl::OkStatus();
}

absl::StatusOr<NpyFrameFile> NpyFrameFile::Open(const std::string& path) {
  NpyFrameFile file;
  file.file_ = std::fopen(path.c_str(), "r+b");
  if (!file.file_) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  file.path_ = path;
  char preamble[10];
  if (std::fread(preamble, 1, 10, file.file_) != 10 || std::memcmp(preamble, kMagic, 6) != 0 ||
      preamble[6] != 1) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is not a version 1 .npy file"));
  }
  const size_t header_length = static_cast<unsigned char>(preamble[8]) |
                               (static_cast<unsigned char>(preamble[9]) << 8);
  std::string header(header_length, '\0');
  if (std::fread(header.data(), 1, header_length, file.file_) != header_length) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": truncated header"));
  }
  std::smatch match;
  long long n = 0, h = 0, w = 0;
  if (header.find("'descr': '<f4'") == std::string::npos ||
      !std::regex_search(header, match, std::regex("'shape':\\s*\\(([^)]*)\\)")) ||
      std::sscanf(match[1].str().c_str(), "%lld, %lld, %lld", &n, &h, &w) != 3 || n < 0 || h <= 0 ||
      w <= 0 || h > (1 << 16) || w > (1 << 16)) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is not an [N, H, W] float32 array"));
  }
  file.data_offset_ = static_cast<int64_t>(10 + header_length);
  file.frames_ = n;
  file.height_ = static_cast<int>(h);
  file.width_ = static_cast<int>(w);
  return file;
}

NpyFrameFile::NpyFrameFile(NpyFrameFile&& other) noexcept
    : file_(other.file_),
      path_(std::move(other.path_)),
      data_offset_(other.data_offset_),
      frames_(other.frames_),
      height_(other.height_),
      width_(other.width_) {
  other.file_ = nullptr;
}

NpyFrameFile::~NpyFrameFile() {
  if (file_) std::fclose(file_);
}

absl::Status NpyFrameFile::Read(int64_t index, float* frame) const {
  const size_t n = static_cast<size_t>(height_) * width_;
  if (index < 0 || index >= frames_ ||
      std::fseek(file_, data_offset_ + index * static_cast<int64_t>(n * sizeof(float)), SEEK_SET) != 0 ||
      std::fread(frame, sizeof(float), n, file_) != n) {
    return absl::DataLossError(absl::StrCat("cannot read frame ", index, " of ", path_));
  }
  return absl::OkStatus();
}

absl::Status NpyFrameFile::Write(int64_t index, const float* frame) {
  const size_t n = static_cast<size_t>(height_) * width_;
  if (index < 0 || index >= frames_ ||
      std::fseek(file_, data_offset_ + index * static_cast<int64_t>(n * sizeof(float)), SEEK_SET) != 0 ||
      std::fwrite(frame, sizeof(float), n, file_) != n) {
    return absl::DataLossError(absl::StrCat("cannot write frame ", index, " of ", path_));
  }
  return absl::OkStatus();
}

absl::StatusOr<NpyFrameWriter> NpyFrameWriter::OpenAppend(const std::string& path) {
  absl::StatusOr<NpyFrameFile> existing = NpyFrameFile::Open(path);
  if (!existing.ok()) return existing.status();
  NpyFrameWriter writer;
  writer.file_ = std::fopen(path.c_str(), "r+b");
  if (!writer.file_) return absl::PermissionDeniedError(absl::StrCat("cannot write ", path));
  writer.path_ = path;
  writer.height_ = existing->height();
  writer.width_ = existing->width();
  writer.frames_ = existing->frames();
  const std::string header = Header("<f4", {writer.frames_, writer.height_, writer.width_}, true);
  const int64_t end = static_cast<int64_t>(header.size()) +
                      writer.frames_ * writer.height_ * writer.width_ * static_cast<int64_t>(sizeof(float));
  std::fseek(writer.file_, end, SEEK_SET);
  return writer;
}

}  // namespace depthd
