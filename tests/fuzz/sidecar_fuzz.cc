// A model's JSON sidecar (its contract: name, format, snippet_length, ...): ParseModelContract
// over the bytes. Whatever the text, nothing crashes or throws; a contract accepted holds values
// inside the documented ranges and exactly as written, and its stored JSON parses back to the same
// contract.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/model/model_contract.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(depthd::fuzz::Bytes(data, size));
  absl::StatusOr<depthd::ModelContract> contract = depthd::ParseModelContract(text);
  if (!contract.ok()) {
    FUZZ_CHECK(contract.status().code() == absl::StatusCode::kInvalidArgument);
    return 0;
  }
  FUZZ_CHECK(contract->snippet_length >= 2 && contract->snippet_length <= 4);
  FUZZ_CHECK(contract->size_multiple >= 1);
  FUZZ_CHECK(contract->output == "affine_invariant_depth");
  // The numbers are the ones the sidecar wrote, not a truncation or wrap of them.
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  FUZZ_CHECK(j.is_object());
  FUZZ_CHECK(j["snippet_length"].is_number_integer());
  FUZZ_CHECK(j["snippet_length"].get<int64_t>() == contract->snippet_length);
  if (j.contains("size_multiple")) {
    FUZZ_CHECK(j["size_multiple"].is_number_integer());
    FUZZ_CHECK(j["size_multiple"].get<int64_t>() == contract->size_multiple);
  }
  absl::StatusOr<depthd::ModelContract> again = depthd::ParseModelContract(contract->sidecar_json);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->name == contract->name && again->format == contract->format);
  FUZZ_CHECK(again->snippet_length == contract->snippet_length);
  FUZZ_CHECK(again->size_multiple == contract->size_multiple);
  FUZZ_CHECK(again->supports_refine == contract->supports_refine);
  FUZZ_CHECK(again->description == contract->description);
  FUZZ_CHECK(again->sidecar_json == contract->sidecar_json);
  return 0;
}
