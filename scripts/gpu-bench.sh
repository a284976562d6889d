#!/usr/bin/env bash
# Builds the RollingDepth network and its benchmark against the LibTorch of a PyTorch install
# (DEPTHD_DIFFUSION_ONLY: no gRPC, no OpenCV) and times it on the GPU.
#   scripts/gpu-bench.sh OUT_DIR [extra CMAKE_PREFIX_PATH entries, e.g. Abseil and nlohmann_json]
# Abseil and nlohmann_json come from the system or from the given prefix (for a machine without
# them, Debian's libabsl-dev and nlohmann-json3-dev unpacked with dpkg -x will do).
set -euo pipefail
out=${1:?usage: scripts/gpu-bench.sh OUT_DIR [PREFIX]}
extra=${2:-}
mkdir -p "$out"
torch_prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name(0))'
build=${BUILD_DIR:-/tmp/depthd-gpu-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DDEPTHD_DIFFUSION_ONLY=ON \
  -DCMAKE_PREFIX_PATH="$torch_prefix;$extra" >"$out/cmake.log" 2>&1 || { tail -40 "$out/cmake.log"; exit 1; }
cmake --build "$build" -j "$(nproc)" >"$out/build.log" 2>&1 || { grep -E "error|Error" "$out/build.log" | head -30; exit 1; }
if [ -n "$extra" ]; then export LD_LIBRARY_PATH="$extra/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"; fi
bench="$build/bench/rollingdepth/bench_rollingdepth"
# The fast preset at 768 px per dtype and memory layout (side by side in one run); then the full
# preset (1024 px, [1, 10, 25], 10 refinement steps).
"$bench" --device cuda --dtypes fp16,bf16 --layouts channels_last,contiguous --res 768 \
  --dilations 1,25 --json "$out/rollingdepth_fast.json"
"$bench" --device cuda --dtypes fp32 --res 768 --dilations 1,25 --runs 1 \
  --json "$out/rollingdepth_fast_fp32.json"
"$bench" --device cuda --dtypes fp16 --res 1024 --dilations 1,10,25 --refine_step 10 --runs 1 \
  --json "$out/rollingdepth_full.json"
