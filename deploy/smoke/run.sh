#!/usr/bin/env bash
# Smoke test of the containers, end to end, on this machine (as root): installs docker.io, docker-compose and
# debootstrap if missing, starts dockerd if none answers, builds stand-in base images under the tags the
# Dockerfiles and compose.yaml name (nothing can be pulled here), builds the three images with the real
# Dockerfiles, starts the stack with docker-compose (host networking, deploy/smoke/compose.host.yaml), drives one
# real session from headless Chromium (video decoded, error reports received); then the same with compose.yaml
# itself, on Docker's bridge network with its published ports (what `docker compose up` gives a user): the browser
# reaches signaling and media on 127.0.0.1 through Docker's port publishing (NAT / docker-proxy), the traffic stays
# on this machine. Then it stops everything it started.
# Prints the time of each phase. Usage: bash deploy/smoke/run.sh
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SMOKE_WORK="${SMOKE_WORK:-$REPO/.tmp/smoke}"
mkdir -p "$SMOKE_WORK"
cd "$REPO"
# shellcheck source=engine.sh
source deploy/smoke/engine.sh
# shellcheck source=standin.sh
source deploy/smoke/standin.sh

export HTTP_PORT="${HTTP_PORT:-18080}" WT_PORT="${WT_PORT:-14433}" ICE_UDP_PORT="${ICE_UDP_PORT:-41000}"
export ICE_ADVERTISE_ADDRESS=127.0.0.1 LOG_LEVEL="${LOG_LEVEL:-info}"
export SMOKE_NATS_PORT="${SMOKE_NATS_PORT:-14222}" SMOKE_NATS_MONITOR_PORT="${SMOKE_NATS_MONITOR_PORT:-18222}"
export SMOKE_GENERATOR_METRICS_PORT="${SMOKE_GENERATOR_METRICS_PORT:-19464}" SMOKE_MEDIA_METRICS_PORT="${SMOKE_MEDIA_METRICS_PORT:-19465}"
export SMOKE_SIGNALING_METRICS_PORT="${SMOKE_SIGNALING_METRICS_PORT:-19466}"
# compose.yaml without published ports (Compose v1 refuses them with host networking), then the host override.
bun deploy/smoke/host-compose.ts compose.yaml >"$SMOKE_WORK/compose.host-network.json"
COMPOSE=(docker-compose -p ballstream-smoke --project-directory "$REPO" -f "$SMOKE_WORK/compose.host-network.json" -f deploy/smoke/compose.host.yaml)

# The stack uses the host network: a port already taken would make a container fail and a probe talk to whatever
# else listens there. Say so now, by name.
for port in "$HTTP_PORT" "$SMOKE_NATS_PORT" "$SMOKE_NATS_MONITOR_PORT" "$SMOKE_GENERATOR_METRICS_PORT" "$SMOKE_MEDIA_METRICS_PORT" "$SMOKE_SIGNALING_METRICS_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "smoke: TCP port $port on 127.0.0.1 is already in use; stop what listens there or set the port variables (see the top of $0)" >&2
    exit 1
  fi
done

started=$(date +%s)
phase() { echo "smoke: [$(($(date +%s) - started)) s] $*"; }

# compose.yaml as a user runs it: Docker's bridge network, the ports it publishes (no override).
BRIDGE=(docker-compose -p ballstream-smoke-bridge --project-directory "$REPO" -f compose.yaml)

stack_up=0
bridge_up=0
cleanup() {
  local code=$?
  if [ "$stack_up" = 1 ]; then
    [ "$code" = 0 ] || { echo "smoke: --- container logs"; "${COMPOSE[@]}" logs --no-color --tail 60 || true; }
    phase "stopping the stack"
    "${COMPOSE[@]}" down --remove-orphans --timeout 15 >/dev/null 2>&1 || true
  fi
  if [ "$bridge_up" = 1 ]; then
    [ "$code" = 0 ] || { echo "smoke: --- container logs (bridge)"; "${BRIDGE[@]}" logs --no-color --tail 60 || true; }
    phase "stopping the bridge-network stack"
    "${BRIDGE[@]}" down --remove-orphans --timeout 15 >/dev/null 2>&1 || true
  fi
  if [ -n "${SMOKE_DOCKERD_PID:-}" ]; then
    phase "stopping the dockerd this script started (pid $SMOKE_DOCKERD_PID)"
    kill "$SMOKE_DOCKERD_PID" 2>/dev/null || true
    wait "$SMOKE_DOCKERD_PID" 2>/dev/null || true
  fi
  phase "$([ "$code" = 0 ] && echo PASSED || echo "FAILED (exit $code)") in $(($(date +%s) - started)) s"
}
trap cleanup EXIT

# Waits (at most 90 s) until signaling's /readyz answers on the published HTTP port; exits naming `$1` otherwise.
wait_for_signaling() {
  for _ in $(seq 1 90); do
    curl -fsS "http://127.0.0.1:$HTTP_PORT/readyz" >/dev/null 2>&1 && return 0
    sleep 1
  done
  echo "smoke: $1 never became ready" >&2
  exit 1
}

phase "tools and engine"
ensure_tools
ensure_engine
phase "stand-in base images"
ensure_standins
for s in generator media signaling; do
  phase "building ballstream/$s:0.1.0"
  docker build --network host -q -f "Dockerfile.$s" -t "ballstream/$s:0.1.0" . >/dev/null
done

phase "starting the stack"
stack_up=1
"${COMPOSE[@]}" up -d --no-build
wait_for_signaling "signaling"
signaling_id="$("${COMPOSE[@]}" ps -q signaling)"
for _ in $(seq 1 40); do
  [ "$(docker inspect --format '{{.State.Health.Status}}' "$signaling_id")" = healthy ] && break
  sleep 1
done
health="$(docker inspect --format '{{.State.Health.Status}}' "$signaling_id")"
[ "$health" = healthy ] || { echo "smoke: signaling's HEALTHCHECK says $health" >&2; exit 1; }
phase "signaling ready and healthy; driving one session from headless Chromium"
bun deploy/smoke/drive.ts "http://127.0.0.1:$HTTP_PORT"
# Metrics on their own ports (never the page's), every service logged in to NATS (else it would not be ready).
# read the whole answer first: `curl | grep -q` under pipefail fails when grep exits before curl has written it all
signaling_metrics=$(curl -fsS "http://127.0.0.1:$SMOKE_SIGNALING_METRICS_PORT/metrics" || true)
grep -q '^ballstream_signaling_active_sessions' <<<"$signaling_metrics" || { echo "smoke: no signaling metrics on $SMOKE_SIGNALING_METRICS_PORT" >&2; exit 1; }
page_port_metrics=$(curl -sS "http://127.0.0.1:$HTTP_PORT/metrics" || true)
! grep -q '^ballstream_' <<<"$page_port_metrics" || { echo "smoke: metrics are served on the page's port" >&2; exit 1; }
phase "metrics on ports $SMOKE_GENERATOR_METRICS_PORT/$SMOKE_MEDIA_METRICS_PORT/$SMOKE_SIGNALING_METRICS_PORT only; NATS login accepted"
# The media image carries libx264, so ENCODER=auto encodes in the process, not with the ffmpeg fallback (asked of
# the image itself: the "encoder" log line is info, and LOG_LEVEL may be higher).
"${COMPOSE[@]}" exec -T media bun -e 'const { loadX264 } = await import("/app/services/media/src/x264.ts"); process.exit(loadX264() === null ? 1 : 0)' \
  || { echo "smoke: libx264 does not load in the media image: media would encode with the ffmpeg fallback" >&2; exit 1; }
phase "libx264 loads in the media image (ENCODER=auto encodes in the process)"

phase "stopping the host-network stack"
"${COMPOSE[@]}" down --remove-orphans --timeout 15 >/dev/null 2>&1
stack_up=0
phase "starting compose.yaml on Docker's bridge network (published ports ${HTTP_PORT}/tcp, ${WT_PORT}/udp, ${ICE_UDP_PORT}/udp)"
bridge_up=1
"${BRIDGE[@]}" up -d --no-build
wait_for_signaling "signaling (bridge network)"
media_ip="$(docker inspect --format '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$("${BRIDGE[@]}" ps -q media)")"
phase "bridge network: media's container address $media_ip, advertised as $ICE_ADVERTISE_ADDRESS:$ICE_UDP_PORT; driving one session"
bun deploy/smoke/drive.ts "http://127.0.0.1:$HTTP_PORT"
