#!/usr/bin/env bash
# Puts the Python RollingDepth reference into an ignored folder of this checkout, for
# run_reference.py and scripts/gpu-bench.sh: prs-eth/RollingDepth at c233765 (its rollingdepth/
# package and the modified diffusers 0.30.0 it ships, sources only, ~12 MB). It is fetched, never
# committed, and no part of it is copied into the project.
#   scripts/rollingdepth_ref/fetch_reference.sh SOURCE [DEST]
# SOURCE: a git repository of prs-eth/RollingDepth (a local clone or mirror, or its URL where the
# network allows); DEST defaults to .cache/rollingdepth-ref (ignored by .gitignore's /.cache/).
set -euo pipefail
source=${1:?usage: fetch_reference.sh SOURCE [DEST]}
dest=${2:-.cache/rollingdepth-ref}
revision=${REVISION:-c233765}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git clone -q "$source" "$tmp/RollingDepth"
git -C "$tmp/RollingDepth" checkout -q "$revision"
rm -rf "$dest"
mkdir -p "$dest/diffusers/src"
cp -r "$tmp/RollingDepth/rollingdepth" "$dest/"
cp -r "$tmp/RollingDepth/diffusers/src/diffusers" "$dest/diffusers/src/"
cp "$tmp/RollingDepth/LICENSE.txt" "$dest/" 2>/dev/null || true
cp "$tmp/RollingDepth/diffusers/LICENSE" "$dest/diffusers/" 2>/dev/null || true
git -C "$tmp/RollingDepth" log -1 --format='%H %cs %s' > "$dest/REVISION"
find "$dest" -name __pycache__ -prune -exec rm -rf {} +
echo "reference at $(cat "$dest/REVISION") in $dest ($(du -sh "$dest" | cut -f1))"
