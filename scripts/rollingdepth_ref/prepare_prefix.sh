#!/usr/bin/env bash
# Unpacks Debian's Abseil and nlohmann_json (headers, CMake files, shared libraries) into an
# ignored folder, for building bench_rollingdepth on a GPU machine that has a PyTorch install
# but not these (scripts/gpu-bench.sh OUT PREFIX). Run on the developer's machine (Debian 12).
#   scripts/rollingdepth_ref/prepare_prefix.sh [DEST]   (default .cache/gpu-prefix)
set -euo pipefail
dest=${1:-.cache/gpu-prefix}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
absl_runtime=$(apt-cache depends libabsl-dev | awk '/Depends: libabsl2/ {print $2; exit}')
(cd "$tmp" && apt-get download libabsl-dev "$absl_runtime" nlohmann-json3-dev >/dev/null)
rm -rf "$dest"
mkdir -p "$dest"
for deb in "$tmp"/*.deb; do dpkg -x "$deb" "$dest"; done
rm -rf "$dest/usr/share/doc"
echo "prefix $dest/usr ($(du -sh "$dest" | cut -f1)): $(cd "$tmp" && ls *.deb | tr '\n' ' ')"
