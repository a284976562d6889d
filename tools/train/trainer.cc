#include "tools/train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/synth/scene.h"
#include "tools/synth/synth.h"
#include "tools/synth/texture_bank.h"
#include "tools/train/augment.h"
#include "tools/train/real_clips.h"
#include "tools/train/snippet_loss.h"
#include "tools/train/tiny_snippet_net.h"

namespace depthd::train {
namespace {

namespace fs = std::filesystem;

// Seeds from here on are never trained on: tools/eval and the held-out checks use them.
constexpr uint64_t kFirstHeldOutSeed = 100000;

struct Clip {
  torch::Tensor rgb;    // [N, 3, H, W] uint8 (a quarter of float's memory: larger pools fit)
  torch::Tensor depth;  // [N, H, W] metres, 0 = sky
  double fx = 0, cx = 0, cy = 0;  // pixels, pixel centres at integers
};

Clip ToClip(const synth::RenderedVideo& video) {
  const int64_t N = video.rgb.size(), H = video.rgb[0].rows, W = video.rgb[0].cols;
  Clip clip{torch::empty({N, 3, H, W}, torch::kUInt8), torch::empty({N, H, W}), video.intrinsics.fx,
            video.intrinsics.cx - 0.5, video.intrinsics.cy - 0.5};
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
        a[y][x] = static_cast<float>(std::exp(
            -((x - radius) * (x - radius) + (y - radius) * (y - radius)) / (2.0 * sigma * sigma)));
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
    r = torch::conv2d(torch::replication_pad2d(r, {pad, pad, pad, pad}), kernel, torch::Tensor(),
                      torch::IntArrayRef{1, 1}, torch::IntArrayRef{0, 0}, torch::IntArrayRef{1, 1},
                      3);
  }
  auto unit = (r + 1.0) * 0.5;  // [0, 1]
  if (rng.Uniform() < 0.3) unit = unit.clamp_min(0.0).pow(rng.Uniform(0.7, 1.5));
  if (rng.Uniform() < 0.1) unit = unit.mean(1, true).expand_as(unit).contiguous();
  if (rng.Uniform() < 0.2) {
    const int64_t H = unit.size(2), W = unit.size(3);
    auto y = torch::linspace(-1, 1, H).view({1, 1, H, 1}),
         x = torch::linspace(-1, 1, W).view({1, 1, 1, W});
    unit = unit * (1.0 - rng.Uniform(0.1, 0.4) * (x * x + y * y) * 0.5);
  }
  if (rng.Uniform() < 0.2) {
    unit = unit * torch::tensor({static_cast<float>(rng.Uniform(0.92, 1.08)),
                                 static_cast<float>(rng.Uniform(0.92, 1.08)),
                                 static_cast<float>(rng.Uniform(0.92, 1.08))})
                      .view({3, 1, 1, 1});
  }
  // Torch's own generator draws the noise; its state is saved with every checkpoint.
  if (rng.Uniform() < 0.4) unit = unit + torch::randn_like(unit) * rng.Uniform(0.003, 0.02);
  return (unit * 2.0 - 1.0).clamp(-1.0, 1.0);
}

// Contrast, brightness and a per-channel gain on a snippet in [-1, 1].
torch::Tensor ColourJitter(const torch::Tensor& r, synth::Rng& rng) {
  const double contrast = rng.Uniform(0.7, 1.3), brightness = rng.Uniform(-0.2, 0.2);
  auto gain =
      torch::tensor({rng.Uniform(0.85, 1.15), rng.Uniform(0.85, 1.15), rng.Uniform(0.85, 1.15)},
                    torch::kFloat32)
          .view({1, 3, 1, 1});
  return ((r * contrast + brightness) * gain).clamp(-1.0, 1.0);
}

// A camera turning in the hand: every frame of the snippet seen through a camera rolled and
// pitched by its own small angle (a common one plus a drift across the snippet, up to
// `max_degrees`) and zoomed by up to 15 % (TurnCamera: the depth is that of the turned camera,
// pixels brought in from outside the frame are unknown and not scored). r: [3, 3, H, W] in
// [-1, 1], depth: [3, H, W].
void TurnCameras(torch::Tensor* r, torch::Tensor* depth, double fx, double cx, double cy, double max_degrees,
                 synth::Rng& rng) {
  const double unit = max_degrees * M_PI / 180.0;
  const double roll0 = rng.Uniform(-unit, unit), pitch0 = rng.Uniform(-unit, unit) * 0.5;
  const double roll_step = rng.Uniform(-unit, unit) / 3, pitch_step = rng.Uniform(-unit, unit) / 3;
  const double zoom = rng.Uniform(1.0, 1.15);
  std::vector<torch::Tensor> images, depths;
  for (int64_t f = 0; f < r->size(0); ++f) {
    torch::Tensor image, d;
    TurnCamera((*r)[f], (*depth)[f], fx, cx, cy, roll0 + roll_step * (f - 1), pitch0 + pitch_step * (f - 1), zoom,
               &image, &d);
    images.push_back(image);
    depths.push_back(d);
  }
  *r = torch::stack(images);
  *depth = torch::stack(depths);
}

// A batch of snippets, each a random `height` x `width` crop of its clip (the whole frame when
// the clip has that size).
Batch Sample(const std::vector<Clip>& clips, synth::Rng& rng, int batch, int width, int height,
             bool camera_effects, double turn_degrees) {
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
    if (turn_degrees > 0 && rng.Uniform() < 0.5) {
      TurnCameras(&r, &depth, clip.fx, clip.cx - x, clip.cy - y, turn_degrees, rng);
    }
    if (rng.Uniform() < 0.5) {
      r = r.flip(3);
      depth = depth.flip(2);
    }
    r = ColourJitter(r, rng);
    if (camera_effects) r = CameraEffects(r, rng);
    rgb.push_back(r);
    depths.push_back(depth.unsqueeze(1));
  }
  return {torch::stack(rgb), torch::stack(depths)};
}

// Real snippets for the photometric loss: the network sees them jittered, the loss compares
// the frames as they are.
struct RealBatch {
  torch::Tensor input;                        // [R, 3, 3, H, W] in [-1, 1]
  torch::Tensor centre, prev, next;           // [R, 3, H, W] in [0, 1]
  torch::Tensor K;                            // [R, 3, 3]
  torch::Tensor rotation[2], translation[2];  // centre -> prev, centre -> next
  std::vector<const RealSnippet*> snippets;
};

torch::Tensor ToTensor(const cv::Matx33d& m) {
  return torch::tensor(
             {m(0, 0), m(0, 1), m(0, 2), m(1, 0), m(1, 1), m(1, 2), m(2, 0), m(2, 1), m(2, 2)},
             torch::kFloat32)
      .view({3, 3});
}

RealBatch SampleReal(const std::vector<RealClip>& clips, const std::vector<RealSnippet>& snippets,
                     synth::Rng& rng, int count) {
  RealBatch batch;
  std::vector<torch::Tensor> input, centre, prev, next, K, rotation[2], translation[2];
  for (int i = 0; i < count; ++i) {
    const RealSnippet& s = snippets[rng.Int(0, static_cast<int>(snippets.size()) - 1)];
    const RealClip& clip = clips[s.clip];
    auto index =
        torch::tensor({s.centre - s.dilation, s.centre, s.centre + s.dilation}, torch::kLong);
    const auto frames =
        clip.rgb.index_select(0, index).to(torch::kFloat32) / 255.0;  // [3, 3, H, W]
    // Time reversal swaps the outer frames; the centre stays the centre.
    auto shown = rng.Uniform() < 0.5 ? frames.flip(0) : frames;
    input.push_back(ColourJitter(shown * 2.0 - 1.0, rng));
    prev.push_back(frames[0]);
    centre.push_back(frames[1]);
    next.push_back(frames[2]);
    K.push_back(ToTensor(clip.K));
    const PairMotion* motions[2] = {&s.to_prev, &s.to_next};
    for (int k = 0; k < 2; ++k) {
      rotation[k].push_back(ToTensor(motions[k]->R));
      translation[k].push_back(
          torch::tensor({motions[k]->t[0], motions[k]->t[1], motions[k]->t[2]}, torch::kFloat32));
    }
    batch.snippets.push_back(&s);
  }
  batch.input = torch::stack(input);
  batch.centre = torch::stack(centre);
  batch.prev = torch::stack(prev);
  batch.next = torch::stack(next);
  batch.K = torch::stack(K);
  for (int k = 0; k < 2; ++k) {
    batch.rotation[k] = torch::stack(rotation[k]);
    batch.translation[k] = torch::stack(translation[k]);
  }
  return batch;
}

// The network's centre depth has no scale; the motion's translation is a unit vector. Each
// source gets the scale that puts the prediction onto the corners triangulated with that
// motion (the median ratio, not differentiated), so the warp is in the motion's units.
torch::Tensor RealLoss(const torch::Tensor& pred, const RealBatch& batch,
                       double smoothness_weight) {
  const auto depth = pred.select(1, 1);  // [R, 1, H, W]
  const int64_t R = depth.size(0), H = depth.size(2), W = depth.size(3);
  std::vector<torch::Tensor> scaled[2];
  const auto detached = depth.detach();
  for (int64_t r = 0; r < R; ++r) {
    const PairMotion* motions[2] = {&batch.snippets[r]->to_prev, &batch.snippets[r]->to_next};
    for (int k = 0; k < 2; ++k) {
      const PairMotion& m = *motions[k];
      std::vector<float> ratios;
      const auto d = detached[r][0];
      auto a = d.accessor<float, 2>();
      for (size_t p = 0; p < m.points_a.size(); ++p) {
        const int x =
            std::clamp(static_cast<int>(std::lround(m.points_a[p].x)), 0, static_cast<int>(W) - 1);
        const int y =
            std::clamp(static_cast<int>(std::lround(m.points_a[p].y)), 0, static_cast<int>(H) - 1);
        ratios.push_back(m.depth_a[p] / std::max(a[y][x], 1e-6f));
      }
      std::nth_element(ratios.begin(), ratios.begin() + ratios.size() / 2, ratios.end());
      scaled[k].push_back(depth[r] * ratios[ratios.size() / 2]);
    }
  }
  const auto prev_depth = torch::stack(scaled[0]), next_depth = torch::stack(scaled[1]);
  auto loss = PhotometricLoss(batch.centre, {batch.prev, batch.next}, {prev_depth, next_depth},
                              batch.K, {batch.rotation[0], batch.rotation[1]},
                              {batch.translation[0], batch.translation[1]});
  if (smoothness_weight > 0)
    loss = loss + smoothness_weight * EdgeAwareSmoothness(depth, batch.centre);
  return loss;
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
  double variety_share = 1.0;  // of the clips, decided per seed; the others as the base renderer
  const std::vector<cv::Mat>* textures = nullptr;
};

absl::StatusOr<Clip> RenderClip(uint64_t seed, int frames, int width, int height,
                                const RenderStyle& style) {
  synth::SceneOptions options;
  options.seed = seed;
  // A hash of the seed, not the renderer's own draw, so the scene itself stays a function of the
  // seed.
  const double draw =
      static_cast<double>((seed * 0x9E3779B97F4A7C15ull) >> 11) * 0x1p-53;  // [0, 1)
  if (draw < style.tabletop_fraction) {
    options.kind = synth::SceneKind::kTabletop;
  } else if (style.outdoor_fraction >= 0) {
    // The rest, rescaled to [0, 1): with no tabletops this is the draw itself, as before.
    const double rest = style.tabletop_fraction > 0
                            ? (draw - style.tabletop_fraction) / (1.0 - style.tabletop_fraction)
                            : draw;
    options.kind =
        rest < style.outdoor_fraction ? synth::SceneKind::kOutdoor : synth::SceneKind::kRoom;
  }
  // A second hash, independent of the first, so the share holds within every scene kind.
  const double variety_draw =
      static_cast<double>(((seed ^ 0xC2B2AE3D27D4EB4Full) * 0x9E3779B97F4A7C15ull) >> 11) * 0x1p-53;
  options.variety = style.variety && variety_draw < style.variety_share;
  options.image_textures = style.textures;
  options.num_frames = frames;
  options.width = width;
  options.height = height;
  auto video = synth::RenderVideo(options);
  if (!video.ok()) return video.status();
  return ToClip(*video);
}

// What a checkpoint carries beyond the weights and the optimiser: enough to go on exactly as an
// uninterrupted run would (the sampler's stream, torch's generator, the pool's seeds).
struct State {
  int step = 0;
  uint64_t rng = 0;
  std::vector<uint64_t> pool;
  uint64_t next_seed = 0;
  double running = 0;
  double best_abs_rel = 1e9;
  std::string data;  // the options that made the pool; a resume with other data renders anew
};

std::string DataSignature(const TrainOptions& o, int render_width, int render_height) {
  return absl::StrFormat(
      "seed %d clips %d frames %d render %dx%d outdoor %g tabletop %g variety %d/%g textures %s/%d",
      o.train_seed, o.clips, o.clip_frames, render_width, render_height, o.outdoor_fraction,
      o.tabletop_fraction, o.variety, o.variety_share, o.textures, o.texture_seed);
}

}  // namespace

absl::StatusOr<TrainResult> Train(const TrainOptions& o,
                                  const std::function<void(const std::string&)>& report) {
  const fs::path out_dir(o.out);
  fs::create_directories(out_dir);
  std::ofstream log(out_dir / "train.log", std::ios::app);
  auto say = [&](const std::string& line) {
    if (report) report(line);
    log << line << std::endl;
  };
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };

  const int width = o.width, height = o.height;
  const int render_width = o.render_width > 0 ? o.render_width : width;
  const int render_height = o.render_height > 0 ? o.render_height : height;
  if (render_width < width || render_height < height || width % kTinySnippetStride != 0 ||
      height % kTinySnippetStride != 0) {
    return absl::InvalidArgumentError(
        "--width/--height must be multiples of 32 and fit inside the render size");
  }
  if (o.train_seed + o.clips > kFirstHeldOutSeed) {
    return absl::InvalidArgumentError(
        absl::StrCat("training seeds must stay below ", kFirstHeldOutSeed, ", the held-out range"));
  }
  if (o.abs_rel_weight < 0)
    return absl::InvalidArgumentError("--abs_rel_weight must be >= 0 (0 turns the term off)");
  if (o.outdoor_fraction > 1 || o.tabletop_fraction < 0 || o.tabletop_fraction >= 1) {
    return absl::InvalidArgumentError(
        "--outdoor_fraction must be at most 1 (negative: the renderer's choice) and "
        "--tabletop_fraction in [0, 1)");
  }
  if (o.photometric_weight < 0 || o.smoothness_weight < 0) {
    return absl::InvalidArgumentError("--photometric_weight and --smoothness_weight must be >= 0");
  }
  if (o.photometric_weight > 0 && (o.real_clips.empty() || o.real_batch < 1)) {
    return absl::InvalidArgumentError(
        "--photometric_weight needs --real_clips and --real_batch >= 1");
  }
  if (o.variety_share < 0 || o.variety_share > 1) {
    return absl::InvalidArgumentError("--variety_share must be in [0, 1]");
  }
  if (!o.textures.empty() && !o.variety)
    return absl::InvalidArgumentError("--textures needs --variety");
  if (o.batch < 1 || o.clips < 1 || o.clip_frames < 3 || o.held_out_clips < 1) {
    return absl::InvalidArgumentError(
        "--batch, --clips and --held_out_clips must be >= 1, --clip_frames >= 3");
  }

  RenderStyle style;
  style.outdoor_fraction = o.outdoor_fraction;
  style.tabletop_fraction = o.tabletop_fraction;
  style.variety = o.variety;
  style.variety_share = o.variety_share;
  std::vector<cv::Mat> textures;
  if (!o.textures.empty()) {
    auto videos = synth::ListVideos(o.textures);
    if (!videos.ok()) return videos.status();
    synth::TextureBankOptions bank;
    bank.seed = o.texture_seed;
    auto cut = synth::CutTextures(*videos, bank);
    if (!cut.ok()) return cut.status();
    textures = *std::move(cut);
    say(absl::StrFormat("cut %d texture patches from %d videos in %s (%.0f s)", textures.size(),
                        videos->size(), o.textures, elapsed()));
    style.textures = &textures;
  }

  // The checkpoint to go on from, if any, and what it says about the sampler and the pool.
  State state;
  const std::string data = DataSignature(o, render_width, render_height);
  bool restore_pool = false;
  if (!o.resume.empty()) {
    std::ifstream step_file(o.resume + ".step");
    if (!(step_file >> state.step)) return absl::NotFoundError("cannot read " + o.resume + ".step");
    std::ifstream state_file(o.resume + ".state.json");
    if (state_file) {
      const nlohmann::json j = nlohmann::json::parse(state_file);
      state.rng = j.at("rng").get<uint64_t>();
      state.pool = j.at("pool").get<std::vector<uint64_t>>();
      state.next_seed = j.at("next_seed").get<uint64_t>();
      state.running = j.at("running").get<double>();
      state.best_abs_rel = j.at("best_abs_rel").get<double>();
      state.data = j.at("data").get<std::string>();
      restore_pool = state.data == data;
    }
  }

  std::vector<Clip> clips;
  std::vector<uint64_t> pool;
  // Refreshed clips take the seeds after the initial pool; they must never reach the held-out
  // range.
  uint64_t next_seed = o.train_seed + o.clips;
  if (restore_pool) {
    pool = state.pool;
    next_seed = state.next_seed;
  } else {
    for (int i = 0; i < o.clips; ++i) pool.push_back(o.train_seed + i);
  }
  for (uint64_t seed : pool) {
    auto clip = RenderClip(seed, o.clip_frames, render_width, render_height, style);
    if (!clip.ok()) return clip.status();
    clips.push_back(*std::move(clip));
  }
  // Validation runs on whole frames at the render size, the scale the network will see.
  std::vector<Clip> held_out;
  for (int i = 0; i < o.held_out_clips; ++i) {
    auto clip = RenderClip(kFirstHeldOutSeed + i, 24, render_width / 32 * 32,
                           render_height / 32 * 32, RenderStyle{});
    if (!clip.ok()) return clip.status();
    held_out.push_back(*std::move(clip));
  }
  say(absl::StrFormat("rendered %d training clips and %d held-out clips in %.0f s", clips.size(),
                      held_out.size(), elapsed()));

  std::vector<RealClip> real;
  std::vector<RealSnippet> real_snippets;
  if (o.photometric_weight > 0) {
    RealClipOptions real_options;
    real_options.width = width;
    real_options.height = height;
    real_options.assumed_fov_degrees = o.assumed_fov_degrees;
    auto loaded = LoadRealClips(o.real_clips, real_options);
    if (!loaded.ok()) return loaded.status();
    real = *std::move(loaded);
    std::vector<int> per_clip;
    real_snippets = FindRealSnippets(real, {2, 4, 8, 16}, PoseOptions{}, &per_clip);
    std::string counts;
    for (size_t c = 0; c < real.size(); ++c)
      absl::StrAppend(&counts, c ? ", " : "", real[c].name, " ", per_clip[c]);
    say(absl::StrFormat(
        "real clips: %d snippets with a camera motion that shows depth (%s) in %.0f s",
        real_snippets.size(), counts, elapsed()));
    if (real_snippets.empty())
      return absl::FailedPreconditionError("no real snippet shows depth: nothing to learn from");
  }

  torch::jit::Module net = BuildTinySnippetNet(o.seed);
  if (!o.init.empty()) {
    net = torch::jit::load(o.init);
    say("initialised from " + o.init);
  }
  if (!o.resume.empty()) {
    net = torch::jit::load(o.resume);
    say(absl::StrFormat(
        "resumed from %s at step %d (%s)", o.resume, state.step,
        restore_pool ? "sampler, generator and pool restored"
                     : "new data: the pool rendered from these options, the sampler reseeded"));
  }
  const int start_step = state.step;
  net.train();
  std::vector<torch::Tensor> params;
  for (torch::Tensor p : net.parameters()) {
    p.set_requires_grad(true);
    params.push_back(p);
  }
  say(absl::StrFormat("TinySnippet: %d parameters", ParameterCount(net)));
  torch::optim::AdamW optimizer(params, torch::optim::AdamWOptions(o.lr).weight_decay(1e-4));
  if (!o.resume.empty()) {
    // Beside the checkpoint (older runs kept one optimizer.pt in their folder).
    const std::string beside = o.resume + ".optimizer",
                      folder = (fs::path(o.resume).parent_path() / "optimizer.pt").string();
    if (fs::exists(beside)) {
      torch::load(optimizer, beside);
    } else if (fs::exists(folder)) {
      torch::load(optimizer, folder);
    } else {
      say("no optimiser state beside the checkpoint: a fresh optimiser");
    }
  }
  auto generator = at::detail::getDefaultCPUGenerator();
  if (restore_pool && fs::exists(o.resume + ".generator")) {
    torch::Tensor generator_state;
    torch::load(generator_state, o.resume + ".generator");
    generator.set_state(generator_state);
  }

  synth::Rng rng =
      restore_pool ? synth::Rng::FromState(state.rng) : synth::Rng(o.seed + start_step);
  const int max_steps = o.steps;
  const double budget = o.minutes * 60.0;
  // The schedule is laid over the expected number of steps, re-estimated from the speed so far.
  double planned_steps = max_steps;
  double running = restore_pool ? state.running : 0;
  double best_abs_rel = restore_pool ? state.best_abs_rel : 1e9;
  double real_running = 0;
  int step = start_step;
  TrainResult result;
  auto save = [&](const fs::path& path) {
    net.save(path.string());
    std::ofstream(path.string() + ".step") << step;
    torch::save(optimizer, path.string() + ".optimizer");
    torch::save(generator.get_state(), path.string() + ".generator");
    const nlohmann::json j = {{"step", step},       {"rng", rng.state()},
                              {"pool", pool},       {"next_seed", next_seed},
                              {"running", running}, {"best_abs_rel", best_abs_rel},
                              {"data", data}};
    std::ofstream(path.string() + ".state.json") << j.dump() << "\n";
  };
  for (; step < max_steps; ++step) {
    const double t = elapsed();
    if (t > budget || (o.stop_after > 0 && step - start_step >= o.stop_after)) break;
    if (step > start_step + 20) {
      planned_steps = std::min<double>(max_steps, start_step + (step - start_step) * budget / t);
    }
    const double progress = std::min(1.0, step / std::max(1.0, planned_steps));
    const double warmup = std::min(1.0, (step + 1) / 200.0);
    const double lr = o.lr * warmup * (0.02 + 0.98 * 0.5 * (1 + std::cos(M_PI * progress)));
    for (auto& group : optimizer.param_groups()) {
      static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
    }
    // On the absolute step, so that a resumed run refreshes where an uninterrupted one would.
    if (o.refresh_every > 0 && step > start_step && step % o.refresh_every == 0 &&
        next_seed < kFirstHeldOutSeed) {
      const int slot = rng.Int(0, static_cast<int>(clips.size()) - 1);
      auto clip = RenderClip(next_seed, o.clip_frames, render_width, render_height, style);
      if (!clip.ok()) return clip.status();
      clips[slot] = *std::move(clip);
      pool[slot] = next_seed++;
    }
    const Batch batch = Sample(clips, rng, o.batch, width, height, o.camera_effects, o.turn_degrees);
    torch::Tensor loss, real_loss;
    if (o.photometric_weight > 0) {
      const RealBatch real_batch = SampleReal(real, real_snippets, rng, o.real_batch);
      // One forward pass for both: the synthetic snippets first.
      const auto pred = net.forward({torch::cat({batch.rgb, real_batch.input})}).toTensor();
      const auto synthetic = pred.narrow(0, 0, o.batch);
      loss = LogDepthLoss(synthetic, batch.depth);
      if (o.abs_rel_weight > 0)
        loss = loss + o.abs_rel_weight * AlignedAbsRel(synthetic, batch.depth);
      real_loss = RealLoss(pred.narrow(0, o.batch, o.real_batch), real_batch, o.smoothness_weight);
      loss = loss + o.photometric_weight * real_loss;
    } else {
      const auto pred = net.forward({batch.rgb}).toTensor();
      loss = LogDepthLoss(pred, batch.depth);
      if (o.abs_rel_weight > 0) loss = loss + o.abs_rel_weight * AlignedAbsRel(pred, batch.depth);
    }
    optimizer.zero_grad();
    loss.backward();
    torch::nn::utils::clip_grad_norm_(params, 1.0);
    optimizer.step();
    const double value = loss.item<double>();
    result.losses.push_back(value);
    running = step == start_step && !restore_pool ? value : 0.98 * running + 0.02 * value;
    if (real_loss.defined()) {
      real_running = step == start_step ? real_loss.item<double>()
                                        : 0.98 * real_running + 0.02 * real_loss.item<double>();
    }
    if ((step + 1) % o.log_every == 0) {
      say(absl::StrFormat(
          "step %d loss %.4f%s lr %.2e %.2f steps/s elapsed %.0f s", step + 1, running,
          real_loss.defined() ? absl::StrFormat(" (photometric %.4f)", real_running) : "", lr,
          (step + 1 - start_step) / elapsed(), elapsed()));
    }
    if ((step + 1) % o.checkpoint_every == 0) {
      net.eval();
      const auto [abs_rel, delta1] = Validate(net, held_out);
      net.train();
      say(absl::StrFormat(
          "step %d held-out snippets: AbsRel %.4f delta1 %.4f (training seeds used: %d)", step + 1,
          abs_rel, delta1, next_seed - o.train_seed));
      ++step;  // the checkpoint is taken after this step
      if (abs_rel < best_abs_rel) {
        best_abs_rel = abs_rel;
        save(out_dir / "best.pt");
      }
      save(out_dir / "last.pt");
      --step;
    }
  }
  net.eval();
  const auto [abs_rel, delta1] = Validate(net, held_out);
  say(absl::StrFormat("final step %d held-out snippets: AbsRel %.4f delta1 %.4f (%.0f s)", step,
                      abs_rel, delta1, elapsed()));
  if (abs_rel < best_abs_rel) {
    best_abs_rel = abs_rel;
    save(out_dir / "best.pt");
  }
  save(out_dir / "last.pt");
  if (!o.export_model.empty()) {
    torch::jit::Module best = torch::jit::load((out_dir / "best.pt").string());
    for (torch::Tensor p : best.parameters()) p.set_requires_grad(false);
    best.eval();
    best.save(o.export_model);
    say("exported " + o.export_model);
  }
  result.final_step = step;
  result.held_out_abs_rel = abs_rel;
  result.held_out_delta1 = delta1;
  return result;
}

}  // namespace depthd::train
