#include "core/media/npy.h"

#include <charconv>
#include <cstring>
#include <fstream>
#include <string_view>

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

// Elements of `shape`: 0 when a dimension is 0 (whatever the others), else their product. False
// for a negative dimension or a product beyond 64 bits.
bool ElementCount(const std::vector<int64_t>& shape, uint64_t* count) {
  bool zero = false, overflow = false;
  *count = 1;
  for (int64_t d : shape) {
    if (d < 0) return false;
    zero = zero || d == 0;
    overflow = overflow || __builtin_mul_overflow(*count, static_cast<uint64_t>(d), count);
  }
  if (zero) *count = 0;
  return zero || !overflow;
}

// The header's Python dict literal, as numpy.save writes it:
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
struct HeaderDict {
  std::string descr;
  bool fortran_order = false;
  std::vector<int64_t> shape;
};

// The text after `'key':` (spaces skipped), or npos when the key is missing.
size_t ValueOf(std::string_view header, std::string_view key) {
  const std::string quoted = "'" + std::string(key) + "'";
  size_t at = header.find(quoted);
  if (at == std::string_view::npos) return at;
  at = header.find_first_not_of(' ', at + quoted.size());
  if (at == std::string_view::npos || header[at] != ':') return std::string_view::npos;
  at = header.find_first_not_of(' ', at + 1);
  return at == std::string_view::npos ? header.size() : at;
}

absl::StatusOr<HeaderDict> ParseHeader(std::string_view header) {
  HeaderDict dict;
  size_t at = ValueOf(header, "descr");
  if (at == std::string_view::npos || at >= header.size() || header[at] != '\'') {
    return absl::InvalidArgumentError("header has no descr");
  }
  const size_t end = header.find('\'', at + 1);
  if (end == std::string_view::npos) return absl::InvalidArgumentError("header has no descr");
  dict.descr = std::string(header.substr(at + 1, end - at - 1));

  at = ValueOf(header, "fortran_order");
  if (at == std::string_view::npos) {
    return absl::InvalidArgumentError("header has no fortran_order");
  }
  if (header.substr(at, 4) == "True") {
    dict.fortran_order = true;
  } else if (header.substr(at, 5) != "False") {
    return absl::InvalidArgumentError("header's fortran_order is neither True nor False");
  }

  at = ValueOf(header, "shape");
  if (at == std::string_view::npos || at >= header.size() || header[at] != '(') {
    return absl::InvalidArgumentError("header has no shape");
  }
  const size_t close = header.find(')', at);
  if (close == std::string_view::npos) return absl::InvalidArgumentError("header has no shape");
  // Comma-separated non-negative integers; "(3,)" has one, "()" none (a scalar).
  const std::string_view items = header.substr(at + 1, close - at - 1);
  for (size_t begin = 0; begin <= items.size();) {
    size_t comma = items.find(',', begin);
    if (comma == std::string_view::npos) comma = items.size();
    std::string_view item = items.substr(begin, comma - begin);
    begin = comma + 1;
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.empty()) continue;
    int64_t d = 0;
    const auto [rest, error] = std::from_chars(item.data(), item.data() + item.size(), d);
    if (error != std::errc() || rest != item.data() + item.size() || d < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("header's shape has '", std::string(item), "', not a size"));
    }
    dict.shape.push_back(d);
  }
  return dict;
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
  uint64_t count = 0;
  if (!ElementCount(shape, &count) || count > (uint64_t{1} << 61)) {
    return absl::InvalidArgumentError(absl::StrCat("cannot write ", path, ": shape (",
                                                   absl::StrJoin(shape, ", "), ") is impossible"));
  }
  out.write(reinterpret_cast<const char*>(data),
            static_cast<std::streamsize>(count * sizeof(float)));
  if (!out) return absl::DataLossError(absl::StrCat("short write to ", path));
  return absl::OkStatus();
}

absl::StatusOr<NpyArray> ReadNpy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  in.seekg(0, std::ios::end);
  const std::streamoff file_size = in.tellg();
  in.seekg(0, std::ios::beg);
  auto bad = [&](const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
  };
  char preamble[12];
  if (file_size < 10 || !in.read(preamble, 10) || std::memcmp(preamble, kMagic, 6) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is not a .npy file"));
  }
  // Version 1.0 has a 2-byte header length, 2.0 and 3.0 (UTF-8 header) a 4-byte one.
  const int major = static_cast<unsigned char>(preamble[6]);
  if (major < 1 || major > 3) return bad(absl::StrCat("unknown .npy format version ", major));
  const int length_bytes = major == 1 ? 2 : 4;
  if (length_bytes == 4 && !in.read(preamble + 10, 2)) return bad("truncated header");
  uint64_t header_length = 0;
  for (int i = length_bytes - 1; i >= 0; --i) {
    header_length = (header_length << 8) | static_cast<unsigned char>(preamble[8 + i]);
  }
  const uint64_t header_start = 8 + length_bytes;
  // Nothing is allocated for more than the file holds.
  if (header_length > static_cast<uint64_t>(file_size) - header_start) {
    return bad(absl::StrCat("the header claims ", header_length, " bytes; the file has ",
                            static_cast<uint64_t>(file_size) - header_start,
                            " after the preamble"));
  }
  std::string header(header_length, '\0');
  if (!in.read(header.data(), static_cast<std::streamsize>(header_length))) {
    return bad("truncated header");
  }
  NpyArray array;
  absl::StatusOr<HeaderDict> parsed = ParseHeader(header);
  if (!parsed.ok()) return bad(std::string(parsed.status().message()));
  HeaderDict& dict = *parsed;
  array.dtype = std::move(dict.descr);
  if (ItemSize(array.dtype) == 0) {
    return bad(absl::StrCat("dtype ", array.dtype, " is not supported (<f4, <f2, <u2, |u1)"));
  }
  if (dict.fortran_order) return bad("Fortran-ordered arrays are not supported");
  array.shape = std::move(dict.shape);
  uint64_t count = 0;
  const bool counted = ElementCount(array.shape, &count);
  const uint64_t item = static_cast<uint64_t>(ItemSize(array.dtype));
  const uint64_t data_bytes = static_cast<uint64_t>(file_size) - header_start - header_length;
  if (!counted || count > data_bytes / item) {
    return bad(absl::StrCat("truncated data: shape (", absl::StrJoin(array.shape, ", "), ") of ",
                            array.dtype, " needs more than the ", data_bytes,
                            " bytes after the header"));
  }
  array.data.resize(count * item);
  if (!in.read(array.data.data(), static_cast<std::streamsize>(array.data.size()))) {
    return bad("truncated data");
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
  const absl::StatusOr<HeaderDict> dict = ParseHeader(header);
  if (!dict.ok() || dict->descr != "<f4" || dict->fortran_order || dict->shape.size() != 3 ||
      dict->shape[1] <= 0 || dict->shape[2] <= 0 || dict->shape[1] > (1 << 16) ||
      dict->shape[2] > (1 << 16)) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is not an [N, H, W] float32 array"));
  }
  const int64_t n = dict->shape[0], h = dict->shape[1], w = dict->shape[2];
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
