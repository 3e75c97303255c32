#!/bin/sh
# The image's entrypoint: the first argument picks the process, the rest go to it.
#   broker (default) | provider-agent | workload | dmactl
# A first argument that is a flag (`--log-level debug`) goes to the broker.
# DMABROKER_APP_DIR (default /app) is where the image keeps the code; tests
# point it at a staged copy of the image's layout.
set -eu
app="${DMABROKER_APP_DIR:-/app}"
role="${1:-broker}"
case "$role" in
  -*) role=broker ;;
  *) if [ $# -gt 0 ]; then shift; fi ;;
esac
case "$role" in
  broker | provider-agent | workload | dmactl) entry="$app/services/$role/dist/main.js" ;;
  *)
    echo "dmabroker: unknown role '$role' (broker | provider-agent | workload | dmactl)" >&2
    exit 2
    ;;
esac
if [ ! -f "$entry" ]; then
  echo "dmabroker: role '$role' is not in this image ($entry is missing)" >&2
  exit 127
fi
exec node "$entry" "$@"
