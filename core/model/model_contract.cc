#include "core/model/model_contract.h"

#include <climits>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"

namespace depthd {
namespace {

// An integer field, `fallback` when absent: a JSON integer within int's range. 2.5, 1e10 or
// 4294967299 are refused rather than truncated (or, for a double beyond int, converted with
// undefined behaviour) into a value the sidecar never said.
absl::StatusOr<int> IntField(const nlohmann::json& j, const char* field, int fallback) {
  const auto it = j.find(field);
  if (it == j.end()) return fallback;
  const bool in_range =
      it->is_number_unsigned()  ? it->get<uint64_t>() <= static_cast<uint64_t>(INT_MAX)
      : it->is_number_integer() ? it->get<int64_t>() >= INT_MIN && it->get<int64_t>() <= INT_MAX
                                : false;
  if (!in_range) {
    return absl::InvalidArgumentError(absl::StrCat(
        "model sidecar: field '", field, "' must be a 32-bit integer, got ", it->dump()));
  }
  return static_cast<int>(it->get<int64_t>());
}

}  // namespace

absl::StatusOr<ModelContract> ParseModelContract(const std::string& json_text) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(json_text);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("model sidecar is not valid JSON: ", e.what()));
  }
  if (!j.is_object()) return absl::InvalidArgumentError("model sidecar must be a JSON object");
  ModelContract contract;
  try {
    for (const char* field : {"name", "format", "snippet_length"}) {
      if (!j.contains(field)) {
        return absl::InvalidArgumentError(
            absl::StrCat("model sidecar lacks the required field '", field, "'"));
      }
    }
    contract.name = j.at("name").get<std::string>();
    contract.format = j.at("format").get<std::string>();
    DEPTHD_ASSIGN_OR_RETURN(contract.snippet_length, IntField(j, "snippet_length", 0));
    DEPTHD_ASSIGN_OR_RETURN(contract.size_multiple, IntField(j, "size_multiple", 1));
    contract.output = j.value("output", std::string("affine_invariant_depth"));
    contract.supports_refine = j.value("supports_refine", false);
    contract.description = j.value("description", std::string());
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("model sidecar has a field of the wrong type: ",
                                                   e.what()));
  }
  if (contract.snippet_length < 2 || contract.snippet_length > 4) {
    return absl::InvalidArgumentError(absl::StrCat("model sidecar: snippet_length ",
                                                   contract.snippet_length, " is outside 2..4"));
  }
  if (contract.size_multiple < 1) {
    return absl::InvalidArgumentError(absl::StrCat("model sidecar: size_multiple ",
                                                   contract.size_multiple, " must be >= 1"));
  }
  if (contract.output != "affine_invariant_depth") {
    return absl::InvalidArgumentError(absl::StrCat("model sidecar: output '", contract.output,
                                                   "' is not supported (affine_invariant_depth)"));
  }
  contract.sidecar_json = j.dump();
  return contract;
}

absl::StatusOr<ModelContract> ReadModelContract(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("model sidecar ", path,
                                            " not found; a TorchScript model needs its .json "
                                            "contract beside it"));
  }
  std::stringstream text;
  text << in.rdbuf();
  auto contract = ParseModelContract(text.str());
  if (!contract.ok()) {
    return absl::Status(contract.status().code(),
                        absl::StrCat(path, ": ", contract.status().message()));
  }
  return contract;
}

}  // namespace depthd
