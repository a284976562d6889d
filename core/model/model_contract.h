// What a snippet model promises, read from the JSON sidecar next to its weights.
#ifndef DEPTHD_CORE_MODEL_MODEL_CONTRACT_H_
#define DEPTHD_CORE_MODEL_MODEL_CONTRACT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace depthd {

struct ModelContract {
  std::string name;                 // e.g. "tinysnippet-v3"
  std::string format;               // "torchscript"
  int snippet_length = 3;           // frames per snippet the network takes
  int size_multiple = 1;            // H and W must be multiples of this (the pipeline pads)
  std::string output = "affine_invariant_depth";  // larger = farther
  bool supports_refine = false;
  std::string description;
  std::string sidecar_json;         // the whole sidecar, for GetServerInfo
};

// Parses a sidecar; INVALID_ARGUMENT names the missing or malformed field.
absl::StatusOr<ModelContract> ParseModelContract(const std::string& json_text);
absl::StatusOr<ModelContract> ReadModelContract(const std::string& path);

}  // namespace depthd

#endif  // DEPTHD_CORE_MODEL_MODEL_CONTRACT_H_
