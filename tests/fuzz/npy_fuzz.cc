// A .npy file (a client's depth result, an evaluation's ground truth): ReadNpy over the bytes,
// then AsFloat. Whatever the bytes, nothing crashes or allocates more than the file holds; an
// array read back has exactly the bytes its dtype and shape need, and a float32 array written
// with WriteNpyFloat32 reads back the same.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "core/media/npy.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

// The dtypes ReadNpy accepts, and their sizes.
int64_t ItemSize(const std::string& dtype) {
  if (dtype == "<f4") return 4;
  if (dtype == "<f2" || dtype == "<u2") return 2;
  FUZZ_CHECK(dtype == "|u1");
  return 1;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static depthd::fuzz::MemoryFile* input = new depthd::fuzz::MemoryFile();
  static depthd::fuzz::MemoryFile* output = new depthd::fuzz::MemoryFile();
  absl::StatusOr<depthd::NpyArray> array =
      depthd::ReadNpy(input->Write(depthd::fuzz::Bytes(data, size)));
  if (!array.ok()) return 0;
  FUZZ_CHECK(array->data.size() <= size);
  // Elements: 0 when any dimension is 0 (the others may then be anything), else a product that
  // fits, since the data is in the file.
  int64_t count = 1;
  bool overflow = false;
  for (int64_t d : array->shape) {
    FUZZ_CHECK(d >= 0);
    overflow = overflow || __builtin_mul_overflow(count, d, &count);
  }
  if (std::find(array->shape.begin(), array->shape.end(), 0) != array->shape.end()) count = 0;
  FUZZ_CHECK(count == 0 || !overflow);
  absl::StatusOr<std::vector<float>> values = array->AsFloat();
  FUZZ_CHECK(values.ok());
  FUZZ_CHECK(static_cast<int64_t>(values->size()) == count);
  FUZZ_CHECK(static_cast<int64_t>(array->data.size()) == count * ItemSize(array->dtype));
  if (array->dtype == "<f4") {
    (void)output->Write("");
    FUZZ_CHECK(depthd::WriteNpyFloat32(output->path(), values->data(), array->shape).ok());
    absl::StatusOr<depthd::NpyArray> back = depthd::ReadNpy(output->path());
    FUZZ_CHECK(back.ok());
    FUZZ_CHECK(back->dtype == "<f4" && back->shape == array->shape);
    FUZZ_CHECK(back->data == array->data);
  }
  return 0;
}
