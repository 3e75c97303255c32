#!/usr/bin/env bash
# A recorded chaos run against docker-compose.yml under podman: brings the stack
# up under its own project (stack.sh, tombstone TTL 2 s so records return to
# baseline), runs `npm run chaos -- --driver compose --cli podman` against its
# published ports, and always tears the stack down again (containers, network
# and the broker's volume, by name), whatever happened.
#
#   deploy/podman/chaos-record.sh [--duration 10m] [--seed N] [--clients 8] [--out FILE.json] [--logs DIR]
#
# Writes FILE.json (the chaos summary) and FILE.txt (the command line, the date
# and the printed table); exits with the chaos run's status (1 on any violation
# or lost cookie). Long runs belong under the heavy lock:
#   flock /work/heavy.lock nice -n 10 deploy/podman/chaos-record.sh --duration 10m --out bench/results/chaos-compose-10m.json
# Needs root, podman, podman-compose and the image dmabroker:local
# (deploy/podman/prepare.sh; BUILD=1 runs `prepare.sh base build` first).
# PROJECT (default dmabroker-rec-<pid>) names the compose project.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DURATION=10m SEED=20261202 CLIENTS=8 OUT="" LOGS=""
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION="$2"; shift 2 ;;
    --seed) SEED="$2"; shift 2 ;;
    --clients) CLIENTS="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --logs) LOGS="$2"; shift 2 ;;
    *) echo "chaos-record: unknown argument $1" >&2; sed -n 2,17p "$0" >&2; exit 2 ;;
  esac
done
[ -n "$OUT" ] || OUT="$(mktemp -t dmabroker-chaos-compose.XXXXXX).json"
case "$OUT" in *.json) ;; *) echo "chaos-record: --out must end in .json" >&2; exit 2 ;; esac
TXT="${OUT%.json}.txt"
export PROJECT="${PROJECT:-dmabroker-rec-$$}"
TTL_MS=2000

say() { printf 'chaos-record[%s]: %s\n' "$PROJECT" "$*" >&2; }
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

[ "$(id -u)" = 0 ] || { say "needs root (rootful podman, as the container suite)"; exit 2; }
command -v podman >/dev/null && command -v podman-compose >/dev/null || { say "needs podman and podman-compose (deploy/podman/prepare.sh packages)"; exit 2; }
if [ "${BUILD:-0}" = 1 ]; then "$ROOT/deploy/podman/prepare.sh" base build; fi
podman image exists dmabroker:local || { say "no image dmabroker:local: run deploy/podman/prepare.sh (or BUILD=1)"; exit 2; }

GRPC_PORT="$(free_port)" ADMIN_PORT="$(free_port)"
export DMABROKER_PUBLISH_GRPC_PORT="$GRPC_PORT" DMABROKER_PUBLISH_ADMIN_PORT="$ADMIN_PORT" DMABROKER_LEASE_TOMBSTONE_TTL_MS="$TTL_MS"

teardown() {
  local rc=$?
  "$ROOT/deploy/podman/stack.sh" down || true
  podman volume rm -f "${PROJECT}_broker-data" >/dev/null 2>&1 || true
  exit $rc
}
trap teardown EXIT
trap 'exit 130' INT TERM

"$ROOT/deploy/podman/stack.sh" up
cmd=(npm run chaos --silent -- --driver compose --cli podman --project "$PROJECT"
  --broker "127.0.0.1:$GRPC_PORT" --admin "http://127.0.0.1:$ADMIN_PORT" --tombstone-ttl-ms "$TTL_MS"
  --duration "$DURATION" --seed "$SEED" --clients "$CLIENTS" --out "$OUT")
[ -z "$LOGS" ] || cmd+=(--logs "$LOGS")
{
  echo "# deploy/podman/chaos-record.sh --duration $DURATION --seed $SEED --clients $CLIENTS (podman $(podman --version | awk '{print $3}'), podman-compose, image dmabroker:local)"
  echo "# ${cmd[*]}"
  echo "# $(date -u '+%H:%M:%S UTC %Y-%m-%d'), $(nproc) cores, branch $(git -C "$ROOT" rev-parse --abbrev-ref HEAD 2>/dev/null || echo '?')"
} >"$TXT"
set +e
(cd "$ROOT" && "${cmd[@]}") | tee -a "$TXT"
rc=${PIPESTATUS[0]}
set -e
say "chaos exited $rc; summary in $OUT and $TXT"
exit "$rc"
