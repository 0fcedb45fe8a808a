#!/usr/bin/env bash
# Ensures a working Docker engine on this machine, so compose, Testcontainers and
# infra/offline-images.sh have something to talk to. Sandboxes and CI machines have
# no init system running dockerd, so this installs Debian's docker.io (plus
# docker-compose v1 and debootstrap) when missing and starts dockerd in the background.
# Idempotent: exits at once if `docker info` already works. Logs to /tmp/dockerd.log.
# Extra daemon flags can be passed in DOCKERD_FLAGS (e.g. "--storage-driver=vfs").
set -euo pipefail

LOG=/tmp/dockerd.log
die() { echo "docker-engine: $*" >&2; exit 1; }

docker info >/dev/null 2>&1 && exit 0
[[ $(id -u) == 0 ]] || die "must run as root to install/start dockerd"

# Install what is missing from Debian (the mirror comes from apt's own sources).
need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v docker >/dev/null || need+=(docker.io)
command -v docker-compose >/dev/null || need+=(docker-compose)
command -v debootstrap >/dev/null || need+=(debootstrap)
if ((${#need[@]})); then
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

# Start dockerd unless one is already running (and maybe just slow to come up).
pid=$(cat /var/run/docker.pid 2>/dev/null || true)
if [[ -z $pid ]] || ! kill -0 "$pid" 2>/dev/null; then
  # Defaults work on this sandbox's kernel (overlay2 on ext4, iptables via nf_tables,
  # cgroup v1, bridge + veth). The only case handled here: overlay2 cannot sit on an
  # overlay root (nested overlay) or without kernel overlayfs; vfs always works, slowly.
  flags=()
  modprobe overlay 2>/dev/null || true
  mkdir -p /var/lib/docker
  if ! grep -qw overlay /proc/filesystems || [[ $(stat -f -c %T /var/lib/docker) == overlayfs ]]; then
    flags+=(--storage-driver=vfs)
  fi
  # shellcheck disable=SC2206 # DOCKERD_FLAGS is deliberately word-split
  flags+=(${DOCKERD_FLAGS:-})
  setsid -f dockerd "${flags[@]}" </dev/null >>"$LOG" 2>&1
fi

for _ in $(seq 60); do
  docker info >/dev/null 2>&1 && exit 0
  sleep 1
done
tail -n 20 "$LOG" >&2 || true
die "dockerd did not answer 'docker info' within 60 s; see $LOG"
