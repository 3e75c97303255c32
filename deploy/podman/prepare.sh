#!/usr/bin/env bash
# Prepares a Debian 12 (bookworm) machine, as root, to build deploy/docker/Dockerfile
# and run docker-compose.yml with podman instead of Docker, with no container
# registry reachable (only Debian's archive and the npm registry).
#
#   deploy/podman/prepare.sh [packages] [config] [base] [build] [monitoring]   (default: all five)
#   deploy/podman/prepare.sh sweep                                   (after an interrupted test run)
#
#   packages  apt-get install podman, runc, netavark, aardvark-dns, catatonit,
#             podman-compose, debootstrap (bounded by timeouts)
#   config    /etc/containers/containers.conf from deploy/podman/containers.conf,
#             unless the file exists (then it is checked, not changed)
#   base      docker.io/library/node:20-slim, built locally: a debootstrap of
#             bookworm (minbase) with this machine's node 20 and npm 10.8.2, user
#             node 1000:1000 and the docker-entrypoint.sh of the official image.
#             Cached as a `podman save` archive in .cache/containers/ (git-ignored);
#             FORCE_BASE=1 rebuilds it.
#   build     podman build -f deploy/docker/Dockerfile -t dmabroker:local . (the
#             file unmodified), with npm trusting this machine's CA bundle
#   monitoring  docker.io/prom/prometheus:v2.55.1 (the compose file's monitoring
#             profile), stood in for by Debian's prometheus package (2.42) on the
#             base image; FORCE_MONITORING=1 rebuilds it. Grafana has none (README)
#   sweep     removes the containers, networks and broker volumes the container suite
#             or chaos-record.sh left behind when interrupted (compose projects named
#             dmabroker-ct-* and dmabroker-rec-*; not while one of them runs)
#
# Variables: NODE_BIN (a node 20 binary; default: node on PATH), NPM_VERSION
# (10.8.2), DEBIAN_MIRROR (default: the first URIs of this host's apt sources),
# CA_BUNDLE (/etc/ssl/certs/ca-certificates.crt), BUILD_NETWORK (host; see
# deploy/README.md), APT_TIMEOUT_S (300).
# Prints one line per step with its time; exits non-zero with the reason.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
CACHE="$ROOT/.cache/containers"
BASE_IMAGE=docker.io/library/node:20-slim
IMAGE=dmabroker:local
# What docker-compose.yml's monitoring profile names (the monitoring step builds a stand-in).
PROMETHEUS_IMAGE=docker.io/prom/prometheus:v2.55.1
NODE_BIN="${NODE_BIN:-$(command -v node || true)}"
NPM_VERSION="${NPM_VERSION:-10.8.2}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-$(grep -h -oP '^URIs:\s*\K\S+' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1 || true)}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
CA_BUNDLE="${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
BUILD_NETWORK="${BUILD_NETWORK:-host}"
APT_TIMEOUT_S="${APT_TIMEOUT_S:-300}"

say() { printf 'prepare[%s]: %s\n' "$STEP" "$*" >&2; }
die() { say "FAIL: $*"; exit 1; }

step_packages() {
  command -v apt-get >/dev/null || die "no apt-get: install podman, runc, netavark, aardvark-dns, catatonit and podman-compose by hand"
  # catatonit is podman's --init (compose's `init: true`); uidmap, slirp4netns and
  # fuse-overlayfs are podman's recommends; netavark sets up container networks with
  # the iptables binary, which nothing depends on (without it, starting any container on a
  # network fails with "netavark: No such file or directory"); the rest are the stack's needs.
  local pkgs=(podman runc netavark aardvark-dns iptables catatonit podman-compose debootstrap uidmap slirp4netns fuse-overlayfs)
  local missing=()
  for p in "${pkgs[@]}"; do dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
  if [ ${#missing[@]} -eq 0 ]; then say "installed already"; return; fi
  export DEBIAN_FRONTEND=noninteractive
  # The package lists may be stale on a fresh machine: update once if the install cannot find them.
  timeout "$APT_TIMEOUT_S" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
    { timeout "$APT_TIMEOUT_S" apt-get update -qq && timeout "$APT_TIMEOUT_S" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; } ||
    die "apt-get install ${missing[*]} failed or took over ${APT_TIMEOUT_S} s"
  say "installed ${missing[*]}"
}

step_config() {
  local conf=/etc/containers/containers.conf
  if [ ! -e "$conf" ]; then
    mkdir -p /etc/containers
    cp "$ROOT/deploy/podman/containers.conf" "$conf"
    say "wrote $conf"
  fi
  for k in 'default_ulimits = \[\]' 'runtime = "runc"' 'cgroup_manager = "cgroupfs"'; do
    grep -q "^$k" "$conf" || say "warning: $conf lacks '$k' (see deploy/podman/containers.conf for why it may be needed)"
  done
  podman info --format 'podman {{.Version.Version}}, runtime {{.Host.OCIRuntime.Name}}, cgroups {{.Host.CgroupsVersion}}, network {{.Host.NetworkBackend}}' >&2
}

step_base() {
  if [ "${FORCE_BASE:-0}" != 1 ] && podman image exists "$BASE_IMAGE"; then say "$BASE_IMAGE present"; return; fi
  if [ "${FORCE_BASE:-0}" != 1 ] && [ -f "$CACHE/node20-slim.tar" ]; then
    podman load -q -i "$CACHE/node20-slim.tar" >/dev/null && podman image exists "$BASE_IMAGE" && { say "loaded $BASE_IMAGE from $CACHE/node20-slim.tar"; return; }
    say "the cached archive did not load; rebuilding"
  fi
  [ -n "$NODE_BIN" ] && "$NODE_BIN" --version | grep -q '^v20\.' || die "need a node 20 binary (NODE_BIN), got: ${NODE_BIN:-none}"
  local node_version; node_version="$("$NODE_BIN" -p process.versions.node)"
  local work; work="$(mktemp -d -t dmabroker-base.XXXXXX)"
  # shellcheck disable=SC2064  # expand now: the path is fixed
  trap "rm -rf '$work'" EXIT
  local R="$work/rootfs"
  timeout 600 debootstrap --variant=minbase bookworm "$R" "$DEBIAN_MIRROR" >"$work/debootstrap.log" 2>&1 ||
    { tail -20 "$work/debootstrap.log" >&2; die "debootstrap bookworm from $DEBIAN_MIRROR"; }
  # Slim like debian:bookworm-slim: no apt lists or caches, no docs but copyrights, no man pages or locales.
  chroot "$R" apt-get clean
  rm -rf "$R"/var/lib/apt/lists/* "$R"/var/cache/apt/*.bin "$R"/var/log/*.log "$R"/var/log/apt/* "$R"/tmp/*
  find "$R/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
  find "$R/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$R"/usr/share/man/* "$R"/usr/share/info/* "$R"/usr/share/locale/*
  rm -f "$R/etc/hostname"; : >"$R/etc/resolv.conf"
  # Like node:20-slim: user node 1000:1000; node, npm, npx (and corepack) in /usr/local/bin.
  chroot "$R" groupadd --gid 1000 node
  chroot "$R" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  install -D -m 0755 "$NODE_BIN" "$R/usr/local/bin/node"
  ln -s node "$R/usr/local/bin/nodejs"
  (cd "$work" && npm pack "npm@$NPM_VERSION" --silent >/dev/null) || die "npm pack npm@$NPM_VERSION"
  mkdir -p "$R/usr/local/lib/node_modules/npm"
  tar -xzf "$work/npm-$NPM_VERSION.tgz" -C "$R/usr/local/lib/node_modules/npm" --strip-components=1 --no-same-owner
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$R/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$R/usr/local/bin/npx"
  local corepack; corepack="$(dirname "$(readlink -f "$NODE_BIN")")/../lib/node_modules/corepack"
  if [ -d "$corepack" ]; then
    cp -a "$corepack" "$R/usr/local/lib/node_modules/corepack"
    ln -s ../lib/node_modules/corepack/dist/corepack.js "$R/usr/local/bin/corepack"
  fi
  # The official image's entrypoint: a first argument that is an option or no command runs under node.
  cat >"$R/usr/local/bin/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
set -e
if [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}")" ] || { [ -f "${1}" ] && ! [ -x "${1}" ]; }; then
  set -- node "$@"
fi
exec "$@"
EOF
  chmod 0755 "$R/usr/local/bin/docker-entrypoint.sh"
  chroot "$R" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin sh -c 'node --version >/dev/null && npm --version >/dev/null && id node >/dev/null' ||
    die "node or npm does not run inside the new root file system"
  tar --numeric-owner -C "$R" -cf "$work/rootfs.tar" .
  podman import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV NODE_VERSION=$node_version" \
    --change 'ENTRYPOINT ["docker-entrypoint.sh"]' \
    --change 'CMD ["node"]' \
    --message "local stand-in for node:20-slim: debootstrap minbase bookworm, node $node_version, npm $NPM_VERSION" \
    "$work/rootfs.tar" "$BASE_IMAGE" >/dev/null
  mkdir -p "$CACHE"
  podman save -q -o "$CACHE/node20-slim.tar.part" "$BASE_IMAGE" && mv "$CACHE/node20-slim.tar.part" "$CACHE/node20-slim.tar"
  say "built $BASE_IMAGE (node $node_version, npm $NPM_VERSION), cached in $CACHE/node20-slim.tar"
}

step_build() {
  podman image exists "$BASE_IMAGE" || die "no $BASE_IMAGE: run the base step first"
  # npm inside the build trusts this machine's CAs: a global npmrc with cafile= is mounted over
  # the base image's empty /usr/local/etc for the RUN steps only (it lands in no layer).
  local cfg; cfg="$(mktemp -d -t dmabroker-buildcfg.XXXXXX)"
  cp "$CA_BUNDLE" "$cfg/ca-bundle.pem"
  echo "cafile=/usr/local/etc/ca-bundle.pem" >"$cfg/npmrc"
  local rc=0
  (cd "$ROOT" && podman build --network "$BUILD_NETWORK" -v "$cfg:/usr/local/etc:ro" -f deploy/docker/Dockerfile -t "$IMAGE" .) >&2 || rc=$?
  rm -rf "$cfg"
  [ "$rc" = 0 ] || die "podman build exited $rc"
  say "built $IMAGE"
}

# The monitoring profile's prometheus image, stood in for by Debian's own Prometheus (the package
# `prometheus`, 2.42 in bookworm; the compose file names prom/prometheus:v2.55.1): its binaries on the
# local base image, laid out like the official image (user nobody, /prometheus, entrypoint prometheus).
# Debian's build keeps its data in /var/lib/prometheus/metrics2 by default (the compose file passes only
# --config.file): that path is a link to /prometheus.
# Grafana has no stand-in: it is neither in Debian's archive nor on npm (deploy/README.md).
step_monitoring() {
  if [ "${FORCE_MONITORING:-0}" != 1 ] && podman image exists "$PROMETHEUS_IMAGE"; then say "$PROMETHEUS_IMAGE present"; return; fi
  podman image exists "$BASE_IMAGE" || die "no $BASE_IMAGE: run the base step first"
  if ! command -v prometheus >/dev/null; then
    command -v apt-get >/dev/null || die "no prometheus binary and no apt-get to install Debian's"
    export DEBIAN_FRONTEND=noninteractive
    timeout "$APT_TIMEOUT_S" apt-get install -y -qq --no-install-recommends prometheus >/dev/null 2>&1 ||
      { timeout "$APT_TIMEOUT_S" apt-get update -qq && timeout "$APT_TIMEOUT_S" apt-get install -y -qq --no-install-recommends prometheus >/dev/null; } ||
      die "apt-get install prometheus failed or took over ${APT_TIMEOUT_S} s"
  fi
  local prom; prom="$(command -v prometheus)"
  local version; version="$("$prom" --version 2>&1 | awk 'NR == 1 {print $3}')"
  local work; work="$(mktemp -d -t dmabroker-prom.XXXXXX)"
  cp "$prom" "$(command -v promtool)" "$work/"
  printf '%s\n' \
    'FROM docker.io/library/node:20-slim' \
    'COPY prometheus promtool /bin/' \
    'RUN mkdir -p /etc/prometheus /prometheus /var/lib/prometheus && chown nobody:nogroup /prometheus && ln -s /prometheus /var/lib/prometheus/metrics2' \
    'USER nobody' \
    'WORKDIR /prometheus' \
    'EXPOSE 9090' \
    'ENTRYPOINT ["/bin/prometheus"]' \
    'CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]' >"$work/Containerfile"
  local rc=0
  podman build --network none --label "dmabroker.stand-in=Debian prometheus $version" -t "$PROMETHEUS_IMAGE" "$work" >"$work/build.log" 2>&1 || rc=$?
  [ "$rc" = 0 ] || { tail -20 "$work/build.log" >&2; rm -rf "$work"; die "podman build of the prometheus stand-in exited $rc"; }
  rm -rf "$work"
  say "built $PROMETHEUS_IMAGE from Debian's prometheus $version"
}

step_sweep() {
  local projects p
  projects="$(podman ps -a --format '{{index .Labels "com.docker.compose.project"}}' | grep -E '^dmabroker-(ct|rec)-' | sort -u || true)"
  for p in $projects; do
    podman rm -f -t 1 $(podman ps -a -q --filter "label=com.docker.compose.project=$p") >/dev/null 2>&1 || true
    say "removed the containers of $p"
  done
  for p in $(podman network ls --format '{{.Name}}' | grep -E '^dmabroker-(ct|rec)-.*_default$' || true); do
    podman network rm -f "$p" >/dev/null && say "removed network $p"
  done
  for p in $(podman volume ls --format '{{.Name}}' | grep -E '^dmabroker-(ct|rec)-.*_broker-data$' || true); do
    podman volume rm -f "$p" >/dev/null 2>&1 && say "removed volume $p"
  done
}

[ "$(id -u)" = 0 ] || { STEP=-; die "run as root (rootful podman)"; }
[ $# -gt 0 ] || set -- packages config base build monitoring
for STEP in "$@"; do
  declare -F "step_$STEP" >/dev/null || { die "unknown step (packages, config, base, build, monitoring, sweep)"; }
  t0=$SECONDS
  "step_$STEP"
  say "done in $((SECONDS - t0)) s"
done
