#include "core/model/diffusion/config_file.h"

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace depthd::diffusion {

struct ConfigFile::Json {
  nlohmann::json value;
};

namespace {

absl::Status WrongType(const std::string& path, const std::string& field, const char* expected) {
  return absl::InvalidArgumentError(
      absl::StrCat(path, ": field '", field, "' must be ", expected));
}

}  // namespace

absl::StatusOr<ConfigFile> ConfigFile::Read(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("config file ", path, " not found"));
  std::stringstream text;
  text << in.rdbuf();
  return Parse(text.str(), path);
}

absl::StatusOr<ConfigFile> ConfigFile::Parse(const std::string& json_text,
                                             const std::string& path) {
  nlohmann::json value = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded() || !value.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is not a JSON object"));
  }
  ConfigFile config;
  config.path_ = path;
  config.json_ = std::make_shared<const Json>(Json{std::move(value)});
  return config;
}

bool ConfigFile::Has(const std::string& field) const {
  auto it = json_->value.find(field);
  return it != json_->value.end() && !it->is_null();
}

absl::StatusOr<int> ConfigFile::Int(const std::string& field, int fallback) const {
  if (!Has(field)) return fallback;
  const nlohmann::json& v = json_->value.at(field);
  if (!v.is_number_integer()) return WrongType(path_, field, "an integer");
  return v.get<int>();
}

absl::StatusOr<double> ConfigFile::Double(const std::string& field, double fallback) const {
  if (!Has(field)) return fallback;
  const nlohmann::json& v = json_->value.at(field);
  if (!v.is_number()) return WrongType(path_, field, "a number");
  return v.get<double>();
}

absl::StatusOr<bool> ConfigFile::Bool(const std::string& field, bool fallback) const {
  if (!Has(field)) return fallback;
  const nlohmann::json& v = json_->value.at(field);
  if (!v.is_boolean()) return WrongType(path_, field, "true or false");
  return v.get<bool>();
}

absl::StatusOr<std::string> ConfigFile::String(const std::string& field,
                                               const std::string& fallback) const {
  if (!Has(field)) return fallback;
  const nlohmann::json& v = json_->value.at(field);
  if (!v.is_string()) return WrongType(path_, field, "a string");
  return v.get<std::string>();
}

absl::StatusOr<std::vector<int>> ConfigFile::Ints(const std::string& field,
                                                  std::vector<int> fallback, int count) const {
  if (!Has(field)) return fallback;
  const nlohmann::json& v = json_->value.at(field);
  if (v.is_number_integer()) return std::vector<int>(count, v.get<int>());
  if (!v.is_array()) return WrongType(path_, field, "an integer or a list of integers");
  std::vector<int> out;
  for (const nlohmann::json& item : v) {
    if (!item.is_number_integer()) return WrongType(path_, field, "a list of integers");
    out.push_back(item.get<int>());
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> ConfigFile::Strings(
    const std::string& field, std::vector<std::string> fallback) const {
  if (!Has(field)) return fallback;
  const nlohmann::json& v = json_->value.at(field);
  if (!v.is_array()) return WrongType(path_, field, "a list of strings");
  std::vector<std::string> out;
  for (const nlohmann::json& item : v) {
    if (!item.is_string()) return WrongType(path_, field, "a list of strings");
    out.push_back(item.get<std::string>());
  }
  return out;
}

std::string ConfigFile::Dump() const { return json_->value.dump(); }

absl::Status RequireOneOf(const ConfigFile& config, const std::string& field,
                          const std::string& value, const std::vector<std::string>& supported) {
  for (const std::string& s : supported) {
    if (s == value) return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      config.path(), ": ", field, " '", value, "' is not supported (supported: ",
      absl::StrJoin(supported, ", "), ")"));
}

}  // namespace depthd::diffusion
