#include "server/model_digest.h"

#include <openssl/evp.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace depthd::server {
namespace {

namespace fs = std::filesystem;

bool HashFile(EVP_MD_CTX* ctx, const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    if (in.gcount() > 0) EVP_DigestUpdate(ctx, buffer.data(), static_cast<size_t>(in.gcount()));
  }
  return in.eof();
}

}  // namespace

absl::StatusOr<std::string> ModelDigest(const std::string& path) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  std::error_code error;
  std::vector<fs::path> files;
  if (fs::is_directory(path, error)) {
    for (const auto& entry : fs::recursive_directory_iterator(path, error)) {
      if (entry.is_regular_file()) files.push_back(fs::relative(entry.path(), path));
    }
    std::sort(files.begin(), files.end());
    for (const fs::path& file : files) {
      const std::string name = file.generic_string();
      EVP_DigestUpdate(ctx.get(), name.data(), name.size() + 1);
      if (!HashFile(ctx.get(), fs::path(path) / file)) {
        return absl::InternalError(absl::StrCat("cannot read the model file ", name));
      }
    }
  } else {
    if (!HashFile(ctx.get(), path)) return absl::InternalError("cannot read the model file");
    fs::path sidecar = path;
    sidecar.replace_extension(".json");
    if (fs::exists(sidecar, error)) HashFile(ctx.get(), sidecar);
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &length);
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  return hex;
}

}  // namespace depthd::server
