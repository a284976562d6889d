#!/usr/bin/env bash
# RollingDepth side by side on one device, one command: depthd's network path
# (bench_rollingdepth) and the Python reference (prs-eth/RollingDepth with its modified diffusers,
# scripts/rollingdepth_ref/run_reference.py) on the same random checkpoint in diffusers layout
# (written once), the same video, the same dtype, then the difference between their outputs.
#
#   scripts/gpu-bench.sh OUT_DIR [PREFIX]
#
# Before (on the developer's machine, into ignored folders that travel with the checkout):
#   scripts/rollingdepth_ref/fetch_reference.sh <prs-eth/RollingDepth git source>  # .cache/rollingdepth-ref
#   scripts/rollingdepth_ref/prepare_prefix.sh                                     # .cache/gpu-prefix
# PREFIX (default .cache/gpu-prefix/usr when it exists): extra CMAKE_PREFIX_PATH entry for
# Abseil and nlohmann_json, for a machine that has PyTorch but not those.
#
# Steps, in order of priority; each pair (depthd, reference, compare) runs only while the
# remaining budget covers its estimate, so the script ends within BUDGET_S seconds with what it
# measured, and a rerun fits in the device's time (run it with a timeout a little above BUDGET_S):
#   build, checkpoint, videos; fast fp16; full fp16; fast bf16; full bf16.
# Environment (defaults for an H100/H200 with 15 minutes of device time in all):
#   BUDGET_S=330  ARCH=full (tiny: the dry run on a CPU)  DEVICE=cuda  FRAMES=100
#   FAST_RES=768  FULL_RES=1024  STEPS="fast:fp16 full:fp16 fast:bf16 full:bf16"
#   RUNS=1 (timed runs per side; the median is reported)  WARMUP_FRAMES=24 (warm-up video)
#   THREADS=0 (CPU threads on both sides; 0 keeps the defaults)  COALIGN_ITERATIONS (reference's 2000)
#   SOLVER=fast (depthd's co-alignment)  NOISE=model (the reference's noise on its device)
#   FULL_FACTOR=4 (a full step's estimate: this times the fast fp16 step, when full has not run)
#   REF=.cache/rollingdepth-ref  PYTHON=python3  BUILD_DIR=build-gpu (ignored, so a second call
#   on the same machine reuses the build, the checkpoint and the videos)  DATA_DIR=BUILD_DIR/data
#   EXTRA_CMAKE_ARGS (more cmake arguments)
set -euo pipefail
out=${1:?usage: scripts/gpu-bench.sh OUT_DIR [PREFIX]}
extra=${2:-}
if [ -z "$extra" ] && [ -d .cache/gpu-prefix/usr ]; then extra=$PWD/.cache/gpu-prefix/usr; fi
budget=${BUDGET_S:-330}
arch=${ARCH:-full}
device=${DEVICE:-cuda}
frames=${FRAMES:-100}
fast_res=${FAST_RES:-768}
full_res=${FULL_RES:-1024}
steps=${STEPS:-fast:fp16 full:fp16 fast:bf16 full:bf16}
runs=${RUNS:-1}
warmup_frames=${WARMUP_FRAMES:-24}
threads=${THREADS:-0}
solver=${SOLVER:-fast}
noise=${NOISE:-model}
ref=${REF:-.cache/rollingdepth-ref}
python=${PYTHON:-python3}
build=${BUILD_DIR:-$PWD/build-gpu}
here=$(cd "$(dirname "$0")" && pwd)
start=$(date +%s)
left() { echo $((budget - ($(date +%s) - start))); }
log() { echo "[$(($(date +%s) - start)) s] $*" | tee -a "$out/log.txt"; }
mkdir -p "$out"
: >"$out/log.txt"
[ -d "$ref/rollingdepth" ] || { log "no reference in $ref: run scripts/rollingdepth_ref/fetch_reference.sh first"; exit 1; }
log "reference $(cat "$ref/REVISION" 2>/dev/null || echo '?'), budget ${budget} s, arch $arch, device $device"
"$python" - <<'PY' 2>&1 | tee -a "$out/log.txt"
import importlib, torch
print("torch", torch.__version__, "cuda", torch.version.cuda,
      torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no CUDA device")
for m in ["einops", "safetensors", "huggingface_hub", "transformers", "xformers", "av", "torchvision", "accelerate"]:
    try:
        mod = importlib.import_module(m)
        print(f"  {m} {getattr(mod, '__version__', '?')}")
    except Exception as e:
        print(f"  {m}: missing ({type(e).__name__})")
PY

# Build: the network, co-alignment and the bench only (no gRPC, FFmpeg or OpenCV).
torch_prefix=$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)')
if [ -n "$extra" ]; then export LD_LIBRARY_PATH="$extra/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"; fi
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DDEPTHD_DIFFUSION_ONLY=ON \
  -DCMAKE_PREFIX_PATH="$torch_prefix;$extra" ${EXTRA_CMAKE_ARGS:-} >"$out/cmake.log" 2>&1 || { tail -40 "$out/cmake.log"; exit 1; }
cmake --build "$build" -j "$(nproc)" --target bench_rollingdepth >"$out/build.log" 2>&1 ||
  { grep -E "error|Error" "$out/build.log" | head -30; exit 1; }
bench="$build/bench/rollingdepth/bench_rollingdepth"
log "built $bench"

# One random checkpoint in diffusers layout, one video per resolution.
data=${DATA_DIR:-$build/data}
mkdir -p "$data"
stamp="arch $arch frames $frames res $fast_res $full_res"
if [ "$(cat "$data/stamp" 2>/dev/null)" != "$stamp" ]; then
  rm -f "$data/stamp"
  "$bench" --write_checkpoint "$data/ckpt_$arch" --arch "$arch" | tee -a "$out/log.txt"
  "$bench" --write_video "$data/video_fast.npy" --frames "$frames" --res "$fast_res"
  "$bench" --write_video "$data/video_full.npy" --frames "$frames" --res "$full_res"
  echo "$stamp" >"$data/stamp"
fi
log "checkpoint and videos in $data ($stamp)"

# One step: depthd, then the reference, then the comparison. The outputs (.npy, hundreds of MB
# at full size) stay in $data/<preset>_<dtype>/; the JSON comes to $out/<preset>_<dtype>/.
declare -A took
run_step() {
  local preset=$1 dtype=$2 dir="$out/$1_$2" work="$data/$1_$2" video dilations refine
  if [ "$preset" = fast ]; then video=$data/video_fast.npy dilations=1,25 refine=0
  else video=$data/video_full.npy dilations=1,10,25 refine=10; fi
  mkdir -p "$dir" "$work"
  "$bench" --checkpoint "$data/ckpt_$arch" --video "$video" --device "$device" --dtypes "$dtype" \
    --dilations "$dilations" --refine_step "$refine" --solver "$solver" --noise "$noise" \
    --runs "$runs" --warmup 1 --warmup_frames "$warmup_frames" --threads "$threads" \
    --save "$work" --json "$dir/depthd.json" 2>&1 | tee -a "$out/log.txt"
  "$python" "$here/rollingdepth_ref/run_reference.py" --ref "$ref" --checkpoint "$data/ckpt_$arch" \
    --frames "$video" --preset "$preset" --dtype "$dtype" --device "$device" --runs "$runs" \
    --warmup 1 --warmup_frames "$warmup_frames" --threads "$threads" \
    ${COALIGN_ITERATIONS:+--coalign_iterations "$COALIGN_ITERATIONS"} \
    --text_embedding "$work/text_embedding.npy" --out "$work" 2>&1 | grep -v "^\s*$" | tee -a "$out/log.txt"
  cp "$work/reference.json" "$dir/"
  "$python" "$here/rollingdepth_ref/compare.py" "$work" --json "$dir/compare.json" 2>&1 | tee -a "$out/log.txt"
}
for step in $steps; do
  preset=${step%%:*} dtype=${step##*:}
  # Estimates from what ran: the same preset in another dtype, or full from fast by pixels x work.
  estimate=0
  for seen in "${!took[@]}"; do [ "${seen%%:*}" = "$preset" ] && estimate=${took[$seen]}; done
  if [ "$estimate" = 0 ] && [ "$preset" = full ] && [ -n "${took[fast:fp16]:-}" ]; then
    estimate=$(( took[fast:fp16] * ${FULL_FACTOR:-4} ))
  fi
  if [ "$(left)" -lt "$estimate" ] || [ "$(left)" -lt 20 ]; then
    log "skipped $step: $(left) s left, about $estimate s needed"
    continue
  fi
  log "step $step"
  t0=$(date +%s)
  run_step "$preset" "$dtype" || log "step $step failed"
  took[$step]=$(( $(date +%s) - t0 ))
  log "step $step took ${took[$step]} s"
done
"$python" "$here/rollingdepth_ref/summarize.py" "$out" | tee "$out/summary.md"
log "done"
