// The training loop of the embedded TinySnippet network: synthetic clips from tools/synth with
// their exact depth, optionally mixed with real clips scored by view synthesis. `train` is its
// command line; docs/model.md has the recipe that made models/tinysnippet.pt.
#ifndef DEPTHD_TOOLS_TRAIN_TRAINER_H_
#define DEPTHD_TOOLS_TRAIN_TRAINER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace depthd::train {

struct TrainOptions {
  // Synthetic clips: seeds train_seed .. train_seed + clips - 1, then refreshed ones.
  int clips = 300;
  uint64_t train_seed = 1000;
  int clip_frames = 32;
  int refresh_every = 0;           // replace a random clip with the next unused seed every N steps
  int held_out_clips = 6;          // seeds 100000 .. that choose the best checkpoint (< 100)
  double outdoor_fraction = -1.0;  // share of open scenes, per seed; < 0: the renderer's choice
  double tabletop_fraction = 0.0;  // share of tabletop scenes; the rest follow outdoor_fraction
  bool variety = false;            // the renderer's variety (SceneOptions::variety)
  double variety_share = 1.0;  // with variety: of the clips (per seed); the rest as the base renderer
  std::string textures;            // folder of videos to cut photograph textures from
  uint64_t texture_seed = 1;
  bool camera_effects = false;              // blur, noise, gamma, ... on a share of the snippets
  double turn_degrees = 0;  // roll and pitch each frame's camera by up to this (0: off)
  int width = 256, height = 160;            // training size (multiples of 32)
  int render_width = 0, render_height = 0;  // render larger and crop (0: the training size)
  double abs_rel_weight = 0.0;              // + this times AlignedAbsRel
  // Real clips (a folder of videos) scored by PhotometricLoss on snippets whose camera motion
  // shows depth; 0 weight: not loaded.
  std::string real_clips;
  double photometric_weight = 0.0;
  double smoothness_weight = 1e-3;
  int real_batch = 2;  // real snippets per step, beside `batch` synthetic ones
  double assumed_fov_degrees = 60.0;
  // Optimisation.
  int steps = 100000;  // the schedule is laid over these (or what `minutes` allows)
  double minutes = 40.0;
  int stop_after = 0;  // stop after this many steps of this call (0: no such stop); a pause,
                       // to be resumed: the schedule stays laid over `steps`
  int batch = 6;
  double lr = 1e-3;
  uint64_t seed = 7;
  std::string out = "train_out";
  std::string resume;  // a checkpoint written by Train: weights, optimiser, sampler and pool
  std::string init;    // weights only, with a fresh schedule
  std::string export_model;
  int log_every = 50;
  int checkpoint_every = 500;
};

struct TrainResult {
  int final_step = 0;
  std::vector<double> losses;  // the total loss of every step this call ran
  double held_out_abs_rel = 0, held_out_delta1 = 0;
};

// Trains, writing out/train.log, out/last.pt and out/best.pt (each with .step, .optimizer and
// .state.json beside it, so that --resume continues exactly where the checkpoint was taken).
// `say` receives every log line as well (may be empty).
absl::StatusOr<TrainResult> Train(const TrainOptions& options,
                                  const std::function<void(const std::string&)>& say);

}  // namespace depthd::train

#endif  // DEPTHD_TOOLS_TRAIN_TRAINER_H_
