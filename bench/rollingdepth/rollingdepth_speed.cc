// bench_rollingdepth: RollingDepth with depthd's network path on one device, stage by stage:
// VAE encoding of every frame, batched snippet denoising (UNet), batched decoding to the CPU,
// co-alignment, merge and (with --refine_step) refinement, the calls the server makes. Reports
// seconds per 100 frames per stage, peak device memory, and with --save the outputs, for the
// side by side with the Python reference (scripts/gpu-bench.sh, scripts/rollingdepth_ref/).
//
// Without --checkpoint the network has RollingDepth's architecture (Stable Diffusion 2 UNet with
// 8 input channels, the SD VAE) with random weights: the cost does not depend on the weights.
// --write_checkpoint writes such a random checkpoint in diffusers layout (tiny or full size) and
// exits; --write_video writes the synthetic video as .npy, which --video reads back.
// Builds against LibTorch, Abseil and nlohmann_json alone with DEPTHD_DIFFUSION_ONLY=ON; the
// merge is core/merge.cc in the full build, else this file's own (same arithmetic, named in the
// JSON).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <vector>

#include <torch/cuda.h>
#include <torch/torch.h>
#include <nlohmann/json.hpp>
#ifdef DEPTHD_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "core/coalign.h"
#include "core/media/npy.h"
#include "core/model/diffusion/clip_text.h"
#include "core/model/diffusion/rollingdepth.h"
#include "core/snippet_depths.h"
#include "core/snippet_plan.h"
#ifdef DEPTHD_BENCH_WITH_MERGE
#include "core/merge.h"
#endif
#include "tests/testing/tiny_rollingdepth.h"

ABSL_FLAG(std::string, checkpoint, "", "RollingDepth checkpoint folder; empty: random weights");
ABSL_FLAG(std::string, write_checkpoint, "",
          "write a random checkpoint (diffusers layout) here and exit");
ABSL_FLAG(std::string, arch, "full", "--write_checkpoint size: full | tiny");
ABSL_FLAG(bool, checkpoint_fp16, true, "--write_checkpoint stores every weight as F16");
ABSL_FLAG(std::string, video, "", ".npy [N, 3, H, W] float32 in [-1, 1]; empty: synthetic");
ABSL_FLAG(std::string, write_video, "",
          "write the synthetic video (--frames, --res) here and exit");
ABSL_FLAG(std::string, device, "cuda", "cpu | cuda | mps");
ABSL_FLAG(std::string, dtypes, "fp16", "comma-separated: fp32, fp16, bf16");
ABSL_FLAG(int, frames, 100, "synthetic video frames");
ABSL_FLAG(int, res, 768, "synthetic video width (16:9, height a multiple of 8)");
ABSL_FLAG(std::string, dilations, "1,25", "snippet dilations (the fast preset)");
ABSL_FLAG(bool, cap_dilation, true, "cap dilations (and the refinement's start) for short videos");
ABSL_FLAG(int, batch, 8, "snippets per UNet call");
ABSL_FLAG(int, max_vae_bs, 4, "frames per VAE call");
ABSL_FLAG(int, refine_step, 0, "refinement steps (the full preset: 10)");
ABSL_FLAG(int, refine_start_dilation, 6, "refinement start dilation");
ABSL_FLAG(std::string, solver, "fast", "co-alignment solver: fast | early_stop | reference");
ABSL_FLAG(std::string, noise, "cpu", "noise source: cpu | model (the reference's, on its device)");
ABSL_FLAG(int64_t, seed, 0, "noise seed");
ABSL_FLAG(int, runs, 3, "timed runs (median reported)");
ABSL_FLAG(int, warmup, 1, "untimed runs first");
ABSL_FLAG(int, warmup_frames, 0, "warm up on the first K frames (0: the whole video)");
ABSL_FLAG(std::string, layouts, "contiguous", "comma-separated: contiguous, channels_last");
ABSL_FLAG(int, threads, 0, "LibTorch CPU threads; 0 keeps LibTorch's default");
ABSL_FLAG(std::string, json, "", "write results as JSON here");
ABSL_FLAG(std::string, save, "", "folder for the last run's outputs (.npy) and the text embedding");
ABSL_FLAG(std::string, tag, "depthd", "prefix of the --save files");

namespace {

using namespace depthd;
using Clock = std::chrono::steady_clock;

[[noreturn]] void Fail(const absl::Status& status) {
  std::cerr << status << "\n";
  std::exit(1);
}

diffusion::RollingDepthConfig RollingDepthArchitecture() {
  diffusion::RollingDepthConfig c;  // UNet, VAE defaults are SD 2's
  c.unet.down_block_types = {"CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D",
                             "DownBlock2D"};
  c.unet.up_block_types = {"UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D",
                           "CrossAttnUpBlock2D"};
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

// A video with some structure: horizontal and vertical gradients, a square moving right, a
// little texture. [N, 3, H, W] in [-1, 1].
torch::Tensor SyntheticVideo(int frames, int width) {
  const int height = (width * 9 / 16) / 8 * 8;
  torch::manual_seed(0);
  const torch::Tensor y = torch::linspace(-1, 1, height).view({1, 1, height, 1});
  const torch::Tensor x = torch::linspace(-1, 1, width).view({1, 1, 1, width});
  torch::Tensor video = torch::cat({(0.8 * y).expand({frames, 1, height, width}),
                                    (0.6 * x).expand({frames, 1, height, width}),
                                    (0.4 * x * y).expand({frames, 1, height, width})},
                                   1)
                            .contiguous();
  const int side = std::max(4, height / 5);
  for (int f = 0; f < frames; ++f) {
    const int left = (f * std::max(1, width / frames)) % std::max(1, width - side);
    video[f].narrow(1, height / 2 - side / 2, side).narrow(2, left, side).fill_(0.9);
  }
  return (video + 0.05 * torch::randn(video.sizes())).clamp(-1, 1);
}

void Sync(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize();
}

void ResetPeak([[maybe_unused]] const torch::Device& device) {
#ifdef DEPTHD_WITH_CUDA
  if (device.is_cuda()) c10::cuda::CUDACachingAllocator::resetPeakStats(0);
#endif
}

// Peak (allocated, reserved) GiB since the last reset.
std::pair<double, double> PeakGiB([[maybe_unused]] const torch::Device& device) {
#ifdef DEPTHD_WITH_CUDA
  if (device.is_cuda()) {
    auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(0);
    return {static_cast<double>(stats.allocated_bytes[0].peak) / (1 << 30),
            static_cast<double>(stats.reserved_bytes[0].peak) / (1 << 30)};
  }
#endif
  return {0.0, 0.0};
}

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

using Times = std::map<std::string, double>;  // encode, unet, decode, coalign, merge, refine, total

struct Outputs {
  std::vector<torch::Tensor> snippets;  // per group [S, L, H, W]
  torch::Tensor coaligned;              // [N, H, W], the merge in [-1, 1] (refinement's input)
  torch::Tensor depth;                  // [N, H, W] in [0, 1]
  std::string merge;                    // which merge ran
};

// The merge, [N, H, W] in [0, 1]: core/merge.cc in the full build, else the same
// arithmetic here (mean of s * (x - min_offset) + t over a frame's snippet frames, then the
// video's min-max).
torch::Tensor Merge(const SnippetDepths& depths, const CoalignResult& alignment,
                    std::string* which) {
  const int n = depths.num_frames(), h = depths.height(), w = depths.width();
  torch::Tensor out = torch::empty({n, h, w}, torch::kFloat32);
#ifdef DEPTHD_BENCH_WITH_MERGE
  *which = "core/merge.cc";
  absl::Status status = MergeAndNormalize(depths, alignment, [&](int f, const cv::Mat& depth) {
    std::memcpy(out[f].data_ptr<float>(), depth.ptr<float>(), sizeof(float) * h * w);
    return absl::OkStatus();
  });
  if (!status.ok()) Fail(status);
#else
  *which = "bench_rollingdepth's own (DEPTHD_DIFFUSION_ONLY)";
  torch::Tensor count = torch::zeros({n});
  out.zero_();
  const SnippetPlan& plan = depths.plan();
  for (size_t g = 0; g < plan.groups.size(); ++g) {
    for (size_t s = 0; s < plan.groups[g].snippets.size(); ++s) {
      const float scale = alignment.scales[g][s];
      const float shift = alignment.shifts[g][s] - scale * alignment.min_offset;
      for (int j = 0; j < plan.groups[g].snippet_length; ++j) {
        const int f = plan.groups[g].snippets[s][j];
        const torch::Tensor x = torch::from_blob(
            const_cast<float*>(depths.Slot(static_cast<int>(g), static_cast<int>(s), j)), {h, w});
        out[f].add_(x * scale + shift);
        count[f] += 1;
      }
    }
  }
  out.div_(count.view({n, 1, 1}));
  const float lo = out.min().item<float>(), hi = out.max().item<float>();
  out.sub_(lo).mul_(hi > lo ? 1.0f / (hi - lo) : 0.0f).clamp_(0, 1);
#endif
  return out;
}

struct Settings {
  SnippetPlanOptions plan;
  CoalignOptions coalign;
  RefineOptions refine;
  diffusion::NoiseSource noise = diffusion::NoiseSource::kCpu;
  uint64_t seed = 0;
  int batch = 8, vae_batch = 4;
};

template <typename Call>
torch::Tensor InBatches(const torch::Tensor& x, int batch, Call call) {
  std::vector<torch::Tensor> parts;
  for (int64_t b = 0; b < x.size(0); b += batch)
    parts.push_back(call(x.narrow(0, b, std::min<int64_t>(batch, x.size(0) - b))));
  return torch::cat(parts, 0);
}

// One run of the method on `video`; errors abort the benchmark.
// The snippet predictions are copied out only with `keep_snippets` (for --save).
Times RunVideo(diffusion::RollingDepthNet& net, const torch::Tensor& video,
               const Settings& settings, Outputs* outputs, bool keep_snippets) {
  const torch::Device device = net.device();
  const int n = static_cast<int>(video.size(0)), h = static_cast<int>(video.size(2)),
            w = static_cast<int>(video.size(3));
  auto plan = PlanSnippets(n, settings.plan);
  if (!plan.ok()) Fail(plan.status());
  Times t;
  Sync(device);
  const auto start = Clock::now();
  torch::Tensor latents = InBatches(video, settings.vae_batch,
                                    [&](const torch::Tensor& part) { return net.EncodeRgb(part); });
  torch::Tensor noise = diffusion::DrawNoise(latents.size(1), latents.size(2), latents.size(3),
                                             settings.seed, settings.noise, device, net.dtype());
  Sync(device);
  auto mark = Clock::now();
  t["encode"] = Seconds(start, mark);

  SnippetDepths depths(*plan, h, w);
  t["unet"] = t["decode"] = 0;
  for (size_t g = 0; g < plan->groups.size(); ++g) {
    const SnippetGroup& group = plan->groups[g];
    const int length = group.snippet_length;
    for (size_t b = 0; b < group.snippets.size(); b += settings.batch) {
      const size_t e = std::min(group.snippets.size(), b + settings.batch);
      std::vector<int64_t> flat;
      for (size_t s = b; s < e; ++s)
        flat.insert(flat.end(), group.snippets[s].begin(), group.snippets[s].end());
      const int64_t count = static_cast<int64_t>(e - b);
      auto unet_start = Clock::now();
      torch::Tensor rgb =
          latents.index_select(0, torch::tensor(flat).to(device))
              .reshape({count, length, latents.size(1), latents.size(2), latents.size(3)});
      auto denoised = net.DenoiseSnippets(
          rgb, noise.expand({count, length, noise.size(0), noise.size(1), noise.size(2)}), 1);
      if (!denoised.ok()) Fail(denoised.status());
      Sync(device);
      auto decode_start = Clock::now();
      t["unet"] += Seconds(unet_start, decode_start);
      torch::Tensor flat_latents = denoised->reshape(
          {count * length, denoised->size(2), denoised->size(3), denoised->size(4)});
      torch::Tensor decoded =
          InBatches(flat_latents, settings.vae_batch, [&](const torch::Tensor& part) {
            return net.DecodeDepth(part).to(torch::kCPU);  // predictions live on the CPU
          });
      for (int64_t i = 0; i < count * length; ++i) {
        depths.Write(static_cast<int>(g), static_cast<int>(b + i / length),
                     static_cast<int>(i % length), decoded[i][0].contiguous().data_ptr<float>(), w);
      }
      t["decode"] += Seconds(decode_start, Clock::now());
    }
  }
  mark = Clock::now();
  auto alignment = Coalign(depths, settings.coalign);
  if (!alignment.ok()) Fail(alignment.status());
  auto merge_start = Clock::now();
  t["coalign"] = Seconds(mark, merge_start);
  torch::Tensor merged = Merge(depths, *alignment, &outputs->merge);
  mark = Clock::now();
  t["merge"] = Seconds(merge_start, mark);

  torch::Tensor final_depth = merged;
  t["refine"] = 0;
  if (settings.refine.refine_step > 0) {
    const torch::Tensor coaligned = (merged * 2 - 1).unsqueeze(1);
    torch::Tensor depth_latents =
        InBatches(coaligned, settings.vae_batch, [&](const torch::Tensor& part) {
          return net.EncodeRgb(part.expand({part.size(0), 3, h, w}));
        });
    auto refined = net.Refine(latents, depth_latents, noise, settings.refine);
    if (!refined.ok()) Fail(refined.status());
    final_depth = InBatches(*refined, settings.vae_batch, [&](const torch::Tensor& part) {
                    return net.DecodeDepth(part).to(torch::kCPU);
                  }).squeeze(1);
    const float lo = final_depth.min().item<float>(), hi = final_depth.max().item<float>();
    final_depth = (final_depth - lo) / (hi > lo ? hi - lo : 1.0f);
    Sync(device);
    t["refine"] = Seconds(mark, Clock::now());
  }
  t["total"] = Seconds(start, Clock::now());
  if (!torch::isfinite(final_depth).all().item<bool>())
    std::cerr << "note: non-finite outputs (random weights)\n";

  outputs->snippets.clear();
  outputs->coaligned = merged * 2 - 1;
  outputs->depth = final_depth.contiguous();
  if (!keep_snippets) return t;
  for (size_t g = 0; g < plan->groups.size(); ++g) {
    const SnippetGroup& group = plan->groups[g];
    torch::Tensor s =
        torch::empty({static_cast<int64_t>(group.snippets.size()), group.snippet_length, h, w});
    for (size_t i = 0; i < group.snippets.size(); ++i) {
      for (int j = 0; j < group.snippet_length; ++j) {
        std::memcpy(s[i][j].data_ptr<float>(),
                    depths.Slot(static_cast<int>(g), static_cast<int>(i), j),
                    sizeof(float) * h * w);
      }
    }
    outputs->snippets.push_back(s);
  }
  return t;
}

void SaveNpy(const std::string& path, const torch::Tensor& tensor) {
  const torch::Tensor t = tensor.to(torch::kFloat32).contiguous().cpu();
  absl::Status status = WriteNpyFloat32(path, t.data_ptr<float>(), t.sizes().vec());
  if (!status.ok()) Fail(status);
}

torch::Tensor ReadVideo(const std::string& path) {
  auto array = ReadNpy(path);
  if (!array.ok()) Fail(array.status());
  if (array->shape.size() != 4 || array->shape[1] != 3) {
    Fail(absl::InvalidArgumentError(absl::StrCat(path, ": expected [N, 3, H, W]")));
  }
  auto values = array->AsFloat();
  if (!values.ok()) Fail(values.status());
  return torch::from_blob(values->data(), array->shape, torch::kFloat32).clone();
}

std::vector<int> ParseInts(const std::string& text) {
  std::vector<int> out;
  for (absl::string_view d : absl::StrSplit(text, ',')) {
    int value;
    if (!absl::SimpleAtoi(d, &value))
      Fail(absl::InvalidArgumentError(absl::StrCat("bad integer list '", text, "'")));
    out.push_back(value);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("RollingDepth with depthd's network path, per stage, per dtype.");
  absl::ParseCommandLine(argc, argv);
  if (absl::GetFlag(FLAGS_threads) > 0) torch::set_num_threads(absl::GetFlag(FLAGS_threads));

  if (!absl::GetFlag(FLAGS_write_checkpoint).empty()) {
    testing::TinyCheckpointOptions options;
    options.full_size = absl::GetFlag(FLAGS_arch) == "full";
    if (!options.full_size && absl::GetFlag(FLAGS_arch) != "tiny")
      Fail(absl::InvalidArgumentError("--arch is full or tiny"));
    options.all_in_fp16 = absl::GetFlag(FLAGS_checkpoint_fp16);
    options.seed = static_cast<uint64_t>(absl::GetFlag(FLAGS_seed)) + 1;
    const auto start = Clock::now();
    absl::Status status =
        testing::WriteTinyRollingDepth(absl::GetFlag(FLAGS_write_checkpoint), options);
    if (!status.ok()) Fail(status);
    std::cout << absl::StrFormat("wrote a random %s checkpoint to %s in %.1f s\n",
                                 absl::GetFlag(FLAGS_arch), absl::GetFlag(FLAGS_write_checkpoint),
                                 Seconds(start, Clock::now()));
    return 0;
  }
  if (!absl::GetFlag(FLAGS_write_video).empty()) {
    SaveNpy(absl::GetFlag(FLAGS_write_video),
            SyntheticVideo(absl::GetFlag(FLAGS_frames), absl::GetFlag(FLAGS_res)));
    return 0;
  }

  const torch::Device device(absl::GetFlag(FLAGS_device));
  const torch::Tensor video =
      absl::GetFlag(FLAGS_video).empty()
          ? SyntheticVideo(absl::GetFlag(FLAGS_frames), absl::GetFlag(FLAGS_res))
          : ReadVideo(absl::GetFlag(FLAGS_video));
  const int frames = static_cast<int>(video.size(0));
  Settings settings;
  settings.plan.dilations = ParseInts(absl::GetFlag(FLAGS_dilations));
  settings.plan.cap_dilation = absl::GetFlag(FLAGS_cap_dilation);
  auto solver = ParseCoalignSolver(absl::GetFlag(FLAGS_solver));
  if (!solver.ok()) Fail(solver.status());
  settings.coalign.solver = *solver;
  settings.refine.refine_step = absl::GetFlag(FLAGS_refine_step);
  settings.refine.start_dilation = absl::GetFlag(FLAGS_refine_start_dilation);
  settings.refine.cap_dilation = absl::GetFlag(FLAGS_cap_dilation);
  settings.refine.batch_size = absl::GetFlag(FLAGS_batch);
  settings.batch = absl::GetFlag(FLAGS_batch);
  settings.vae_batch = absl::GetFlag(FLAGS_max_vae_bs);
  settings.seed = static_cast<uint64_t>(absl::GetFlag(FLAGS_seed));
  if (absl::GetFlag(FLAGS_noise) == "model") {
    settings.noise = diffusion::NoiseSource::kModelDevice;
  } else if (absl::GetFlag(FLAGS_noise) != "cpu") {
    Fail(absl::InvalidArgumentError("--noise is cpu or model"));
  }
  auto plan = PlanSnippets(frames, settings.plan);
  if (!plan.ok()) Fail(plan.status());
  if (settings.refine.refine_step > 0) {
    auto refine_plan = diffusion::RefinePlan(frames, settings.refine);
    if (!refine_plan.ok()) Fail(refine_plan.status());
  }
  nlohmann::json report = {{"side", "depthd"},
                           {"device", absl::GetFlag(FLAGS_device)},
                           {"frames", frames},
                           {"width", video.size(3)},
                           {"height", video.size(2)},
                           {"dilations", settings.plan.dilations},
                           {"snippets", plan->TotalSnippets()},
                           {"refine_step", settings.refine.refine_step},
                           {"cap_dilation", settings.plan.cap_dilation},
                           {"solver", absl::GetFlag(FLAGS_solver)},
                           {"noise", absl::GetFlag(FLAGS_noise)},
                           {"seed", absl::GetFlag(FLAGS_seed)},
                           {"batch", settings.batch},
                           {"max_vae_bs", settings.vae_batch},
                           {"threads", torch::get_num_threads()},
                           {"torch", TORCH_VERSION},
                           {"results", nlohmann::json::array()}};
  std::cout << absl::StrFormat(
      "%d frames at %dx%d, %d snippets, dilations %s, refine_step %d, device %s\n", frames,
      video.size(3), video.size(2), plan->TotalSnippets(), absl::GetFlag(FLAGS_dilations),
      settings.refine.refine_step, absl::GetFlag(FLAGS_device));
  const std::vector<std::string> stages = {"encode", "unet",   "decode", "coalign",
                                           "merge",  "refine", "total"};
  std::cout << absl::StrFormat("%-5s %-13s", "dtype", "layout");
  for (const auto& s : stages) std::cout << absl::StrFormat(" %8s", s);
  std::cout << absl::StrFormat(" %10s %8s\n", "s/100f", "peak_GiB");
  const torch::Tensor embedding = torch::randn({1, 2, 1024});
  for (absl::string_view name : absl::StrSplit(absl::GetFlag(FLAGS_dtypes), ','))
    for (absl::string_view layout : absl::StrSplit(absl::GetFlag(FLAGS_layouts), ',')) {
      const torch::ScalarType dtype = name == "fp16"   ? torch::kHalf
                                      : name == "bf16" ? torch::kBFloat16
                                                       : torch::kFloat32;
      std::unique_ptr<diffusion::RollingDepthNet> net;
      if (absl::GetFlag(FLAGS_checkpoint).empty()) {
        net = diffusion::RollingDepthNet::Random(RollingDepthArchitecture(), embedding, device,
                                                 dtype);
      } else {
        auto loaded =
            diffusion::RollingDepthNet::Load(absl::GetFlag(FLAGS_checkpoint), device, dtype);
        if (!loaded.ok()) Fail(loaded.status());
        net = *std::move(loaded);
      }
      net->SetChannelsLast(layout == "channels_last");
      Outputs outputs;
      const bool keep = !absl::GetFlag(FLAGS_save).empty();
      const int warm = absl::GetFlag(FLAGS_warmup_frames);
      const torch::Tensor warm_video = warm > 0 && warm < frames ? video.narrow(0, 0, warm) : video;
      for (int r = 0; r < absl::GetFlag(FLAGS_warmup); ++r)
        RunVideo(*net, warm_video, settings, &outputs, /*keep_snippets=*/false);
      ResetPeak(device);
      std::vector<Times> runs;
      for (int r = 0; r < absl::GetFlag(FLAGS_runs); ++r)
        runs.push_back(RunVideo(*net, video, settings, &outputs, keep));
      Times median;
      for (const auto& s : stages) {
        std::vector<double> v;
        for (const Times& t : runs) v.push_back(t.at(s));
        std::sort(v.begin(), v.end());
        median[s] = v.empty() ? 0.0 : v[v.size() / 2];
      }
      const auto [allocated, reserved] = PeakGiB(device);
      std::cout << absl::StrFormat("%-5s %-13s", std::string(name), std::string(layout));
      for (const auto& s : stages) std::cout << absl::StrFormat(" %8.3f", median[s]);
      std::cout << absl::StrFormat(" %10.3f %8.2f\n", median["total"] * 100.0 / frames, reserved);
      nlohmann::json per100 = nlohmann::json::object(), med = nlohmann::json::object(),
                     all = nlohmann::json::array();
      for (const auto& s : stages) {
        per100[s] = median[s] * 100.0 / frames;
        med[s] = median[s];
      }
      for (const Times& t : runs) all.push_back(t);
      report["results"].push_back({{"dtype", std::string(name)},
                                   {"layout", std::string(layout)},
                                   {"median_s", med},
                                   {"seconds_per_100_frames", per100},
                                   {"runs", all},
                                   {"peak_allocated_gib", allocated},
                                   {"peak_reserved_gib", reserved},
                                   {"merge", outputs.merge}});
      if (!absl::GetFlag(FLAGS_save).empty() && !runs.empty()) {
        const std::string dir = absl::GetFlag(FLAGS_save), tag = absl::GetFlag(FLAGS_tag);
        std::filesystem::create_directories(dir);
        for (size_t g = 0; g < outputs.snippets.size(); ++g) {
          SaveNpy(absl::StrCat(dir, "/", tag, "_snippets_g", g, ".npy"), outputs.snippets[g]);
        }
        SaveNpy(absl::StrCat(dir, "/", tag, "_coaligned.npy"), outputs.coaligned);
        SaveNpy(absl::StrCat(dir, "/", tag, "_depth.npy"), outputs.depth);
        if (!absl::GetFlag(FLAGS_checkpoint).empty()) {
          auto text = diffusion::EncodeEmptyPrompt(absl::GetFlag(FLAGS_checkpoint));
          if (!text.ok()) Fail(text.status());
          SaveNpy(absl::StrCat(dir, "/text_embedding.npy"), *text);
        }
      }
    }
  if (!absl::GetFlag(FLAGS_json).empty())
    std::ofstream(absl::GetFlag(FLAGS_json)) << report.dump(2) << "\n";
  return 0;
}
