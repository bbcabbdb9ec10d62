#!/usr/bin/env bash
# The container image end to end, as an MI user runs it (issue 19): builds the image (build.sh),
# builds a user-style Dockerfile FROM wso2/wso2mi:<version> that copies one of the corpus's CApps
# into carbonapps/, runs it with `podman run` mapping the ports, waits for /healthz, calls the
# CApp's API, stops it with SIGTERM and checks the clean exit; reports the image size and the time
# from `podman run` to ready. Everything runs in a private podman storage under a temp folder,
# removed at the end. Skips (exit 0, with a message) where podman cannot be had.
#
#   deploy/container/smoke.sh [--no-build] [--version 4.4.0]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
version=4.4.0
build_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build_args+=(--no-build) ;;
    --version) version=$2; shift ;;
    *) echo "smoke.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
log() { echo "[container-smoke] $*"; }

if ! command -v podman >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc buildah >/dev/null
  fi
fi
if ! command -v podman >/dev/null; then
  log "SKIP: podman is not installed (Debian: apt-get install podman runc)"
  exit 0
fi
capp=$repo/../shared/corpus/car/hello-worldCompositeApplication_1.0.0.car
if [ ! -f "$capp" ]; then
  log "SKIP: $capp is absent (the shared corpus is not beside the repository)"
  exit 0
fi

work=$(mktemp -d)
export CONTAINERS_CONF=${CONTAINERS_CONF:-$here/containers.conf}
export PODMAN_ARGS="--storage-driver vfs --root $work/storage --runroot $work/run"
pm() { podman $PODMAN_ARGS "$@"; }
name=conflux-smoke-$$
cleanup() {
  pm rm -f "$name" >/dev/null 2>&1 || true
  pm rmi -af >/dev/null 2>&1 || true
  rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT

log "building the image (MI $version layout)"
bash "$here/build.sh" "${build_args[@]}" --version "$version" | tail -1 >/dev/null
size=$(pm image inspect --format '{{.Size}}' "docker.io/wso2/wso2mi:$version")

# What an MI project's Dockerfile says, unchanged.
mkdir -p "$work/project"
cp "$capp" "$work/project/"
cat > "$work/project/Dockerfile" <<DOCKERFILE
FROM wso2/wso2mi:$version
COPY $(basename "$capp") \$WSO2_SERVER_HOME/repository/deployment/server/carbonapps/
DOCKERFILE
pm build -q -t localhost/user-project:latest "$work/project" >/dev/null

# Host ports from a free range (the container keeps MI's defaults 8290 and 9201 inside).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
http_port=$(free_port)
probe_port=$(free_port)
started=$(date +%s%N)
pm run -d --name "$name" -p "127.0.0.1:$http_port:8290" -p "127.0.0.1:$probe_port:9201" localhost/user-project:latest >/dev/null
ready=""
for _ in $(seq 1 600); do
  if curl -sf "http://127.0.0.1:$probe_port/healthz" >/dev/null 2>&1; then
    ready=$(( ($(date +%s%N) - started) / 1000000 ))
    break
  fi
  sleep 0.01
done
if [ -z "$ready" ]; then
  log "FAIL: /healthz did not answer within 6 s"; pm logs "$name" | tail -20; exit 1
fi
answer=$(curl -sf "http://127.0.0.1:$http_port/hello-world")
if [ "$answer" != '{"Hello":"World"}' ]; then
  log "FAIL: GET /hello-world answered '$answer'"; pm logs "$name" | tail -20; exit 1
fi
# Logs are plain text on stdout (no ANSI escape codes).
if pm logs "$name" 2>&1 | grep -q $'\033\['; then
  log "FAIL: the container log has ANSI escape codes"; exit 1
fi
pm stop -t 30 "$name" >/dev/null
code=$(pm inspect --format '{{.State.ExitCode}}' "$name")
if [ "$code" != 0 ]; then
  log "FAIL: exit code $code after SIGTERM"; pm logs "$name" | tail -20; exit 1
fi
if ! pm logs "$name" 2>&1 | grep -q "Conflux stopped"; then
  log "FAIL: no clean stop in the log"; pm logs "$name" | tail -20; exit 1
fi
log "OK: image $(( size / 1000000 )) MB; podman run to /healthz ready in $ready ms; GET /hello-world -> $answer; SIGTERM -> exit 0"
