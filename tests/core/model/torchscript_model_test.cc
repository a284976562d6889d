#include "core/model/torchscript_model.h"

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/model/device.h"
#include "core/model/model_contract.h"
#include "core/model/model_loader.h"

namespace depthd {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

class TorchScriptModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("ts_model_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& body, const std::string& sidecar) {
    torch::jit::Module m("Fixture");
    m.define("def forward(self, x: Tensor) -> Tensor:\n" + body);
    const std::string path = (dir_ / (name + ".pt")).string();
    m.save(path);
    if (!sidecar.empty()) std::ofstream(dir_ / (name + ".json")) << sidecar;
    return path;
  }
  fs::path dir_;
};

constexpr char kSidecar[] =
    R"({"name": "mean", "format": "torchscript", "snippet_length": 3, "size_multiple": 4})";

TEST_F(TorchScriptModelTest, LoadsAndPredictsShapes) {
  ModelLoadOptions options;
  options.path = Write("mean", "    return x.mean(2, keepdim=True)\n", kSidecar);
  options.device = "cpu";
  auto model = LoadDepthModel(options);
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ((*model)->contract().name, "mean");
  EXPECT_EQ((*model)->contract().size_multiple, 4);
  EXPECT_EQ((*model)->dtype(), DType::kFloat32);
  auto out = (*model)->PredictSnippets(torch::ones({2, 3, 3, 8, 12}));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->sizes(), (std::vector<int64_t>{2, 3, 1, 8, 12}));
  auto bad = (*model)->PredictSnippets(torch::ones({2, 3, 3, 7, 12}));
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("multiples of 4"));
  EXPECT_FALSE((*model)->PredictSnippets(torch::ones({2, 4, 3, 8, 12})).ok());
}

TEST_F(TorchScriptModelTest, ClearErrorsNameTheFile) {
  ModelLoadOptions options;
  options.device = "cpu";
  options.path = Write("nosidecar", "    return x\n", "");
  auto missing = LoadDepthModel(options);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("nosidecar.json"));

  options.path = Write("badjson", "    return x.mean(2, keepdim=True)\n", "{not json");
  EXPECT_THAT(LoadDepthModel(options).status().message(), HasSubstr("badjson.json"));

  options.path = Write("shape", "    return x\n", R"({"name": "shape", "format": "torchscript", "snippet_length": 3})");
  auto shape = LoadDepthModel(options);
  EXPECT_FALSE(shape.ok());
  EXPECT_THAT(shape.status().message(), HasSubstr("start-up check"));

  std::ofstream(dir_ / "garbage.pt") << "not a zip";
  std::ofstream(dir_ / "garbage.json") << kSidecar;
  options.path = (dir_ / "garbage.pt").string();
  auto garbage = LoadDepthModel(options);
  EXPECT_EQ(garbage.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(garbage.status().message(), HasSubstr("garbage.pt"));

  options.path = (dir_ / "absent.pt").string();
  EXPECT_EQ(LoadDepthModel(options).status().code(), absl::StatusCode::kNotFound);
  // A folder is read as a diffusers checkpoint; without model_index.json it is not one.
  options.path = dir_.string();
  auto folder = LoadDepthModel(options);
  EXPECT_EQ(folder.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(folder.status().message(), HasSubstr("model_index.json"));
}

TEST(ModelContractTest, ValidatesFields) {
  EXPECT_TRUE(ParseModelContract(kSidecar).ok());
  EXPECT_THAT(ParseModelContract(R"({"name": "x", "format": "torchscript"})").status().message(),
              HasSubstr("snippet_length"));
  EXPECT_FALSE(ParseModelContract(R"({"name": "x", "format": "torchscript", "snippet_length": 9})").ok());
  EXPECT_FALSE(ParseModelContract(R"({"name": "x", "format": "torchscript", "snippet_length": 3, "output": "disparity"})").ok());
}

TEST(DeviceTest, NamesAndDefaults) {
  EXPECT_EQ(*ResolveDevice("cpu"), DeviceKind::kCpu);
  EXPECT_EQ(ResolveDevice("tpu").status().code(), absl::StatusCode::kInvalidArgument);
  if (!ResolveDevice("cuda").ok()) {
    EXPECT_EQ(ResolveDevice("cuda").status().code(), absl::StatusCode::kUnavailable);
    EXPECT_EQ(*ResolveDevice("auto"), DeviceKind::kCpu);
  }
  EXPECT_EQ(*ResolveDType("", DeviceKind::kCpu), DType::kFloat32);
  EXPECT_EQ(*ResolveDType("", DeviceKind::kCuda), DType::kFloat16);
  EXPECT_THAT(ResolveDType("fp16", DeviceKind::kCpu).status().message(), HasSubstr("not supported on cpu"));
  EXPECT_EQ(*ResolveDType("bf16", DeviceKind::kCpu), DType::kBFloat16);
  SetTorchThreads(1);
  EXPECT_EQ(TorchThreads(), 1);
}

}  // namespace
}  // namespace depthd
