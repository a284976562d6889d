#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz, -DDEPTHD_FUZZ=ON with clang++-14) in BUILD_DIR and
# runs each for SECONDS on its committed seed corpus (regression inputs included), new inputs
# going to BUILD_DIR/fuzz/<name>/corpus. Exits non-zero when any target crashes, trips a
# sanitizer or a FUZZ_CHECK, leaks, runs out of memory or hangs on an input; the input is then
# in BUILD_DIR/fuzz/<name>/ (crash-*, leak-*, oom-*, timeout-*): rerun it with
#   BUILD_DIR/tests/fuzz/<name>_fuzz BUILD_DIR/fuzz/<name>/crash-...
#
#   scripts/ci-fuzz.sh BUILD_DIR SECONDS [NAME...]     (default: every tests/fuzz/*_fuzz.cc)
#
# Environment: JOBS (build parallelism, default nproc), CMAKE_FLAGS, FUZZ_ARGS (extra libFuzzer
# flags).
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 BUILD_DIR SECONDS [NAME...]" >&2
  exit 2
fi
cd "$(dirname "$0")/.."
root=$(pwd)
build=$1
seconds=$2
shift 2
jobs=${JOBS:-$(nproc)}
if [ $# -gt 0 ]; then
  names=("$@")
else
  names=()
  for source in tests/fuzz/*_fuzz.cc; do names+=("$(basename "$source" _fuzz.cc)"); done
fi
start=$(date +%s)

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++-14 \
  -DDEPTHD_FUZZ=ON ${CMAKE_FLAGS:-}
cmake --build "$build" -j "$jobs" --target "${names[@]/%/_fuzz}"
echo "ci-fuzz: built in $(($(date +%s) - start)) s"

# A sanitizer report is a crash (libFuzzer writes the input); leaks are checked per input.
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
failed=()
for name in "${names[@]}"; do
  work="$build/fuzz/$name"
  rm -rf "$work"
  mkdir -p "$work/corpus"
  # No -max_len: libFuzzer then keeps every committed input whole (the longest, 40 KB, is a
  # regression input) and mutates up to that length.
  flags=(-max_total_time="$seconds" -timeout=25 -rss_limit_mb=2560 -print_final_stats=1
         -artifact_prefix="$work/")
  case $name in sidecar | safetensors) flags+=(-dict=tests/fuzz/json.dict) ;; esac
  echo "ci-fuzz: $name for $seconds s"
  if "$build/tests/fuzz/${name}_fuzz" "${flags[@]}" ${FUZZ_ARGS:-} "$work/corpus" \
      "$root/tests/fuzz/corpus/$name" > "$work/log" 2>&1; then
    grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|Done)' "$work/log" || true
  else
    echo "ci-fuzz: $name FAILED; its log ($work/log) ends:" >&2
    tail -n 40 "$work/log" >&2
    ls "$work" | grep -E '^(crash|leak|oom|timeout|slow-unit)-' >&2 || true
    failed+=("$name")
  fi
done

echo "ci-fuzz: ${#names[@]} targets in $(($(date +%s) - start)) s"
if [ ${#failed[@]} -gt 0 ]; then
  echo "ci-fuzz: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "ci-fuzz: passed"
