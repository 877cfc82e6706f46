# Sourced by run.sh: makes sure docker.io, docker-compose and debootstrap are installed and a Docker engine
# answers. Sets SMOKE_DOCKERD_PID when this script started dockerd (run.sh stops exactly that process).
ensure_tools() {
  local need=()
  command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
  command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
  command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
  if [ ${#need[@]} -gt 0 ]; then
    echo "smoke: installing ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
}

ensure_engine() {
  SMOKE_DOCKERD_PID=""
  if docker info >/dev/null 2>&1; then return 0; fi
  echo "smoke: starting dockerd (log: $SMOKE_WORK/dockerd.log)"
  dockerd >"$SMOKE_WORK/dockerd.log" 2>&1 &
  SMOKE_DOCKERD_PID=$!
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && return 0
    sleep 1
  done
  echo "smoke: dockerd did not come up; see $SMOKE_WORK/dockerd.log" >&2
  return 1
}
