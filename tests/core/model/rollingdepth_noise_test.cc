// The shared initial noise: drawn on the CPU in float32 (depthd's default) or, as run_video.py
// does, with a generator of the model's device in the model's dtype.
#include <ATen/CPUGeneratorImpl.h>

#include <filesystem>

#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include "core/model/diffusion/rollingdepth.h"
#include "core/model/rollingdepth_model.h"
#include "tests/testing/tiny_rollingdepth.h"

namespace depthd {
namespace {

using diffusion::DrawNoise;
using diffusion::NoiseSource;

// What PyTorch gives for torch.Generator().manual_seed(seed); torch.randn(shape, dtype=...,
// generator=g): a fresh CPU generator for the seed.
torch::Tensor PyTorchCpuRandn(uint64_t seed, torch::ScalarType dtype) {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  return torch::randn({4, 6, 5}, generator, torch::TensorOptions().dtype(dtype));
}

TEST(DrawNoiseTest, CpuSourceIsFloat32ForASeedWhateverTheModelDtype) {
  const torch::Tensor a = DrawNoise(4, 6, 5, 7, NoiseSource::kCpu, torch::kCPU, torch::kBFloat16);
  EXPECT_EQ(a.scalar_type(), torch::kFloat32);
  EXPECT_EQ(a.sizes(), (std::vector<int64_t>{4, 6, 5}));
  EXPECT_TRUE(torch::equal(a, PyTorchCpuRandn(7, torch::kFloat32)));
  EXPECT_TRUE(torch::equal(a, DrawNoise(4, 6, 5, 7, NoiseSource::kCpu, torch::kCPU, torch::kHalf)));
  EXPECT_FALSE(
      torch::equal(a, DrawNoise(4, 6, 5, 8, NoiseSource::kCpu, torch::kCPU, torch::kFloat32)));
}

TEST(DrawNoiseTest, ModelDeviceSourceDrawsInTheModelDtype) {
  // On a CPU model in float32 both sources agree (run_video.py on a machine without CUDA).
  EXPECT_TRUE(
      torch::equal(DrawNoise(4, 6, 5, 3, NoiseSource::kModelDevice, torch::kCPU, torch::kFloat32),
                   DrawNoise(4, 6, 5, 3, NoiseSource::kCpu, torch::kCPU, torch::kFloat32)));
  // In bfloat16 the reference draws in bfloat16 directly: torch.randn(..., dtype=pipe.dtype).
  const torch::Tensor half =
      DrawNoise(4, 6, 5, 3, NoiseSource::kModelDevice, torch::kCPU, torch::kBFloat16);
  EXPECT_EQ(half.scalar_type(), torch::kBFloat16);
  EXPECT_TRUE(torch::equal(half, PyTorchCpuRandn(3, torch::kBFloat16)));
}

TEST(DrawNoiseTest, ModelDeviceSourceOnCudaUsesAFreshGeneratorForTheSeed) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const torch::Device cuda(torch::kCUDA);
  // The default CUDA generator's stream is untouched: what it draws next is what it would have.
  torch::cuda::manual_seed(11);
  const torch::Tensor expected = torch::randn({8}, torch::TensorOptions().device(cuda));
  torch::cuda::manual_seed(11);
  const torch::Tensor a = DrawNoise(4, 6, 5, 3, NoiseSource::kModelDevice, cuda, torch::kHalf);
  EXPECT_TRUE(torch::equal(torch::randn({8}, torch::TensorOptions().device(cuda)), expected));
  EXPECT_TRUE(a.is_cuda());
  EXPECT_EQ(a.scalar_type(), torch::kHalf);
  // The same seed gives the same noise, whatever the default generator's state.
  torch::cuda::manual_seed(12);
  EXPECT_TRUE(
      torch::equal(a, DrawNoise(4, 6, 5, 3, NoiseSource::kModelDevice, cuda, torch::kHalf)));
  EXPECT_FALSE(
      torch::equal(a, DrawNoise(4, 6, 5, 4, NoiseSource::kModelDevice, cuda, torch::kHalf)));
}

TEST(DrawNoiseTest, TheModelUsesTheChosenSource) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("depthd_noise_" + std::to_string(::getpid()));
  ASSERT_TRUE(testing::WriteTinyRollingDepth(dir.string()).ok());
  torch::manual_seed(4);
  const torch::Tensor rgb = torch::rand({1, 3, 3, 8, 8}) * 2 - 1;
  std::vector<torch::Tensor> depth;
  for (NoiseSource source : {NoiseSource::kCpu, NoiseSource::kModelDevice}) {
    for (DType dtype : {DType::kFloat32, DType::kBFloat16}) {
      RollingDepthOptions options;
      options.noise_source = source;
      auto model = RollingDepthModel::Create(dir.string(), DeviceKind::kCpu, dtype, options);
      ASSERT_TRUE(model.ok()) << model.status();
      auto predicted = (*model)->PredictSnippets(rgb);
      ASSERT_TRUE(predicted.ok()) << predicted.status();
      depth.push_back(*predicted);
    }
  }
  fs::remove_all(dir);
  // float32 on the CPU: the same noise from both sources, so the same depth.
  EXPECT_TRUE(torch::equal(depth[0], depth[2]));
  // bfloat16: the reference's noise is drawn in bfloat16 (another stream of values than the
  // float32 draw), so the depth differs.
  EXPECT_FALSE(torch::equal(depth[1], depth[3]));
}

}  // namespace
}  // namespace depthd
