#!/usr/bin/env bash
# Builds the depthd image from the Dockerfile with buildah (Debian's package: no daemon, chroot
# isolation, vfs storage), then runs it and checks what an operator relies on:
#   gRPC health SERVING, one job from depthctl outside the container, depthd running as a
#   non-root user, a clean stop on SIGTERM, and the image's size.
#
# usage: scripts/build-image.sh [--tag NAME] [--no-build] [--no-run] [--depthctl PATH]
#   --no-build   only run and check an image built before
#   --no-run     only build
#   --depthctl   the client used from outside the container (default: build/client/depthctl)
# Environment: CCACHE_DIR (a compiler cache mounted into the build stage), JOBS (parallel
# compiles, default: all cores), NICE (nice level of the build, default 10), BUILDAH_ISOLATION
# (default chroot), STORAGE_DRIVER (e.g. vfs where the kernel refuses overlay mounts; default:
# buildah's own, overlay as root), DEBIAN_MIRROR / DEBIAN_SECURITY_MIRROR.
# Without a registry to pull debian:12 from, the base image is made with mmdebstrap from the
# Debian mirror (Debian packages: buildah, mmdebstrap).
set -euo pipefail
cd "$(dirname "$0")/.."

TAG=depthd:latest
BUILD=1
RUN=1
DEPTHCTL=build/client/depthctl
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) TAG=$2; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --no-run) RUN=0; shift ;;
    --depthctl) DEPTHCTL=$2; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "build-image: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

export BUILDAH_ISOLATION=${BUILDAH_ISOLATION:-chroot}
BASE=docker.io/library/debian:12
log() { echo "build-image: $*"; }
fail() { echo "build-image: FAILED: $*" >&2; exit 1; }
command -v buildah >/dev/null || fail "buildah is missing (Debian: apt-get install buildah)"
buildah() { command buildah ${STORAGE_DRIVER:+--storage-driver "$STORAGE_DRIVER"} "$@"; }
driver=$(buildah info | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["store"]["GraphDriverName"])')
tmp=$(mktemp -d)
ctr=""
cleanup() {
  if [ -n "$ctr" ]; then buildah rm "$ctr" >/dev/null 2>&1 || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

if [ "$BUILD" = 1 ]; then
  # 1. The base image: pulled if a registry answers, else bootstrapped from the Debian mirror.
  if buildah inspect --type image "$BASE" >/dev/null 2>&1; then
    log "base image $BASE is present"
  elif buildah pull -q "$BASE" >/dev/null 2>"$tmp/pull.err"; then
    log "pulled $BASE"
  else
    log "cannot pull $BASE ($(tail -1 "$tmp/pull.err")); making it with mmdebstrap"
    command -v mmdebstrap >/dev/null || fail "mmdebstrap is missing (Debian: apt-get install mmdebstrap)"
    mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
    security=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
    mmdebstrap --quiet --variant=apt --include=ca-certificates bookworm "$tmp/rootfs.tar" \
      "deb $mirror bookworm main" "deb $mirror bookworm-updates main" "deb $security bookworm-security main"
    base_ctr=$(buildah from scratch)
    buildah add --quiet "$base_ctr" "$tmp/rootfs.tar" / >/dev/null
    buildah config --cmd /bin/bash \
      --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$base_ctr"
    buildah commit --quiet --rm "$base_ctr" "$BASE" >/dev/null
    rm -f "$tmp/rootfs.tar"
    log "base image $BASE made ($(buildah images --format '{{.Size}}' "$BASE"))"
  fi

  # 2. The image. The build stage compiles the whole project: long on few cores, hence nice.
  # Docker format: OCI images cannot carry the HEALTHCHECK.
  opts=(--format docker --network host --layers --pull=false --build-arg "BASE=$BASE" -f Dockerfile -t "$TAG")
  if [ -n "${CCACHE_DIR:-}" ]; then
    opts+=(--volume "$CCACHE_DIR:/ccache" --build-arg CCACHE_DIR=/ccache)
  fi
  if [ -n "${JOBS:-}" ]; then opts+=(--build-arg "JOBS=$JOBS"); fi
  start=$(date +%s)
  log "building $TAG (buildah $(buildah --version | awk '{print $3}'), isolation $BUILDAH_ISOLATION, storage $driver)"
  nice -n "${NICE:-10}" buildah bud "${opts[@]}" .
  log "built $TAG in $(( $(date +%s) - start )) s"
fi

[ "$RUN" = 1 ] || exit 0

# 3. Run it: the image's entrypoint (depthd --state_dir=/var/lib/depthd) as the image's user,
# on the host's network, serving on two free loopback ports.
[ -x "$DEPTHCTL" ] || fail "no depthctl at $DEPTHCTL (build it, or pass --depthctl)"
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
mport=$(free_port)
buildah inspect --type image "$TAG" >"$tmp/inspect.json"
config() { /usr/bin/python3 -c 'import json,sys; print(sys.argv[2] % json.load(open(sys.argv[1]))["OCIv1"]["config"])' "$tmp/inspect.json" "$1"; }
mapfile -t entrypoint < <(/usr/bin/python3 -c 'import json,sys; print("\n".join(json.load(open(sys.argv[1]))["OCIv1"]["config"]["Entrypoint"]))' "$tmp/inspect.json")
image_user=$(config '%(User)s')
log "image config: entrypoint ${entrypoint[*]}, command $(config '%(Cmd)s'), user $image_user, volumes $(config '%(Volumes)s')"
ctr=$(buildah from --pull=false "$TAG")
# The image declares /var/lib/depthd a volume: here a fresh folder owned by the image's user.
mkdir -p "$tmp/state"
chown "$image_user" "$tmp/state"
log "running ${entrypoint[*]} as user $image_user on 127.0.0.1:$port (metrics $mport)"
buildah run --network host --volume "$tmp/state:/var/lib/depthd" "$ctr" -- \
  "${entrypoint[@]}" --listen "127.0.0.1:$port" --metrics_listen "127.0.0.1:$mport" \
  >"$tmp/depthd.log" 2>&1 &
run_pid=$!

serving=0
for _ in $(seq 1 240); do
  if "$DEPTHCTL" --server "127.0.0.1:$port" --timeout 2s health >"$tmp/health" 2>&1; then
    serving=1
    break
  fi
  kill -0 "$run_pid" 2>/dev/null || break
  sleep 0.5
done
if [ "$serving" != 1 ]; then
  cat "$tmp/depthd.log" >&2
  fail "the container's depthd never reported SERVING"
fi
log "health: $(tr '\n' ' ' <"$tmp/health")"

pid=$(ss -Hltnp "sport = :$port" | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -1)
[ -n "$pid" ] || fail "no process listens on $port"
uid=$(awk '/^Uid:/{print $2}' "/proc/$pid/status")
log "depthd runs as pid $pid, uid $uid ($(tr '\0' ' ' <"/proc/$pid/cmdline"))"
[ "$uid" != 0 ] || fail "depthd runs as root in the container"

"$DEPTHCTL" --server "127.0.0.1:$port" --timeout 300s run samples/sample.mp4 -o "$tmp/out" \
  --res 128 --frame_count 12 --quiet --rgbd=false --colorize=false >"$tmp/run.log" 2>&1 ||
  { cat "$tmp/run.log" "$tmp/depthd.log" >&2; fail "depthctl run against the container failed"; }
ls "$tmp/out"/*_pred.npy >/dev/null 2>&1 || fail "depthctl wrote no depth"
log "one job from depthctl outside the container: $(grep -h 'job id=' "$tmp/depthd.log" | tail -1)"
log "  $(tail -1 "$tmp/run.log")"

kill -TERM "$pid"
wait "$run_pid" || true
grep -q "depthd: stopped" "$tmp/depthd.log" || { cat "$tmp/depthd.log" >&2; fail "no clean stop on SIGTERM"; }
log "stopped cleanly on SIGTERM"

size=$(buildah images --format '{{.Size}}' "$TAG" | head -1)
mnt=$(buildah mount "$ctr")
rootfs=$(du -sh --apparent-size "$mnt" | cut -f1)
buildah umount "$ctr" >/dev/null
log "image $TAG: $size (buildah images), root file system $rootfs"
log "PASSED"
