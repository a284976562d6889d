// Reads the config JSONs of a diffusers checkpoint, with errors that name the file and field.
#ifndef DEPTHD_CORE_DIFFUSION_CONFIG_FILE_H_
#define DEPTHD_CORE_DIFFUSION_CONFIG_FILE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace depthd::diffusion {

// One parsed JSON object. Getters return the default when the field is absent or null (as
// diffusers does) and INVALID_ARGUMENT naming file and field when it has the wrong type.
class ConfigFile {
 public:
  static absl::StatusOr<ConfigFile> Read(const std::string& path);
  static absl::StatusOr<ConfigFile> Parse(const std::string& json_text, const std::string& path);

  const std::string& path() const { return path_; }
  bool Has(const std::string& field) const;

  absl::StatusOr<int> Int(const std::string& field, int fallback) const;
  absl::StatusOr<double> Double(const std::string& field, double fallback) const;
  absl::StatusOr<bool> Bool(const std::string& field, bool fallback) const;
  absl::StatusOr<std::string> String(const std::string& field, const std::string& fallback) const;
  // A list of ints, or a single int repeated `count` times (diffusers accepts both).
  absl::StatusOr<std::vector<int>> Ints(const std::string& field, std::vector<int> fallback,
                                        int count) const;
  absl::StatusOr<std::vector<std::string>> Strings(const std::string& field,
                                                   std::vector<std::string> fallback) const;

  // The whole object, serialised (for GetServerInfo and logs).
  std::string Dump() const;

 private:
  struct Json;
  std::string path_;
  std::shared_ptr<const Json> json_;
};

// INVALID_ARGUMENT unless `value` is one of `supported`: for config fields whose other values
// this implementation does not honour.
absl::Status RequireOneOf(const ConfigFile& config, const std::string& field,
                          const std::string& value, const std::vector<std::string>& supported);

}  // namespace depthd::diffusion

#endif  // DEPTHD_CORE_DIFFUSION_CONFIG_FILE_H_
