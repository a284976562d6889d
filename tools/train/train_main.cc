// train: trains the embedded TinySnippet network on synthetic videos from tools/synth, and
// optionally on real videos through view synthesis. See docs/model.md for the recipe that made
// models/tinysnippet.pt.
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "core/model/device.h"
#include "tools/train/trainer.h"

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
ABSL_FLAG(double, variety_share, 1.0,
          "with --variety: the share of the training clips (decided per seed) that get it; the "
          "others are rendered as the base renderer renders them");
ABSL_FLAG(std::string, textures, "", "a folder of videos to cut the renderer's photograph textures from");
ABSL_FLAG(uint64_t, texture_seed, 1, "which frames and crops --textures cuts");
ABSL_FLAG(bool, camera_effects, false,
          "degrade a share of the training snippets as cameras do: defocus, motion blur, noise, "
          "gamma, grey, vignetting, exposure flicker");
ABSL_FLAG(double, turn_degrees, 0.0,
          "on half the training snippets, roll and pitch each frame's camera by its own angle up to "
          "this (a camera turning in the hand; the depth is recomputed, pixels from outside the frame "
          "are not scored); 0: off");
ABSL_FLAG(int, width, 256, "training width (multiple of 32)");
ABSL_FLAG(int, height, 160, "training height (multiple of 32)");
ABSL_FLAG(int, render_width, 0,
          "render clips this wide and train on random --width x --height crops (0: --width)");
ABSL_FLAG(int, render_height, 0, "render height for crops (0: --height)");
ABSL_FLAG(double, abs_rel_weight, 0.0,
          "add this times the evaluation's error (AbsRel after a least-squares scale and shift per "
          "snippet) to the log-depth loss");
ABSL_FLAG(std::string, real_clips, "",
          "real videos for self-supervision (a folder, or video files separated by commas): "
          "snippets whose camera motion (estimated from tracked corners) shows depth are scored by "
          "view synthesis");
ABSL_FLAG(double, photometric_weight, 0.0, "weight of the view-synthesis loss on real snippets (0: off)");
ABSL_FLAG(double, smoothness_weight, 1e-3, "weight of the edge-aware smoothness on real snippets");
ABSL_FLAG(int, real_batch, 2, "real snippets per step, beside --batch synthetic ones");
ABSL_FLAG(double, assumed_fov_degrees, 60.0,
          "the real clips' field of view across the longer side of the frame (their focal length is not known)");
ABSL_FLAG(int, steps, 100000, "maximum optimiser steps");
ABSL_FLAG(double, minutes, 40.0, "stop after this much wall time");
ABSL_FLAG(int, stop_after, 0,
          "stop after this many steps of this run (0: no such stop): a pause to --resume later, the "
          "schedule staying laid over --steps");
ABSL_FLAG(int, batch, 6, "snippets per step");
ABSL_FLAG(double, lr, 1e-3, "peak learning rate (cosine decay to lr / 50)");
ABSL_FLAG(uint64_t, seed, 7, "initialisation and sampling seed");
ABSL_FLAG(int, threads, 2, "LibTorch threads");
ABSL_FLAG(std::string, out, "train_out", "checkpoint and log folder");
ABSL_FLAG(std::string, resume, "",
          "resume from this checkpoint (.pt written by train): weights, optimiser, step, and with the "
          "same data options the sampler, torch's generator and the clip pool, so the run goes on "
          "exactly as if uninterrupted");
ABSL_FLAG(std::string, init, "", "start from these weights (a .pt written by train) with a fresh schedule");
ABSL_FLAG(std::string, export_model, "", "write the final TorchScript model here (e.g. models/tinysnippet.pt)");
ABSL_FLAG(int, log_every, 50, "steps between log lines");
ABSL_FLAG(int, checkpoint_every, 500, "steps between checkpoints");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("Trains the TinySnippet depth network on synthetic (and real) videos.");
  absl::ParseCommandLine(argc, argv);
  depthd::SetTorchThreads(absl::GetFlag(FLAGS_threads));
  depthd::train::TrainOptions o;
  o.clips = absl::GetFlag(FLAGS_clips);
  o.train_seed = absl::GetFlag(FLAGS_train_seed);
  o.clip_frames = absl::GetFlag(FLAGS_clip_frames);
  o.refresh_every = absl::GetFlag(FLAGS_refresh_every);
  o.held_out_clips = absl::GetFlag(FLAGS_held_out_clips);
  o.outdoor_fraction = absl::GetFlag(FLAGS_outdoor_fraction);
  o.tabletop_fraction = absl::GetFlag(FLAGS_tabletop_fraction);
  o.variety = absl::GetFlag(FLAGS_variety);
  o.variety_share = absl::GetFlag(FLAGS_variety_share);
  o.textures = absl::GetFlag(FLAGS_textures);
  o.texture_seed = absl::GetFlag(FLAGS_texture_seed);
  o.camera_effects = absl::GetFlag(FLAGS_camera_effects);
  o.turn_degrees = absl::GetFlag(FLAGS_turn_degrees);
  o.width = absl::GetFlag(FLAGS_width);
  o.height = absl::GetFlag(FLAGS_height);
  o.render_width = absl::GetFlag(FLAGS_render_width);
  o.render_height = absl::GetFlag(FLAGS_render_height);
  o.abs_rel_weight = absl::GetFlag(FLAGS_abs_rel_weight);
  o.real_clips = absl::GetFlag(FLAGS_real_clips);
  o.photometric_weight = absl::GetFlag(FLAGS_photometric_weight);
  o.smoothness_weight = absl::GetFlag(FLAGS_smoothness_weight);
  o.real_batch = absl::GetFlag(FLAGS_real_batch);
  o.assumed_fov_degrees = absl::GetFlag(FLAGS_assumed_fov_degrees);
  o.steps = absl::GetFlag(FLAGS_steps);
  o.minutes = absl::GetFlag(FLAGS_minutes);
  o.stop_after = absl::GetFlag(FLAGS_stop_after);
  o.batch = absl::GetFlag(FLAGS_batch);
  o.lr = absl::GetFlag(FLAGS_lr);
  o.seed = absl::GetFlag(FLAGS_seed);
  o.out = absl::GetFlag(FLAGS_out);
  o.resume = absl::GetFlag(FLAGS_resume);
  o.init = absl::GetFlag(FLAGS_init);
  o.export_model = absl::GetFlag(FLAGS_export_model);
  o.log_every = absl::GetFlag(FLAGS_log_every);
  o.checkpoint_every = absl::GetFlag(FLAGS_checkpoint_every);
  auto result = depthd::train::Train(o, [](const std::string& line) { std::cout << line << std::endl; });
  if (!result.ok()) {
    std::cerr << "train: " << result.status() << "\n";
    return result.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  return 0;
}
