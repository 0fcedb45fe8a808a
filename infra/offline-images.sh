#!/usr/bin/env bash
# Builds local stand-ins for the official node:20-bookworm-slim, redis:7 (with redis-sentinel,
# as the official image has), haproxy:2.6 and postgres:15 images, for machines that have a Docker engine
# but cannot reach a container registry.
# Each image is a Debian bookworm root made by debootstrap (minbase, mirror taken from
# apt's own sources) and loaded with `docker import`. Rootfs trees are cached under
# $CHAT_OFFLINE_CACHE (default /var/cache/chat-offline; delete it to re-bootstrap);
# existing images are kept unless --force or they lack a package of their list (a tree is
# re-bootstrapped when its list changed). Writes infra/.env so compose picks them up.
# Usage: infra/offline-images.sh [--force]
set -euo pipefail

FORCE=0; [[ ${1:-} == --force ]] && FORCE=1
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${CHAT_OFFLINE_CACHE:-/var/cache/chat-offline}
NODE_IMAGE=chat-offline/node:20 REDIS_IMAGE=chat-offline/redis:7 HAPROXY_IMAGE=chat-offline/haproxy:2.6
POSTGRES_IMAGE=chat-offline/postgres:15
PATH_ENV=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

log() { echo "offline-images: $*" >&2; }
timed() { local s=$SECONDS; "${@:2}"; log "$1: $((SECONDS - s))s"; }
# have_image IMAGE PKG,PKG: the image exists and has every package installed.
have_image() {
  ((FORCE == 0)) && docker image inspect "$1" >/dev/null 2>&1 &&
    docker run --rm --network none --entrypoint dpkg-query "$1" -W ${2//,/ } >/dev/null 2>&1
}

# First non-security mirror from deb822 .sources files or the classic sources.list.
mirror() {
  { sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/*.sources 2>/dev/null
    sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]\+\).*/\2/p' /etc/apt/sources.list 2>/dev/null
  } | tr ' ' '\n' | grep -v -- '-security' | grep -m1 . || true
}

# rootfs NAME PKG,PKG: debootstrap a trimmed bookworm tree once into $CACHE/rootfs/NAME.
rootfs() {
  local dir=$CACHE/rootfs/$1
  [[ -f $dir.done && $(cat "$dir.done") == "$2" ]] && return 0
  rm -rf "$dir"; mkdir -p "$CACHE/debs-$1"
  if ! debootstrap --variant=minbase --include="$2" --cache-dir="$CACHE/debs-$1" \
      bookworm "$dir" "$MIRROR" >"$CACHE/$1.log" 2>&1; then
    tail -n 20 "$CACHE/$1.log" >&2; log "debootstrap $1 failed, full log: $CACHE/$1.log"; return 1
  fi
  rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin "$dir"/var/cache/apt/archives/*.deb \
    "$dir"/usr/share/{doc,man,info,locale}/*
  printf '%s' "$2" >"$dir.done"
}

# import NAME IMAGE CHANGE...: tar the rootfs into a one-layer image with Dockerfile-style changes.
import() {
  local args=(--change "ENV $PATH_ENV" --change "LABEL chat-offline=1") c
  for c in "${@:3}"; do args+=(--change "$c"); done
  old=$(docker image inspect -f '{{.Id}}' "$2" 2>/dev/null || true)
  new=$(tar --numeric-owner -C "$CACHE/rootfs/$1" -c . | docker import "${args[@]}" - "$2")
  [[ -z $old || $old == "$new" ]] || docker rmi "$old" >/dev/null 2>&1 || true   # drop the replaced one
}

# Official redis images compile protected mode off; Debian's is on, which refuses clients
# coming through a published port. Mirror the official default for `redis-server [conf] ...`
# (unless a given config file sets protected-mode itself).
redis_entrypoint() {
  cat <<'EOF'
#!/bin/bash
set -e
case "$1" in -*|*.conf) set -- redis-server "$@" ;; esac
if [[ $1 == redis-server ]]; then
  shift; conf=()
  [[ $# -gt 0 && $1 != --* ]] && { conf=("$1"); shift; }
  pm=(--protected-mode no)
  [[ ${#conf[@]} -gt 0 ]] && grep -qs '^[[:space:]]*protected-mode' "${conf[0]}" && pm=()
  set -- redis-server "${conf[@]}" "${pm[@]}" "$@"
fi
exec "$@"
EOF
}

# What the official postgres image does for the settings compose and the tests use: on first
# start (empty PGDATA) initdb with POSTGRES_USER (default postgres) as superuser and
# POSTGRES_PASSWORD, create POSTGRES_DB (default: the user's name), accept password logins from
# anywhere; then run the server as the postgres user on 5432. Arguments starting with `-` go to
# postgres (`-c fsync=off`).
postgres_entrypoint() {
  cat <<'EOF'
#!/bin/bash
set -euo pipefail
case "${1:-}" in -*|'') set -- postgres "$@" ;; esac
[[ $1 == postgres ]] || exec "$@"
shift
bin=/usr/lib/postgresql/15/bin
export PGDATA=${PGDATA:-/var/lib/postgresql/data}
user=${POSTGRES_USER:-postgres} db=${POSTGRES_DB:-${POSTGRES_USER:-postgres}}
as_pg() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }
mkdir -p "$PGDATA" /var/run/postgresql
chown postgres:postgres "$PGDATA" /var/run/postgresql; chmod 700 "$PGDATA"
if [[ ! -s $PGDATA/PG_VERSION ]]; then
  [[ -n ${POSTGRES_PASSWORD:-} ]] || { echo 'postgres: POSTGRES_PASSWORD is not set' >&2; exit 1; }
  pw=$(mktemp); printf '%s\n' "$POSTGRES_PASSWORD" >"$pw"; chown postgres "$pw"
  as_pg "$bin/initdb" -D "$PGDATA" -U "$user" --pwfile="$pw" -A scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$pw"
  printf "listen_addresses = '*'\n" >>"$PGDATA/postgresql.conf"
  printf 'host all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
  if [[ $db != postgres ]]; then
    echo "CREATE DATABASE \"$db\" OWNER \"$user\";" | as_pg "$bin/postgres" --single -D "$PGDATA" postgres >/dev/null
  fi
  echo 'PostgreSQL init process complete; ready for start up.'
fi
exec setpriv --reuid=postgres --regid=postgres --init-groups "$bin/postgres" -D "$PGDATA" "$@"
EOF
}

build_postgres() {
  local r=$CACHE/rootfs/postgres
  postgres_entrypoint >"$r/usr/local/bin/docker-entrypoint.sh"; chmod 755 "$r/usr/local/bin/docker-entrypoint.sh"
  mkdir -p "$r/var/lib/postgresql/data"
  import postgres "$POSTGRES_IMAGE" 'ENV PGDATA=/var/lib/postgresql/data' 'VOLUME /var/lib/postgresql/data' \
    'EXPOSE 5432' 'ENTRYPOINT ["docker-entrypoint.sh"]' 'CMD ["postgres"]'
}

build_node() {
  local r=$CACHE/rootfs/node node npm out extra=
  node=$(readlink -f "$(command -v node)")
  install -m 755 "$node" "$r/usr/local/bin/node"
  if npm=$(command -v npm 2>/dev/null); then   # npm -> <prefix>/lib/node_modules/npm/bin/npm-cli.js
    npm=$(dirname "$(dirname "$(readlink -f "$npm")")")
    rm -rf "$r/usr/local/lib/node_modules/npm"; mkdir -p "$r/usr/local/lib/node_modules"
    cp -a "$npm" "$r/usr/local/lib/node_modules/npm"
    ln -sfn ../lib/node_modules/npm/bin/npm-cli.js "$r/usr/local/bin/npm"
    ln -sfn ../lib/node_modules/npm/bin/npx-cli.js "$r/usr/local/bin/npx"
  else log "no npm on this machine; $NODE_IMAGE gets node only"; fi
  # Trust the same extra CAs as this machine (e.g. a TLS-intercepting egress proxy), so
  # `npm ci` inside builds works where it works on the host. No-op on ordinary machines.
  if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$r/usr/local/share/ca-certificates/"
    out=$(chroot "$r" update-ca-certificates 2>&1) || { echo "$out" >&2; return 1; }
    extra='ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt'   # node ignores the system store
  fi
  chroot "$r" id node >/dev/null 2>&1 ||
    { chroot "$r" groupadd -g 1000 node && chroot "$r" useradd -u 1000 -g node -s /bin/bash -m node; }
  mkdir -p "$r/app"
  import node "$NODE_IMAGE" "ENV NODE_VERSION=$("$node" -p 'process.versions.node')" \
    'WORKDIR /app' 'CMD ["node"]' ${extra:+"$extra"}
}

build_redis() {
  local r=$CACHE/rootfs/redis
  redis_entrypoint >"$r/usr/local/bin/docker-entrypoint.sh"; chmod 755 "$r/usr/local/bin/docker-entrypoint.sh"
  mkdir -p "$r/data"
  import redis "$REDIS_IMAGE" 'WORKDIR /data' 'VOLUME /data' 'EXPOSE 6379' \
    'ENTRYPOINT ["docker-entrypoint.sh"]' 'CMD ["redis-server", "--protected-mode", "no", "--bind", "0.0.0.0"]'
}

build_haproxy() {
  local r=$CACHE/rootfs/haproxy
  mkdir -p "$r/usr/local/etc/haproxy" "$r/run/haproxy" "$r/var/lib/haproxy"
  import haproxy "$HAPROXY_IMAGE" \
    'CMD ["haproxy", "-W", "-db", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]'
}

# --- main ---
[[ $(id -u) == 0 ]] || { log "must run as root (debootstrap, chroot)"; exit 1; }
timed engine "$HERE/docker-engine.sh"
MIRROR=$(mirror); [[ -n $MIRROR ]] || { log "no Debian mirror found in apt sources"; exit 1; }
command -v node >/dev/null || { log "node is not installed on this machine"; exit 1; }

declare -A PKGS=([node]="ca-certificates,tini" [redis]="redis-server,redis-sentinel,redis-tools" [haproxy]=haproxy
  [postgres]="postgresql-15,postgresql-client-15")
declare -A IMAGE=([node]=$NODE_IMAGE [redis]=$REDIS_IMAGE [haproxy]=$HAPROXY_IMAGE [postgres]=$POSTGRES_IMAGE)
todo=(); for n in node redis haproxy postgres; do have_image "${IMAGE[$n]}" "${PKGS[$n]}" || todo+=("$n"); done

# Bootstrap the missing trees in parallel (separate package caches, so no races).
pids=()
for n in "${todo[@]}"; do timed "debootstrap $n" rootfs "$n" "${PKGS[$n]}" & pids+=($!); done
for p in "${pids[@]}"; do wait "$p"; done
for n in "${todo[@]}"; do timed "image ${IMAGE[$n]}" "build_$n"; done

# infra/.env: replace our four lines, keep everything else (e.g. CHAT_PORT).
env=$HERE/.env; others=$(grep -vE '^(NODE|REDIS|HAPROXY|POSTGRES)_IMAGE=' "$env" 2>/dev/null || true)
{ [[ -n $others ]] && printf '%s\n' "$others"
  printf 'NODE_IMAGE=%s\nREDIS_IMAGE=%s\nHAPROXY_IMAGE=%s\nPOSTGRES_IMAGE=%s\n' \
    "$NODE_IMAGE" "$REDIS_IMAGE" "$HAPROXY_IMAGE" "$POSTGRES_IMAGE"
} >"$env.tmp" && cat "$env.tmp" >"$env" && rm -f "$env.tmp"
log "total: ${SECONDS}s"
printf '%s\n' "$NODE_IMAGE" "$REDIS_IMAGE" "$HAPROXY_IMAGE" "$POSTGRES_IMAGE"
