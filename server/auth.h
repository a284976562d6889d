// Who is calling. With --auth_tokens every call but health and reflection carries
// `authorization: Bearer <token>`; the token names the caller's tenant. Tokens are compared
// as SHA-256 digests in constant time, against every configured token, so neither a token's
// length nor its first differing byte shows in the time an answer takes.
#ifndef DEPTHD_SERVER_AUTH_H_
#define DEPTHD_SERVER_AUTH_H_

#include <array>
#include <memory>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"

namespace depthd::server {

class TokenAuth {
 public:
  // The file holds one "TOKEN TENANT" pair per line; blank lines and lines starting with '#'
  // are skipped. Tokens need at least 16 characters; a tenant is [A-Za-z0-9_.-]+.
  static absl::StatusOr<std::unique_ptr<TokenAuth>> Load(const std::string& path);
  static absl::StatusOr<std::unique_ptr<TokenAuth>> Parse(absl::string_view text);

  // The tenant of the token in an `authorization` header value ("Bearer <token>");
  // UNAUTHENTICATED, with what to fix, otherwise.
  absl::StatusOr<std::string> Authenticate(std::optional<absl::string_view> authorization) const;
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::array<unsigned char, 32> digest;
    std::string tenant;
  };
  std::vector<Entry> entries_;
};

// 128 random bits from the kernel's CSPRNG, as 32 lower-case hex digits.
std::string NewJobId();

}  // namespace depthd::server

#endif  // DEPTHD_SERVER_AUTH_H_
