// A .safetensors checkpoint file: SafetensorsFile::Open over the bytes (the 8-byte header
// length, the JSON header, every tensor's dtype, shape and data offsets against the data), then
// Get and ToFloat on each tensor. Whatever the bytes, nothing crashes; every tensor accepted has
// exactly the bytes its dtype and shape need, inside the file.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "core/model/safetensors.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static depthd::fuzz::MemoryFile* file = new depthd::fuzz::MemoryFile();
  absl::StatusOr<std::unique_ptr<depthd::SafetensorsFile>> opened =
      depthd::SafetensorsFile::Open(file->Write(depthd::fuzz::Bytes(data, size)));
  if (!opened.ok()) return 0;
  uint64_t header = 0;
  FUZZ_CHECK(size >= 8);
  for (int i = 7; i >= 0; --i) header = (header << 8) | data[i];
  const uint64_t data_bytes = size - 8 - header;
  for (const auto& [name, view] : (*opened)->tensors()) {
    const size_t element = depthd::SafetensorsDtypeSize(view.dtype);
    FUZZ_CHECK(element > 0);
    const int64_t elements = view.NumElements();
    // Every dimension is an int64_t size whose product (the dimensions but the zeros) fits.
    int64_t product = 1;
    for (int64_t d : view.shape) {
      FUZZ_CHECK(d >= 0);
      if (d != 0) FUZZ_CHECK(!__builtin_mul_overflow(product, d, &product));
    }
    FUZZ_CHECK(elements == (std::count(view.shape.begin(), view.shape.end(), 0) ? 0 : product));
    FUZZ_CHECK(view.bytes == static_cast<uint64_t>(elements) * element);
    FUZZ_CHECK(view.bytes <= data_bytes);
    // Every byte of the tensor is readable (it lies in the mapping).
    std::vector<unsigned char> copy(view.bytes);
    if (view.bytes > 0) std::memcpy(copy.data(), view.data, view.bytes);
    absl::StatusOr<depthd::SafetensorsView> again = (*opened)->Get(name, view.shape);
    FUZZ_CHECK(again.ok() && again->data == view.data && again->bytes == view.bytes);
    if (view.dtype == "F32" || view.dtype == "F16" || view.dtype == "BF16") {
      absl::StatusOr<std::vector<float>> values = depthd::SafetensorsFile::ToFloat(view);
      FUZZ_CHECK(values.ok() && static_cast<int64_t>(values->size()) == elements);
    }
  }
  return 0;
}
