# Sanitizer builds. Included from the top-level CMakeLists.txt before any target exists, so the
# flags reach every library and binary of the build (third-party libraries stay uninstrumented).
#
#   DEPTHD_SANITIZE  AddressSanitizer + UndefinedBehaviorSanitizer (GCC or Clang), for the tests:
#                    scripts/ci-sanitize.sh.
#   DEPTHD_FUZZ      Clang only: the same sanitizers plus libFuzzer's coverage, and only the
#                    targets under tests/fuzz and what they link: scripts/ci-fuzz.sh.
#
# -fno-sanitize-recover=all makes the first UBSan report abort, so a test or a fuzzer cannot pass
# over one; ASan aborts at its first report anyway (halt_on_error is set in the scripts too).
if(DEPTHD_SANITIZE OR DEPTHD_FUZZ)
  set(_depthd_sanitizers -fsanitize=address,undefined -fno-sanitize-recover=all)
  add_compile_options(${_depthd_sanitizers} -fno-omit-frame-pointer)
  add_link_options(${_depthd_sanitizers})
  # Instrumented loops cannot be vectorised, so Clang reports every `#pragma omp simd` loop (the
  # co-alignment reductions) as a failed transformation; that is the sanitizers' cost, not a bug.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    add_compile_options(-Wno-pass-failed)
  endif()
  # GCC's flow analysis sees ASan's instrumentation and reports libstdc++'s own <regex> and
  # <functional> internals as maybe-uninitialized (GCC's manual warns that -fsanitize=address can
  # cause such false positives); the plain build keeps the warning as an error.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    add_compile_options(-Wno-maybe-uninitialized)
  endif()
endif()

if(DEPTHD_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "DEPTHD_FUZZ needs Clang (libFuzzer): -DCMAKE_CXX_COMPILER=clang++-14")
  endif()
  # Coverage for libFuzzer in every object; -fsanitize=fuzzer (libFuzzer's main) is linked into
  # the fuzz targets alone (tests/fuzz/CMakeLists.txt).
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
