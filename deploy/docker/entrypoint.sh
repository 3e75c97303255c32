#!/bin/sh
# Picks the process the container runs: broker | provider-agent.
set -e
role="${1:-broker}"
[ $# -gt 0 ] && shift
case "$role" in
  broker) exec node /app/services/broker/dist/main.js "$@" ;;
  provider-agent) exec node /app/services/provider-agent/dist/main.js "$@" ;;
  *) echo "dmabroker: unknown role '$role' (broker | provider-agent)" >&2; exit 2 ;;
esac
