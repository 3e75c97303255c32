#!/usr/bin/env bash
# docker-compose.yml under podman-compose 1.0.3 (Debian 12), as root, working
# around what that version lacks without changing the compose file:
#
#   deploy/podman/stack.sh up       # the five services (not the monitoring profile), then
#                                   # healthchecks run by hand until broker and agents pass
#   deploy/podman/stack.sh health   # each service's healthcheck once (exit 1 if one fails)
#   deploy/podman/stack.sh down     # stop (5 s grace), remove every container and the network, by name
#                                   # (VOLUMES=1: the broker's volume too, like `docker compose down -v`)
#
# PROJECT (default dmabroker) is the compose project: containers are
# <project>_<service>_1, the network <project>_default. Compose variables
# (DMABROKER_PUBLISH_GRPC_PORT, DMABROKER_LEASE_TOMBSTONE_TTL_MS, ...) pass through
# from the environment. Build the image first (deploy/podman/prepare.sh).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PROJECT="${PROJECT:-dmabroker}"
SERVICES=(broker agent-ioat agent-dsa agent-plx workload)
CHECKED=(broker agent-ioat agent-dsa agent-plx)   # the workload has no healthcheck: its log is its health
HEALTH_TIMEOUT_S="${HEALTH_TIMEOUT_S:-60}"

say() { printf 'stack[%s]: %s\n' "$PROJECT" "$*" >&2; }
name() { echo "${PROJECT}_$1_1"; }

health() { # one pass; prints the unhealthy ones
  local bad=0 s
  for s in "${CHECKED[@]}"; do
    if podman healthcheck run "$(name "$s")" >/dev/null 2>&1; then say "$s healthy"; else say "$s NOT healthy"; bad=1; fi
  done
  return $bad
}

case "${1:-}" in
  up)
    t0=$SECONDS
    # Named services: podman-compose ignores `profiles` and would start prometheus too.
    # (podman logs "unable to get systemd connection to add healthchecks" per container: expected without systemd.)
    log="$(mktemp -t dmabroker-compose-up.XXXXXX)"
    podman-compose -p "$PROJECT" -f "$ROOT/docker-compose.yml" up -d --no-build "${SERVICES[@]}" >"$log" 2>&1 ||
      { tail -20 "$log" >&2; rm -f "$log"; say "podman-compose up failed"; exit 1; }
    rm -f "$log"
    # No systemd here to schedule the healthchecks: run them until they pass.
    for s in "${CHECKED[@]}"; do
      deadline=$((SECONDS + HEALTH_TIMEOUT_S))
      until podman healthcheck run "$(name "$s")" >/dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || { podman logs --tail 20 "$(name "$s")" >&2 || true; say "$s not healthy after $HEALTH_TIMEOUT_S s"; exit 1; }
        sleep 1
      done
    done
    say "up: broker and three agents healthy in $((SECONDS - t0)) s"
    ;;
  health) health ;;
  down)
    # (prometheus and grafana too, in case the monitoring profile was brought up by hand)
    for s in "${SERVICES[@]}" prometheus grafana; do podman stop -t 5 --ignore "$(name "$s")" >/dev/null 2>&1 || true; done
    for s in "${SERVICES[@]}" prometheus grafana; do podman rm -f --ignore "$(name "$s")" >/dev/null 2>&1; done
    # podman-compose 1.0.3's `down` leaves the network behind.
    podman network exists "${PROJECT}_default" && podman network rm -f "${PROJECT}_default" >/dev/null
    # The broker's store stays unless VOLUMES=1 (as `docker compose down` keeps volumes; `down -v` removes them).
    if [ "${VOLUMES:-0}" = 1 ]; then podman volume rm -f "${PROJECT}_broker-data" >/dev/null 2>&1 || true; fi
    say "down: containers and network ${PROJECT}_default removed$([ "${VOLUMES:-0}" = 1 ] && echo ", volume ${PROJECT}_broker-data too")"
    ;;
  *) echo "usage: PROJECT=name $0 up|health|down" >&2; exit 2 ;;
esac
