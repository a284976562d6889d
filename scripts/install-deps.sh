#!/usr/bin/env bash
# Installs every Debian 12 package depthd needs to build, test and run. Idempotent:
# packages already present are skipped, and apt-get update runs only when something is missing.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libtorch-dev libopenblas0-openmp
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  libabsl-dev
  libopencv-dev
  libmicrohttpd-dev
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev
  libsqlite3-dev sqlite3
  libgoogle-perftools-dev
  libssl-dev openssl
  clang-14 libclang-rt-14-dev
  ccache
  prometheus-cpp-dev
  nlohmann-json3-dev
  libgtest-dev libgmock-dev
  ffmpeg
  prometheus docker-compose python3-kubernetes python3-yaml
  python3 python3-grpcio python3-protobuf python3-numpy
  curl bc
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
