// bench_rollingdepth: seconds per 100 frames of the RollingDepth network with the `fast` preset
// (dilations 1 and 25, 3-frame snippets, one denoising step), and peak device memory, per device
// and dtype. Runs the same calls as the server's model (VAE encode per frame, batched snippet
// denoising, batched decode, predictions copied to the CPU) on a synthetic video.
//
// Without --checkpoint the network has RollingDepth's architecture (Stable Diffusion 2 UNet with
// 8 input channels, the SD VAE) with random weights: the cost does not depend on the weights.
// Builds against LibTorch, Abseil and nlohmann_json only (DEPTHD_DIFFUSION_ONLY=ON).
#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/cuda.h>
#include <torch/torch.h>
#ifdef DEPTHD_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "core/model/diffusion/rollingdepth.h"
#include "core/snippet_plan.h"

ABSL_FLAG(std::string, checkpoint, "", "RollingDepth checkpoint folder; empty: random weights");
ABSL_FLAG(std::string, device, "cuda", "cpu | cuda | mps");
ABSL_FLAG(std::string, dtypes, "fp16", "comma-separated: fp32, fp16, bf16");
ABSL_FLAG(int, frames, 100, "video frames");
ABSL_FLAG(int, res, 768, "processing resolution (longer side of a 16:9 video)");
ABSL_FLAG(std::string, dilations, "1,25", "snippet dilations (the fast preset)");
ABSL_FLAG(int, batch, 8, "snippets per UNet call");
ABSL_FLAG(int, max_vae_bs, 4, "frames per VAE call");
ABSL_FLAG(int, refine_step, 0, "also time refinement with this many steps (the full preset: 10)");
ABSL_FLAG(int, runs, 3, "timed runs (median reported), after one warm-up");
ABSL_FLAG(std::string, layouts, "contiguous", "comma-separated: contiguous, channels_last");
ABSL_FLAG(int, threads, 0, "LibTorch CPU threads; 0 keeps LibTorch's default");
ABSL_FLAG(std::string, json, "", "write results as JSON here");

namespace {

using namespace depthd;
using Clock = std::chrono::steady_clock;

diffusion::RollingDepthConfig RollingDepthArchitecture() {
  diffusion::RollingDepthConfig c;  // UNet, VAE defaults are SD 2's
  c.unet.down_block_types = {"CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"};
  c.unet.up_block_types = {"UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"};
  c.scheduler.beta_schedule = "scaled_linear";
  c.scheduler.beta_start = 0.00085;
  c.scheduler.beta_end = 0.012;
  c.scheduler.prediction_type = "v_prediction";
  c.scheduler.timestep_spacing = "trailing";
  c.scheduler.set_alpha_to_one = false;
  c.scheduler.clip_sample = false;
  c.description = "RollingDepth architecture, random weights";
  return c;
}

void Sync(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize();
}

void ResetPeak([[maybe_unused]] const torch::Device& device) {
#ifdef DEPTHD_WITH_CUDA
  if (device.is_cuda()) c10::cuda::CUDACachingAllocator::resetPeakStats(0);
#endif
}

double PeakGiB([[maybe_unused]] const torch::Device& device) {
#ifdef DEPTHD_WITH_CUDA
  if (device.is_cuda()) {
    auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(0);
    return static_cast<double>(stats.reserved_bytes[0].peak) / (1 << 30);
  }
#endif
  return 0.0;
}

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

struct Times {
  double encode = 0, unet = 0, decode = 0, refine = 0, total = 0;
};

// One run of the fast preset's model work; errors abort the benchmark.
Times RunOnce(diffusion::RollingDepthNet& net, const torch::Tensor& frames,
              const SnippetPlan& plan, int batch, int vae_batch, int refine_step) {
  const torch::Device device = net.device();
  Times t;
  Sync(device);
  auto start = Clock::now();
  const int64_t n = frames.size(0);
  std::vector<torch::Tensor> parts;
  for (int64_t b = 0; b < n; b += vae_batch) {
    parts.push_back(net.EncodeRgb(frames.narrow(0, b, std::min<int64_t>(vae_batch, n - b))));
  }
  torch::Tensor latents = torch::cat(parts, 0);
  torch::Tensor noise = torch::randn({latents.size(1), latents.size(2), latents.size(3)});
  Sync(device);
  auto mark = Clock::now();
  t.encode = Seconds(start, mark);

  std::vector<std::vector<int>> snippets;
  for (const auto& group : plan.groups) snippets.insert(snippets.end(), group.snippets.begin(), group.snippets.end());
  float checksum = 0;
  for (size_t b = 0; b < snippets.size(); b += batch) {
    const size_t e = std::min(snippets.size(), b + batch);
    std::vector<int64_t> flat;
    for (size_t s = b; s < e; ++s) flat.insert(flat.end(), snippets[s].begin(), snippets[s].end());
    const int64_t count = static_cast<int64_t>(e - b);
    torch::Tensor rgb = latents.index_select(0, torch::tensor(flat).to(device))
                            .reshape({count, 3, latents.size(1), latents.size(2), latents.size(3)});
    auto depth = net.DenoiseSnippets(rgb, noise.expand({count, 3, noise.size(0), noise.size(1), noise.size(2)}), 1);
    if (!depth.ok()) {
      std::cerr << depth.status() << "\n";
      std::exit(1);
    }
    Sync(device);
    auto decode_start = Clock::now();
    torch::Tensor flat_depth = depth->reshape({count * 3, depth->size(2), depth->size(3), depth->size(4)});
    for (int64_t d = 0; d < flat_depth.size(0); d += vae_batch) {
      torch::Tensor out = net.DecodeDepth(flat_depth.narrow(0, d, std::min<int64_t>(vae_batch, flat_depth.size(0) - d)));
      checksum += out.to(torch::kCPU).mean().item<float>();  // predictions live on the CPU
    }
    Sync(device);
    t.decode += Seconds(decode_start, Clock::now());
  }
  Sync(device);
  auto after_snippets = Clock::now();
  t.unet = Seconds(mark, after_snippets) - t.decode;
  if (refine_step > 0) {
    RefineOptions options;
    options.refine_step = refine_step;
    options.batch_size = batch;
    // The co-aligned depth's latents stand in as the RGB latents do: same cost.
    auto refined = net.Refine(latents, latents, noise, options);
    if (!refined.ok()) {
      std::cerr << refined.status() << "\n";
      std::exit(1);
    }
    for (int64_t d = 0; d < n; d += vae_batch) {
      checksum += net.DecodeDepth(refined->narrow(0, d, std::min<int64_t>(vae_batch, n - d))).to(torch::kCPU).mean().item<float>();
    }
    Sync(device);
    t.refine = Seconds(after_snippets, Clock::now());
  }
  t.total = Seconds(start, Clock::now());
  if (!std::isfinite(checksum)) std::cerr << "note: non-finite outputs (random weights)\n";
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("Times the RollingDepth network per 100 frames, per device and dtype.");
  absl::ParseCommandLine(argc, argv);
  if (absl::GetFlag(FLAGS_threads) > 0) torch::set_num_threads(absl::GetFlag(FLAGS_threads));
  const torch::Device device(absl::GetFlag(FLAGS_device));
  const int frames = absl::GetFlag(FLAGS_frames);
  const int width = absl::GetFlag(FLAGS_res), height = (width * 9 / 16) / 8 * 8;
  SnippetPlanOptions plan_options;
  plan_options.dilations.clear();
  for (absl::string_view d : absl::StrSplit(absl::GetFlag(FLAGS_dilations), ',')) {
    int value;
    if (!absl::SimpleAtoi(d, &value)) {
      std::cerr << "bad --dilations\n";
      return 1;
    }
    plan_options.dilations.push_back(value);
  }
  auto plan = PlanSnippets(frames, plan_options);
  if (!plan.ok()) {
    std::cerr << plan.status() << "\n";
    return 1;
  }
  torch::manual_seed(0);
  const torch::Tensor video = torch::rand({frames, 3, height, width}) * 2 - 1;
  nlohmann::json report = {{"device", absl::GetFlag(FLAGS_device)},
                           {"frames", frames},
                           {"width", width},
                           {"height", height},
                           {"snippets", plan->TotalSnippets()},
                           {"batch", absl::GetFlag(FLAGS_batch)},
                           {"max_vae_bs", absl::GetFlag(FLAGS_max_vae_bs)},
                           {"torch", TORCH_VERSION},
                           {"results", nlohmann::json::array()}};
  std::cout << absl::StrFormat("%d frames at %dx%d, %d snippets, dilations %s, device %s\n", frames,
                               width, height, plan->TotalSnippets(), absl::GetFlag(FLAGS_dilations),
                               absl::GetFlag(FLAGS_device));
  std::cout << absl::StrFormat("%-6s %-13s %9s %9s %9s %9s %9s %12s %9s\n", "dtype", "layout", "encode_s", "unet_s",
                               "decode_s", "refine_s", "total_s", "s_per_100f", "peak_GiB");
  for (absl::string_view name : absl::StrSplit(absl::GetFlag(FLAGS_dtypes), ','))
  for (absl::string_view layout : absl::StrSplit(absl::GetFlag(FLAGS_layouts), ',')) {
    const torch::ScalarType dtype = name == "fp16" ? torch::kHalf : name == "bf16" ? torch::kBFloat16 : torch::kFloat32;
    std::unique_ptr<diffusion::RollingDepthNet> net;
    if (absl::GetFlag(FLAGS_checkpoint).empty()) {
      net = diffusion::RollingDepthNet::Random(RollingDepthArchitecture(), torch::randn({1, 2, 1024}), device, dtype);
    } else {
      auto loaded = diffusion::RollingDepthNet::Load(absl::GetFlag(FLAGS_checkpoint), device, dtype);
      if (!loaded.ok()) {
        std::cerr << loaded.status() << "\n";
        return 1;
      }
      net = *std::move(loaded);
    }
    net->SetChannelsLast(layout == "channels_last");
    RunOnce(*net, video, *plan, absl::GetFlag(FLAGS_batch), absl::GetFlag(FLAGS_max_vae_bs),
            absl::GetFlag(FLAGS_refine_step));  // warm-up (kernel selection, allocator)
    ResetPeak(device);
    std::vector<Times> runs;
    for (int r = 0; r < absl::GetFlag(FLAGS_runs); ++r) {
      runs.push_back(RunOnce(*net, video, *plan, absl::GetFlag(FLAGS_batch),
                             absl::GetFlag(FLAGS_max_vae_bs), absl::GetFlag(FLAGS_refine_step)));
    }
    std::sort(runs.begin(), runs.end(), [](const Times& a, const Times& b) { return a.total < b.total; });
    const Times& m = runs[runs.size() / 2];
    const double per100 = m.total * 100.0 / frames;
    const double peak = PeakGiB(device);
    std::cout << absl::StrFormat("%-6s %-13s %9.3f %9.3f %9.3f %9.3f %9.3f %12.3f %9.2f\n", std::string(name), std::string(layout),
                                 m.encode, m.unet, m.decode, m.refine, m.total, per100, peak);
    report["results"].push_back({{"dtype", std::string(name)}, {"layout", std::string(layout)}, {"encode_s", m.encode}, {"unet_s", m.unet},
                                 {"decode_s", m.decode}, {"refine_s", m.refine}, {"total_s", m.total},
                                 {"seconds_per_100_frames", per100}, {"peak_reserved_gib", peak},
                                 {"runs", absl::GetFlag(FLAGS_runs)}});
  }
  if (!absl::GetFlag(FLAGS_json).empty()) std::ofstream(absl::GetFlag(FLAGS_json)) << report.dump(2) << "\n";
  return 0;
}
