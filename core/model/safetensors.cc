#include "core/model/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/media/half_float.h"

namespace depthd {
namespace {

// A JSON header larger than this is not a checkpoint header (the format's own limit is 100 MB).
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

std::string ShapeText(const std::vector<int64_t>& shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

}  // namespace

size_t SafetensorsDtypeSize(const std::string& dtype) {
  if (dtype == "F64" || dtype == "I64" || dtype == "U64") return 8;
  if (dtype == "F32" || dtype == "I32" || dtype == "U32") return 4;
  if (dtype == "F16" || dtype == "BF16" || dtype == "I16" || dtype == "U16") return 2;
  if (dtype == "I8" || dtype == "U8" || dtype == "BOOL") return 1;
  return 0;
}

int64_t SafetensorsView::NumElements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

SafetensorsFile::~SafetensorsFile() {
  if (mapping_ != nullptr) munmap(mapping_, mapping_size_);
}

absl::StatusOr<std::unique_ptr<SafetensorsFile>> SafetensorsFile::Open(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const std::string reason = std::strerror(errno);
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat(path, ": no such file"));
    return absl::InvalidArgumentError(absl::StrCat("cannot open ", path, ": ", reason));
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return absl::InvalidArgumentError(absl::StrCat(path, " is not a regular file"));
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  auto bad = [&](const std::string& what) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, " is not a valid .safetensors file: ", what));
  };
  if (size < 8) {
    close(fd);
    return bad(absl::StrCat("it has ", size, " bytes, fewer than the 8-byte header length"));
  }
  void* mapping = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (mapping == MAP_FAILED) {
    return absl::InvalidArgumentError(absl::StrCat("cannot map ", path, ": ", std::strerror(errno)));
  }
  std::unique_ptr<SafetensorsFile> file(new SafetensorsFile());
  file->path_ = path;
  file->mapping_ = mapping;
  file->mapping_size_ = size;
  const auto* bytes = static_cast<const std::byte*>(mapping);

  uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i) header_size = (header_size << 8) | static_cast<uint8_t>(bytes[i]);
  if (header_size > kMaxHeaderBytes || header_size > size - 8) {
    return bad(absl::StrCat("the header claims ", header_size, " bytes but the file has ",
                            size - 8, " after the length (truncated?)"));
  }
  const char* header_text = reinterpret_cast<const char*>(bytes + 8);
  nlohmann::json header = nlohmann::json::parse(header_text, header_text + header_size,
                                                /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded() || !header.is_object()) {
    return bad("the header is not a JSON object");
  }
  const std::byte* data = bytes + 8 + header_size;
  const uint64_t data_size = size - 8 - header_size;

  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) return bad("__metadata__ is not an object");
      for (const auto& [key, value] : entry.items()) {
        if (value.is_string()) file->metadata_[key] = value.get<std::string>();
      }
      continue;
    }
    if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") ||
        !entry.contains("data_offsets") || !entry["dtype"].is_string() ||
        !entry["shape"].is_array() || !entry["data_offsets"].is_array() ||
        entry["data_offsets"].size() != 2) {
      return bad(absl::StrCat("tensor '", name, "' lacks dtype, shape or data_offsets"));
    }
    SafetensorsView view;
    view.dtype = entry["dtype"].get<std::string>();
    const size_t element = SafetensorsDtypeSize(view.dtype);
    if (element == 0) return bad(absl::StrCat("tensor '", name, "' has unknown dtype ", view.dtype));
    // The product of the dimensions but the zeros stays within int64_t bytes, so the shape (held
    // as int64_t) and NumElements() are exact even when a 0 makes the tensor empty.
    uint64_t elements = 1, nonzero = 1;
    constexpr uint64_t kMaxBytes = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    for (const auto& d : entry["shape"]) {
      if (!d.is_number_unsigned()) return bad(absl::StrCat("tensor '", name, "' has a bad shape"));
      const uint64_t v = d.get<uint64_t>();
      if (v != 0 && nonzero > kMaxBytes / v / element) {
        return bad(absl::StrCat("tensor '", name, "' is impossibly large"));
      }
      if (v != 0) nonzero *= v;
      elements *= v;
      view.shape.push_back(static_cast<int64_t>(v));
    }
    const auto& offsets = entry["data_offsets"];
    if (!offsets[0].is_number_unsigned() || !offsets[1].is_number_unsigned()) {
      return bad(absl::StrCat("tensor '", name, "' has bad data_offsets"));
    }
    const uint64_t begin = offsets[0].get<uint64_t>(), end = offsets[1].get<uint64_t>();
    if (begin > end || end > data_size) {
      return bad(absl::StrCat("tensor '", name, "' spans bytes [", begin, ", ", end, ") but the data has ",
                              data_size, " bytes (truncated?)"));
    }
    if (end - begin != elements * element) {
      return bad(absl::StrCat("tensor '", name, "' is ", end - begin, " bytes but ", view.dtype, " ",
                              ShapeText(view.shape), " needs ", elements * element));
    }
    view.data = data + begin;
    view.bytes = end - begin;
    file->tensors_.emplace(name, std::move(view));
  }
  return file;
}

absl::StatusOr<SafetensorsView> SafetensorsFile::Get(const std::string& name,
                                                     const std::vector<int64_t>& shape) const {
  const auto it = tensors_.find(name);
  if (it == tensors_.end()) {
    return absl::NotFoundError(absl::StrCat(path_, " has no weight '", name, "'"));
  }
  if (it->second.shape != shape) {
    return absl::InvalidArgumentError(absl::StrCat(path_, ": weight '", name, "' has shape ",
                                                   ShapeText(it->second.shape), ", expected ",
                                                   ShapeText(shape)));
  }
  return it->second;
}

absl::StatusOr<std::vector<float>> SafetensorsFile::ToFloat(const SafetensorsView& view) {
  const int64_t n = view.NumElements();
  std::vector<float> out(static_cast<size_t>(n));
  if (view.dtype == "F32") {
    // An empty tensor ([0, 3]) has no buffer to copy into: memcpy's pointers must not be null.
    if (view.bytes > 0) std::memcpy(out.data(), view.data, view.bytes);
  } else if (view.dtype == "F16" || view.dtype == "BF16") {
    const bool brain = view.dtype == "BF16";
    for (int64_t i = 0; i < n; ++i) {
      uint16_t h;
      std::memcpy(&h, view.data + 2 * i, 2);
      if (brain) {
        const uint32_t bits = static_cast<uint32_t>(h) << 16;
        std::memcpy(&out[i], &bits, 4);
      } else {
        out[i] = HalfToFloat(h);
      }
    }
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot convert ", view.dtype, " weights to float32"));
  }
  return out;
}

}  // namespace depthd
