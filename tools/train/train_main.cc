// train: trains the embedded TinySnippet network on synthetic videos from tools/synth.
// See docs/model.md for the recipe that made models/tinysnippet.pt.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_format.h"
#include "core/model/device.h"
#include "tools/synth/scene.h"
#include "tools/synth/synth.h"
#include "tools/synth/texture_bank.h"
#include "tools/train/snippet_loss.h"
#include "tools/train/tiny_snippet_net.h"

ABSL_FLAG(int, clips, 300, "training clips to render (seeds train_seed .. + clips - 1)");
ABSL_FLAG(uint64_t, train_seed, 1000, "first training seed (held-out evaluation uses >= 100000)");
ABSL_FLAG(int, clip_frames, 32, "frames per training clip");
ABSL_FLAG(int, refresh_every, 0,
          "every this many steps, replace a random clip of the pool with a newly rendered one (the "
          "next unused seed), so that a long run keeps seeing new scenes (0: a fixed pool)");
ABSL_FLAG(int, held_out_clips, 6,
          "held-out clips (seeds 100000 ..) that choose the best checkpoint; keep below 100 so that "
          "seeds 100100 and up stay untouched for tools/eval");
ABSL_FLAG(double, outdoor_fraction, -1.0,
          "share of training clips rendered as outdoor scenes, in [0, 1], decided per seed so that "
          "runs repeat (negative: the renderer's own choice, half and half); held-out clips always "
          "use the renderer's choice");
ABSL_FLAG(double, tabletop_fraction, 0.0,
          "share of training clips rendered as tabletop scenes (a table seen from above its edge), "
          "decided per seed; the rest follow --outdoor_fraction");
ABSL_FLAG(bool, variety, false,
          "render training clips with the renderer's variety (lighting and colour independent of "
          "depth, varied skies, thin structures, people-like figures; photographs with --textures); "
          "held-out clips never use it");
ABSL_FLAG(std::string, textures, "", "a folder of videos to cut the renderer's photograph textures from");
ABSL_FLAG(uint64_t, texture_seed, 1, "which frames and crops --textures cuts");
ABSL_FLAG(bool, camera_effects, false,
          "degrade a share of the training snippets as cameras do: defocus, motion blur, noise, "
          "gamma, grey, vignetting, exposure flicker");
ABSL_FLAG(int, width, 256, "training width (multiple of 32)");
ABSL_FLAG(int, height, 160, "training height (multiple of 32)");
ABSL_FLAG(int, render_width, 0,
          "render clips this wide and train on random --width x --height crops (0: --width)");
ABSL_FLAG(int, render_height, 0, "render height for crops (0: --height)");
ABSL_FLAG(double, abs_rel_weight, 0.0,
          "add this times the evaluation's error (AbsRel after a least-squares scale and shift per "
          "snippet) to the log-depth loss");
ABSL_FLAG(int, steps, 100000, "maximum optimiser steps");
ABSL_FLAG(double, minutes, 40.0, "stop after this much wall time");
ABSL_FLAG(int, batch, 6, "snippets per step");
ABSL_FLAG(double, lr, 1e-3, "peak learning rate (cosine decay to lr / 50)");
ABSL_FLAG(uint64_t, seed, 7, "initialisation and sampling seed");
ABSL_FLAG(int, threads, 2, "LibTorch threads");
ABSL_FLAG(std::string, out, "train_out", "checkpoint and log folder");
ABSL_FLAG(std::string, resume, "", "resume from this checkpoint (.pt written by train)");
ABSL_FLAG(std::string, init, "", "start from these weights (a .pt written by train) with a fresh schedule");
ABSL_FLAG(std::string, export_model, "", "write the final TorchScript model here (e.g. models/tinysnippet.pt)");
ABSL_FLAG(int, log_every, 50, "steps between log lines");
ABSL_FLAG(int, checkpoint_every, 500, "steps between checkpoints");

namespace depthd::train {
namespace {

// Seeds from here on are never trained on: tools/eval and the held-out checks use them.
constexpr uint64_t kFirstHeldOutSeed = 100000;

struct Clip {
  torch::Tensor rgb;    // [N, 3, H, W] uint8 (a quarter of float's memory: larger pools fit)
  torch::Tensor depth;  // [N, H, W] metres, 0 = sky
};

Clip ToClip(const synth::RenderedVideo& video) {
  const int64_t N = video.rgb.size(), H = video.rgb[0].rows, W = video.rgb[0].cols;
  Clip clip{torch::empty({N, 3, H, W}, torch::kUInt8), torch::empty({N, H, W})};
  for (int64_t f = 0; f < N; ++f) {
    clip.rgb[f] = torch::from_blob(video.rgb[f].data, {H, W, 3}, torch::kUInt8).permute({2, 0, 1});
    clip.depth[f] = torch::from_blob(video.depth[f].data, {H, W}, torch::kFloat32).clone();
  }
  return clip;
}

// uint8 RGB -> float in [-1, 1], the network's input range.
torch::Tensor ToInput(const torch::Tensor& rgb) { return rgb.to(torch::kFloat32) / 127.5 - 1.0; }

struct Batch {
  torch::Tensor rgb;    // [B, 3, 3, H, W] in [-1, 1]
  torch::Tensor depth;  // [B, 3, 1, H, W] metres, 0 = sky
};

// A separable Gaussian (sigma in pixels) or a motion-blur line (length in pixels at `angle`),
// as a [3, 1, k, k] depthwise kernel.
torch::Tensor BlurKernel(double sigma, double length, double angle) {
  const int radius = std::max(1, static_cast<int>(std::ceil(std::max(3.0 * sigma, length / 2.0))));
  const int k = 2 * radius + 1;
  auto kernel = torch::zeros({k, k});
  auto a = kernel.accessor<float, 2>();
  if (length > 0) {
    for (int i = 0; i <= 4 * radius; ++i) {
      const double t = (i / (4.0 * radius) - 0.5) * length;
      const int x = static_cast<int>(std::lround(radius + t * std::cos(angle)));
      const int y = static_cast<int>(std::lround(radius + t * std::sin(angle)));
      a[std::clamp(y, 0, k - 1)][std::clamp(x, 0, k - 1)] += 1.0f;
    }
  } else {
    for (int y = 0; y < k; ++y) {
      for (int x = 0; x < k; ++x) {
        a[y][x] = static_cast<float>(std::exp(-((x - radius) * (x - radius) + (y - radius) * (y - radius)) /
                                              (2.0 * sigma * sigma)));
      }
    }
  }
  kernel = kernel / kernel.sum();
  return kernel.view({1, 1, k, k}).expand({3, 1, k, k}).contiguous();
}

// What cameras do to a picture, each with its own chance: defocus or motion blur, a gamma, grey,
// vignetting, exposure flicker between the frames, sensor noise. r: [3 frames, 3, H, W] in
// [-1, 1]; depth is untouched.
torch::Tensor CameraEffects(torch::Tensor r, synth::Rng& rng) {
  if (rng.Uniform() < 0.35) {
    const bool motion = rng.Uniform() < 0.5;
    const auto kernel = motion ? BlurKernel(0, rng.Uniform(2.0, 10.0), rng.Uniform(0, M_PI))
                               : BlurKernel(rng.Uniform(0.5, 1.6), 0, 0);
    const int64_t pad = kernel.size(2) / 2;
    r = torch::conv2d(torch::replication_pad2d(r, {pad, pad, pad, pad}), kernel, torch::Tensor(), torch::IntArrayRef{1, 1}, torch::IntArrayRef{0, 0}, torch::IntArrayRef{1, 1}, 3);
  }
  auto unit = (r + 1.0) * 0.5;  // [0, 1]
  if (rng.Uniform() < 0.3) unit = unit.clamp_min(0.0).pow(rng.Uniform(0.7, 1.5));
  if (rng.Uniform() < 0.1) unit = unit.mean(1, true).expand_as(unit).contiguous();
  if (rng.Uniform() < 0.2) {
    const int64_t H = unit.size(2), W = unit.size(3);
    auto y = torch::linspace(-1, 1, H).view({1, 1, H, 1}), x = torch::linspace(-1, 1, W).view({1, 1, 1, W});
    unit = unit * (1.0 - rng.Uniform(0.1, 0.4) * (x * x + y * y) * 0.5);
  }
  if (rng.Uniform() < 0.2) {
    unit = unit * torch::tensor({static_cast<float>(rng.Uniform(0.92, 1.08)), static_cast<float>(rng.Uniform(0.92, 1.08)),
                                 static_cast<float>(rng.Uniform(0.92, 1.08))}).view({3, 1, 1, 1});
  }
  if (rng.Uniform() < 0.4) unit = unit + torch::randn_like(unit) * rng.Uniform(0.003, 0.02);
  return (unit * 2.0 - 1.0).clamp(-1.0, 1.0);
}

// A batch of snippets, each a random `height` x `width` crop of its clip (the whole frame when
// the clip has that size).
Batch Sample(const std::vector<Clip>& clips, synth::Rng& rng, int batch, int width, int height,
             bool camera_effects) {
  std::vector<torch::Tensor> rgb, depths;
  static const int kDilations[] = {1, 1, 2, 3, 5, 8, 12, 15};
  for (int b = 0; b < batch; ++b) {
    const Clip& clip = clips[rng.Int(0, static_cast<int>(clips.size()) - 1)];
    const int N = static_cast<int>(clip.rgb.size(0));
    int d = kDilations[rng.Int(0, 7)];
    while (2 * d >= N) d /= 2;
    d = std::max(d, 1);
    const int start = rng.Int(0, N - 1 - 2 * d);
    auto index = torch::tensor({start, start + d, start + 2 * d}, torch::kLong);
    if (rng.Uniform() < 0.5) index = index.flip(0);  // time reversal
    auto r = ToInput(clip.rgb.index_select(0, index));
    auto depth = clip.depth.index_select(0, index);
    const int y = rng.Int(0, static_cast<int>(r.size(2)) - height);
    const int x = rng.Int(0, static_cast<int>(r.size(3)) - width);
    r = r.narrow(2, y, height).narrow(3, x, width);
    depth = depth.narrow(1, y, height).narrow(2, x, width);
    if (rng.Uniform() < 0.5) {
      r = r.flip(3);
      depth = depth.flip(2);
    }
    // Colour jitter: contrast, brightness, per-channel gain.
    const double contrast = rng.Uniform(0.7, 1.3), brightness = rng.Uniform(-0.2, 0.2);
    auto gain = torch::tensor({rng.Uniform(0.85, 1.15), rng.Uniform(0.85, 1.15),
                               rng.Uniform(0.85, 1.15)}, torch::kFloat32).view({1, 3, 1, 1});
    r = ((r * contrast + brightness) * gain).clamp(-1.0, 1.0);
    if (camera_effects) r = CameraEffects(r, rng);
    rgb.push_back(r);
    depths.push_back(depth.unsqueeze(1));
  }
  return {torch::stack(rgb), torch::stack(depths)};
}

// AbsRel / delta1 on held-out snippets after one least-squares fit per snippet, valid pixels.
std::pair<double, double> Validate(torch::jit::Module& net, const std::vector<Clip>& clips) {
  torch::NoGradGuard no_grad;
  double abs_rel = 0, delta1 = 0;
  int count = 0;
  for (const Clip& clip : clips) {
    for (int start = 0; start + 2 < clip.rgb.size(0); start += 9) {
      auto index = torch::tensor({start, start + 1, start + 2}, torch::kLong);
      auto rgb = ToInput(clip.rgb.index_select(0, index)).unsqueeze(0);
      auto depth = clip.depth.index_select(0, index).unsqueeze(0).unsqueeze(2);
      auto pred = net.forward({rgb}).toTensor();
      const auto valid = depth > 0;
      const auto aligned = AlignPerSnippet(pred, depth, valid.to(torch::kFloat32));
      abs_rel += AbsRelOfAligned(aligned, depth).item<double>();
      const auto g = depth.masked_select(valid), p = aligned.clamp_min(1e-3).masked_select(valid);
      delta1 += (torch::max(p / g, g / p) < 1.25).to(torch::kFloat32).mean().item<double>();
      ++count;
    }
  }
  return {abs_rel / count, delta1 / count};
}

// What the training clips are rendered with beyond the seed and the size.
struct RenderStyle {
  double outdoor_fraction = -1.0;  // < 0: the renderer's choice (the held-out distribution)
  double tabletop_fraction = 0.0;
  bool variety = false;
  const std::vector<cv::Mat>* textures = nullptr;
};

Clip RenderClip(uint64_t seed, int frames, int width, int height, const RenderStyle& style) {
  synth::SceneOptions options;
  options.seed = seed;
  // A hash of the seed, not the renderer's own draw, so the scene itself stays a function of the seed.
  const double draw = static_cast<double>((seed * 0x9E3779B97F4A7C15ull) >> 11) * 0x1p-53;  // [0, 1)
  if (draw < style.tabletop_fraction) {
    options.kind = synth::SceneKind::kTabletop;
  } else if (style.outdoor_fraction >= 0) {
    // The rest, rescaled to [0, 1): with no tabletops this is the draw itself, as before.
    const double rest = style.tabletop_fraction > 0 ? (draw - style.tabletop_fraction) / (1.0 - style.tabletop_fraction) : draw;
    options.kind = rest < style.outdoor_fraction ? synth::SceneKind::kOutdoor : synth::SceneKind::kRoom;
  }
  options.variety = style.variety;
  options.image_textures = style.textures;
  options.num_frames = frames;
  options.width = width;
  options.height = height;
  auto video = synth::RenderVideo(options);
  if (!video.ok()) {
    std::cerr << "train: " << video.status() << "\n";
    std::exit(1);
  }
  return ToClip(*video);
}

std::vector<Clip> Render(uint64_t first_seed, int count, int frames, int width, int height,
                         const RenderStyle& style) {
  std::vector<Clip> clips;
  for (int i = 0; i < count; ++i) {
    clips.push_back(RenderClip(first_seed + i, frames, width, height, style));
  }
  return clips;
}

}  // namespace
}  // namespace depthd::train

int main(int argc, char** argv) {
  using namespace depthd::train;
  namespace fs = std::filesystem;
  absl::SetProgramUsageMessage("Trains the TinySnippet depth network on synthetic videos.");
  absl::ParseCommandLine(argc, argv);
  depthd::SetTorchThreads(absl::GetFlag(FLAGS_threads));
  const fs::path out_dir(absl::GetFlag(FLAGS_out));
  fs::create_directories(out_dir);
  std::ofstream log(out_dir / "train.log", std::ios::app);
  auto say = [&](const std::string& line) {
    std::cout << line << std::endl;
    log << line << std::endl;
  };
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };

  const int width = absl::GetFlag(FLAGS_width), height = absl::GetFlag(FLAGS_height);
  const int render_width = absl::GetFlag(FLAGS_render_width) > 0 ? absl::GetFlag(FLAGS_render_width) : width;
  const int render_height = absl::GetFlag(FLAGS_render_height) > 0 ? absl::GetFlag(FLAGS_render_height) : height;
  if (render_width < width || render_height < height || width % 32 != 0 || height % 32 != 0) {
    std::cerr << "train: --width/--height must be multiples of 32 and fit inside the render size\n";
    return 2;
  }
  if (absl::GetFlag(FLAGS_train_seed) + absl::GetFlag(FLAGS_clips) > kFirstHeldOutSeed) {
    std::cerr << "train: training seeds must stay below " << kFirstHeldOutSeed << ", the held-out range\n";
    return 2;
  }
  const int refresh_every = absl::GetFlag(FLAGS_refresh_every);
  const double abs_rel_weight = absl::GetFlag(FLAGS_abs_rel_weight);
  if (abs_rel_weight < 0) {
    std::cerr << "train: --abs_rel_weight must be >= 0 (0 turns the term off)\n";
    return 2;
  }
  RenderStyle style;
  style.outdoor_fraction = absl::GetFlag(FLAGS_outdoor_fraction);
  style.tabletop_fraction = absl::GetFlag(FLAGS_tabletop_fraction);
  style.variety = absl::GetFlag(FLAGS_variety);
  if (style.outdoor_fraction > 1 || style.tabletop_fraction < 0 || style.tabletop_fraction >= 1) {
    std::cerr << "train: --outdoor_fraction must be at most 1 (negative: the renderer's choice) and "
                 "--tabletop_fraction in [0, 1)\n";
    return 2;
  }
  std::vector<cv::Mat> textures;
  if (!absl::GetFlag(FLAGS_textures).empty()) {
    if (!style.variety) {
      std::cerr << "train: --textures needs --variety\n";
      return 2;
    }
    auto videos = depthd::synth::ListVideos(absl::GetFlag(FLAGS_textures));
    depthd::synth::TextureBankOptions bank;
    bank.seed = absl::GetFlag(FLAGS_texture_seed);
    auto cut = videos.ok() ? depthd::synth::CutTextures(*videos, bank)
                           : absl::StatusOr<std::vector<cv::Mat>>(videos.status());
    if (!cut.ok()) {
      std::cerr << "train: " << cut.status() << "\n";
      return 1;
    }
    textures = *std::move(cut);
    say(absl::StrFormat("cut %d texture patches from %d videos in %s (%.0f s)", textures.size(), videos->size(),
                        absl::GetFlag(FLAGS_textures), elapsed()));
    style.textures = &textures;
  }
  std::vector<Clip> clips = Render(absl::GetFlag(FLAGS_train_seed), absl::GetFlag(FLAGS_clips),
                                   absl::GetFlag(FLAGS_clip_frames), render_width, render_height, style);
  // Refreshed clips take the seeds after the initial pool; they must never reach the held-out range.
  uint64_t next_seed = absl::GetFlag(FLAGS_train_seed) + absl::GetFlag(FLAGS_clips);
  // Validation runs on whole frames at the render size, the scale the network will see.
  const std::vector<Clip> held_out = Render(kFirstHeldOutSeed, absl::GetFlag(FLAGS_held_out_clips), 24,
                                            render_width / 32 * 32, render_height / 32 * 32,
                                            RenderStyle{});
  say(absl::StrFormat("rendered %d training clips and %d held-out clips in %.0f s", clips.size(),
                      held_out.size(), elapsed()));

  torch::jit::Module net = BuildTinySnippetNet(absl::GetFlag(FLAGS_seed));
  int start_step = 0;
  if (!absl::GetFlag(FLAGS_init).empty()) {
    net = torch::jit::load(absl::GetFlag(FLAGS_init));
    say("initialised from " + absl::GetFlag(FLAGS_init));
  }
  if (!absl::GetFlag(FLAGS_resume).empty()) {
    net = torch::jit::load(absl::GetFlag(FLAGS_resume));
    std::ifstream step_file(absl::GetFlag(FLAGS_resume) + ".step");
    step_file >> start_step;
    say(absl::StrFormat("resumed from %s at step %d", absl::GetFlag(FLAGS_resume), start_step));
  }
  net.train();
  std::vector<torch::Tensor> params;
  for (torch::Tensor p : net.parameters()) {
    p.set_requires_grad(true);
    params.push_back(p);
  }
  say(absl::StrFormat("TinySnippet: %d parameters", ParameterCount(net)));
  torch::optim::AdamW optimizer(params, torch::optim::AdamWOptions(absl::GetFlag(FLAGS_lr)).weight_decay(1e-4));
  const fs::path optimizer_path = out_dir / "optimizer.pt";
  if (start_step > 0 && fs::exists(optimizer_path)) torch::load(optimizer, optimizer_path.string());

  depthd::synth::Rng rng(absl::GetFlag(FLAGS_seed) + start_step);
  const int max_steps = absl::GetFlag(FLAGS_steps);
  const double budget = absl::GetFlag(FLAGS_minutes) * 60.0;
  // The schedule is laid over the expected number of steps, re-estimated from the speed so far.
  double planned_steps = max_steps;
  double running = 0;
  double best_abs_rel = 1e9;
  int step = start_step;
  auto save = [&](const fs::path& path) {
    net.save(path.string());
    std::ofstream(path.string() + ".step") << step;
  };
  for (; step < max_steps; ++step) {
    const double t = elapsed();
    if (t > budget) break;
    if (step > start_step + 20) {
      planned_steps = std::min<double>(max_steps, start_step + (step - start_step) * budget / t);
    }
    const double progress = std::min(1.0, step / std::max(1.0, planned_steps));
    const double warmup = std::min(1.0, (step + 1) / 200.0);
    const double lr = absl::GetFlag(FLAGS_lr) * warmup * (0.02 + 0.98 * 0.5 * (1 + std::cos(M_PI * progress)));
    for (auto& group : optimizer.param_groups()) {
      static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
    }
    if (refresh_every > 0 && step > start_step && (step - start_step) % refresh_every == 0 &&
        next_seed < kFirstHeldOutSeed) {
      clips[rng.Int(0, static_cast<int>(clips.size()) - 1)] =
          RenderClip(next_seed++, absl::GetFlag(FLAGS_clip_frames), render_width, render_height, style);
    }
    const Batch batch = Sample(clips, rng, absl::GetFlag(FLAGS_batch), width, height, absl::GetFlag(FLAGS_camera_effects));
    auto pred = net.forward({batch.rgb}).toTensor();
    auto loss = LogDepthLoss(pred, batch.depth);
    if (abs_rel_weight > 0) loss = loss + abs_rel_weight * AlignedAbsRel(pred, batch.depth);
    optimizer.zero_grad();
    loss.backward();
    torch::nn::utils::clip_grad_norm_(params, 1.0);
    optimizer.step();
    running = step == start_step ? loss.item<double>() : 0.98 * running + 0.02 * loss.item<double>();
    if ((step + 1) % absl::GetFlag(FLAGS_log_every) == 0) {
      say(absl::StrFormat("step %d loss %.4f lr %.2e %.2f steps/s elapsed %.0f s", step + 1, running,
                          lr, (step + 1 - start_step) / elapsed(), elapsed()));
    }
    if ((step + 1) % absl::GetFlag(FLAGS_checkpoint_every) == 0) {
      net.eval();
      const auto [abs_rel, delta1] = Validate(net, held_out);
      net.train();
      say(absl::StrFormat("step %d held-out snippets: AbsRel %.4f delta1 %.4f (training seeds used: %d)",
                          step + 1, abs_rel, delta1, next_seed - absl::GetFlag(FLAGS_train_seed)));
      save(out_dir / "last.pt");
      torch::save(optimizer, optimizer_path.string());
      if (abs_rel < best_abs_rel) {
        best_abs_rel = abs_rel;
        save(out_dir / "best.pt");
      }
    }
  }
  net.eval();
  const auto [abs_rel, delta1] = Validate(net, held_out);
  say(absl::StrFormat("final step %d held-out snippets: AbsRel %.4f delta1 %.4f (%.0f s)", step, abs_rel,
                      delta1, elapsed()));
  save(out_dir / "last.pt");
  if (abs_rel < best_abs_rel) save(out_dir / "best.pt");
  if (!absl::GetFlag(FLAGS_export_model).empty()) {
    torch::jit::Module best = torch::jit::load((out_dir / "best.pt").string());
    for (torch::Tensor p : best.parameters()) p.set_requires_grad(false);
    best.eval();
    best.save(absl::GetFlag(FLAGS_export_model));
    say("exported " + absl::GetFlag(FLAGS_export_model));
  }
  return 0;
}
