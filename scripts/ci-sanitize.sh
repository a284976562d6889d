#!/usr/bin/env bash
# Builds the project with AddressSanitizer and UndefinedBehaviorSanitizer (-DDEPTHD_SANITIZE=ON)
# in BUILD_DIR and runs the tests under them: every report fails its test (halt_on_error, and
# -fno-sanitize-recover=all in the build). Leaks are checked too; what third-party libraries leave
# allocated at exit is suppressed by name in scripts/lsan.supp (each entry says why).
#
#   scripts/ci-sanitize.sh BUILD_DIR [CTEST_REGEX]
#
# The default regex is what CI runs (see the comment at `default` below). Environment: JOBS
# (build parallelism, default nproc), CMAKE_FLAGS.
set -euo pipefail
if [ $# -lt 1 ]; then
  echo "usage: $0 BUILD_DIR [CTEST_REGEX]" >&2
  exit 2
fi
cd "$(dirname "$0")/.."
root=$(pwd)
build=$1
# Every test of core/ and the server (tools/ and bench/ are not built), except those whose point
# is time or scale rather than memory safety (the crash loop's 20 restarts, the stalled reader's
# 25 s, the load and dashboard tests, the Python client), which take minutes under ASan and reach
# nothing the others do not, and the one that bounds depthd's RSS while it decodes image frames
# (FramesAreSizedBeforeTheyAreDecoded...): under ASan the RSS also holds its quarantine of freed
# memory and its shadow, 100 MB more than the bound that test sets for depthd itself.
default='.'
exclude='CrashTest|AReaderThatStopsHoldsNoWorker|FramesAreSizedBeforeTheyAreDecodedAndHeldEncoded|ops_|python_'
regex=${2:-$default}
jobs=${JOBS:-$(nproc)}
# Tests that bound a time (the shutdown grace) scale it by this: sanitizers make everything slower.
export DEPTHD_TEST_TIME_SCALE=${DEPTHD_TEST_TIME_SCALE:-3}
start=$(date +%s)
# -O1 (what ASan's authors advise: fast enough, frames kept) and line tables only (-g1: stack
# traces name file and line) keep the build within CI's time on 2 cores.
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1" -DDEPTHD_SANITIZE=ON -DDEPTHD_BUILD_TOOLS=OFF ${CMAKE_FLAGS:-}
cmake --build "$build" -j "$jobs"
echo "ci-sanitize: built in $(($(date +%s) - start)) s"
# allocator_may_return_null: an allocation too large to serve fails as it does without ASan
# (std::bad_alloc, which ExceptionsStopAtTheJob asks for on purpose), instead of aborting.
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:abort_on_error=0:strict_string_checks=1:allocator_may_return_null=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export LSAN_OPTIONS="suppressions=$root/scripts/lsan.supp:print_suppressions=0"
(cd "$build" && ctest --output-on-failure -j "$jobs" -R "$regex" -E "$exclude" --timeout 600)
echo "ci-sanitize: passed in $(($(date +%s) - start)) s"
