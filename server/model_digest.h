// A content hash that names the served model without revealing where it lives on the server.
#ifndef DEPTHD_SERVER_MODEL_DIGEST_H_
#define DEPTHD_SERVER_MODEL_DIGEST_H_

#include <string>

#include "absl/status/statusor.h"

namespace depthd::server {

// SHA-256 (hex) of a file, or of a folder's regular files (sorted by relative path, each path
// and content hashed), e.g. a TorchScript model with its sidecar, or a checkpoint folder.
absl::StatusOr<std::string> ModelDigest(const std::string& path);

}  // namespace depthd::server

#endif  // DEPTHD_SERVER_MODEL_DIGEST_H_
