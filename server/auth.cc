#include "server/auth.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <sys/random.h>

#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace depthd::server {
namespace {

std::array<unsigned char, 32> Digest(absl::string_view token) {
  std::array<unsigned char, 32> digest;
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), digest.data());
  return digest;
}

bool ValidTenant(absl::string_view tenant) {
  if (tenant.empty() || tenant.size() > 64) return false;
  for (char c : tenant) {
    if (!absl::ascii_isalnum(c) && c != '_' && c != '.' && c != '-') return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TokenAuth>> TokenAuth::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read --auth_tokens file ", path));
  std::stringstream text;
  text << in.rdbuf();
  auto auth = Parse(text.str());
  if (!auth.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", auth.status().message()));
  }
  return auth;
}

absl::StatusOr<std::unique_ptr<TokenAuth>> TokenAuth::Parse(absl::string_view text) {
  auto auth = std::make_unique<TokenAuth>();
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    std::vector<absl::string_view> parts = absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (parts.size() != 2) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", line_number, ": expected \"TOKEN TENANT\""));
    }
    if (parts[0].size() < 16) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", line_number, ": tokens need at least 16 characters"));
    }
    if (!ValidTenant(parts[1])) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", line_number, ": a tenant is 1-64 characters of A-Z a-z 0-9 _ . -"));
    }
    auth->entries_.push_back({Digest(parts[0]), std::string(parts[1])});
  }
  if (auth->entries_.empty()) return absl::InvalidArgumentError("no tokens");
  return auth;
}

absl::StatusOr<std::string> TokenAuth::Authenticate(std::optional<absl::string_view> authorization) const {
  if (!authorization) {
    return absl::UnauthenticatedError(
        "this depthd needs a token: send the metadata \"authorization: Bearer <token>\" "
        "(depthctl --token_file or DEPTHD_TOKEN)");
  }
  absl::string_view value = absl::StripAsciiWhitespace(*authorization);
  if (!absl::ConsumePrefix(&value, "Bearer ") && !absl::ConsumePrefix(&value, "bearer ")) {
    return absl::UnauthenticatedError("the authorization metadata must be \"Bearer <token>\"");
  }
  const auto digest = Digest(absl::StripAsciiWhitespace(value));
  const std::string* tenant = nullptr;
  for (const Entry& entry : entries_) {  // every entry, matched or not
    const bool match = CRYPTO_memcmp(entry.digest.data(), digest.data(), digest.size()) == 0;
    if (match) tenant = &entry.tenant;
  }
  if (tenant == nullptr) return absl::UnauthenticatedError("the token is not valid for this depthd");
  return *tenant;
}

std::string NewJobId() {
  unsigned char bytes[16];
  size_t got = 0;
  while (got < sizeof(bytes)) {
    const ssize_t n = getrandom(bytes + got, sizeof(bytes) - got, 0);
    if (n > 0) got += static_cast<size_t>(n);
  }
  static const char kHex[] = "0123456789abcdef";
  std::string id;
  for (unsigned char b : bytes) {
    id += kHex[b >> 4];
    id += kHex[b & 15];
  }
  return id;
}

}  // namespace depthd::server
