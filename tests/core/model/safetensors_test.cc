#include "core/model/safetensors.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/media/half_float.h"

namespace depthd {
namespace {

using ::testing::HasSubstr;

std::string TempPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("depthd_safetensors_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

// Writes an 8-byte little-endian header length, the header, then the data.
std::string WriteFile(const std::string& name, const std::string& header, const std::string& data,
                      int64_t claimed_header_size = -1) {
  const std::string path = TempPath(name);
  std::ofstream out(path, std::ios::binary);
  uint64_t size = claimed_header_size >= 0 ? claimed_header_size : header.size();
  for (int i = 0; i < 8; ++i) out.put(static_cast<char>((size >> (8 * i)) & 0xff));
  out << header << data;
  return path;
}

std::string Bytes(const void* p, size_t n) { return std::string(static_cast<const char*>(p), n); }

class SafetensorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const float f32[6] = {1, -2, 3.5f, 0, 1e-3f, 65504};
    uint16_t f16[2] = {FloatToHalf(0.5f), FloatToHalf(-3.0f)};
    uint16_t bf16[2];
    const float bf_values[2] = {2.0f, -0.15625f};  // exact in bfloat16
    for (int i = 0; i < 2; ++i) {
      uint32_t bits;
      std::memcpy(&bits, &bf_values[i], 4);
      bf16[i] = static_cast<uint16_t>(bits >> 16);
    }
    data_ = Bytes(f32, sizeof f32) + Bytes(f16, sizeof f16) + Bytes(bf16, sizeof bf16);
    header_ =
        R"({"__metadata__":{"format":"pt"},)"
        R"("conv.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},)"
        R"("norm.bias":{"dtype":"F16","shape":[2],"data_offsets":[24,28]},)"
        R"("proj.weight":{"dtype":"BF16","shape":[2,1],"data_offsets":[28,32]}})";
  }
  void TearDown() override {
    for (const auto& p : written_) std::filesystem::remove(p);
  }
  std::string Write(const std::string& name, const std::string& header, const std::string& data,
                    int64_t claimed = -1) {
    written_.push_back(WriteFile(name, header, data, claimed));
    return written_.back();
  }

  std::string header_, data_;
  std::vector<std::string> written_;
};

TEST_F(SafetensorsTest, ReadsEveryDtypeAndTheMetadata) {
  auto file = SafetensorsFile::Open(Write("ok", header_, data_));
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ((*file)->tensors().size(), 3u);
  EXPECT_EQ((*file)->metadata().at("format"), "pt");

  auto conv = (*file)->Get("conv.weight", {2, 3});
  ASSERT_TRUE(conv.ok()) << conv.status();
  EXPECT_EQ(conv->NumElements(), 6);
  EXPECT_THAT(*SafetensorsFile::ToFloat(*conv),
              ::testing::ElementsAre(1, -2, 3.5f, 0, 1e-3f, 65504));
  EXPECT_THAT(*SafetensorsFile::ToFloat(*(*file)->Get("norm.bias", {2})),
              ::testing::ElementsAre(0.5f, -3.0f));
  EXPECT_THAT(*SafetensorsFile::ToFloat(*(*file)->Get("proj.weight", {2, 1})),
              ::testing::ElementsAre(2.0f, -0.15625f));
}

TEST_F(SafetensorsTest, MissingOrMisShapedWeightsAreNamed) {
  auto file = SafetensorsFile::Open(Write("ok", header_, data_));
  ASSERT_TRUE(file.ok());
  auto missing = (*file)->Get("conv.bias", {3});
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("conv.bias"));
  auto wrong = (*file)->Get("conv.weight", {3, 2});
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(wrong.status().message(), HasSubstr("conv.weight"));
  EXPECT_THAT(wrong.status().message(), HasSubstr("[2, 3]"));
}

TEST_F(SafetensorsTest, TruncatedAndMalformedFilesAreClearErrors) {
  struct Case {
    std::string name, header, data;
    int64_t claimed;
    std::string expect;
  } cases[] = {
      {"truncated_data", header_, data_.substr(0, 20), -1, "truncated"},
      {"header_past_end", header_, "", static_cast<int64_t>(header_.size()) + 100, "truncated"},
      {"not_json", "{not json", data_, -1, "not a JSON object"},
      {"json_array", "[1,2]", "", -1, "not a JSON object"},
      {"size_mismatch", R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", data_, -1,
       "needs 12"},
      {"unknown_dtype", R"({"w":{"dtype":"F8","shape":[1],"data_offsets":[0,1]}})", data_, -1,
       "unknown dtype"},
      {"no_offsets", R"({"w":{"dtype":"F32","shape":[1]}})", data_, -1, "data_offsets"},
      {"reversed", R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}})", data_, -1,
       "truncated"},
  };
  for (const Case& c : cases) {
    auto file = SafetensorsFile::Open(Write(c.name, c.header, c.data, c.claimed));
    ASSERT_FALSE(file.ok()) << c.name;
    EXPECT_EQ(file.status().code(), absl::StatusCode::kInvalidArgument) << c.name;
    EXPECT_THAT(file.status().message(), HasSubstr(c.expect)) << c.name << ": " << file.status();
  }

  const std::string tiny = TempPath("tiny");
  written_.push_back(tiny);
  std::ofstream(tiny, std::ios::binary) << "abc";
  EXPECT_THAT(SafetensorsFile::Open(tiny).status().message(), HasSubstr("fewer than"));
  EXPECT_EQ(SafetensorsFile::Open(TempPath("absent")).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace depthd
