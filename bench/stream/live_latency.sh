#!/usr/bin/env bash
# Live latency against input rate: depthd with the embedded model on loopback, `depthctl live`
# sending a file paced at each rate in turn (processing resolution RES), the latency figures of
# each run (depthctl live --json: p50 / p95 / max in ms and in frames, frames skipped).
#
#   bench/stream/live_latency.sh BUILD_DIR VIDEO "5 8 10 12 15" [RES] [EXTRA_LIVE_FLAGS...]
set -euo pipefail
build=$1
video=$2
rates=$3
res=${4:-384}
shift $(($# < 4 ? $# : 4))
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$build/server/depthd" --listen "127.0.0.1:$port" --metrics_listen '' --state_dir "$work/state" \
  2> "$work/depthd.log" &
pid=$!
for _ in $(seq 100); do
  "$build/client/depthctl" --server "127.0.0.1:$port" health > /dev/null 2>&1 && break
  sleep 0.2
done
for fps in $rates; do
  "$build/client/depthctl" --server "127.0.0.1:$port" live "$video" --fps "$fps" --res "$res" \
    --quiet --json "$work/live_$fps.json" -o "$work/out_$fps" --colorize=false --rgbd=false "$@"
  echo "{\"fps\": $fps, \"res\": $res, \"result\": $(cat "$work/live_$fps.json")}"
done
