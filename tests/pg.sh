#!/usr/bin/env bash
# tests/pg.sh — a throw-away PostgreSQL server for the test suites.
#
#   eval "$(tests/pg.sh start)"   initdb a fresh cluster in a temp dir, start it
#                                 on 127.0.0.1:<free port>, print the exports
#   tests/pg.sh stop              stop it and remove the dir (LK_PG_DIR from the
#                                 environment, else the state file)
#
# start prints exactly one line on stdout:
#   export LK_PG_HOST=127.0.0.1 LK_PG_PORT=<port> LK_PG_USER=postgres LK_PG_DIR=<dir> LK_PG_URL=postgresql://postgres@127.0.0.1:<port>/postgres
# and everything else on stderr.
#
# The cluster trusts connections from loopback and from its private unix
# socket directory (inside the temp dir) only; it listens on 127.0.0.1 only.
# fsync is off (LK_PG_FSYNC=on to keep it): the tests kill latchkeyd, never
# PostgreSQL itself, so committed data survives what the tests do to it.
# PostgreSQL refuses to run as root, so as root every PostgreSQL program runs
# as the unprivileged `postgres` system user through runuser; as another user
# it runs as that user.
set -euo pipefail
cd "$(dirname "$0")/.."

STATE=${LK_PG_STATE:-$PWD/tests/out/pg.state}

log() { echo "pg.sh: $*" >&2; }

pg_bindir() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  if command -v initdb >/dev/null 2>&1; then dirname "$(readlink -f "$(command -v initdb)")"; return 0; fi
  return 1
}

ensure_installed() {
  pg_bindir >/dev/null && return 0
  if [ "$(id -u)" -ne 0 ]; then
    log "PostgreSQL (initdb) is missing; run as root: apt-get install -y postgresql"
    exit 1
  fi
  log "installing postgresql (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y --no-install-recommends postgresql >/dev/null 2>&1; then
    apt-get update -qq >&2
    apt-get install -y --no-install-recommends postgresql >/dev/null
  fi
  pg_bindir >/dev/null || { log "initdb still not found after installing postgresql"; exit 1; }
}

as_pg() { # run a command as the cluster's owner
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

start() {
  ensure_installed
  local bin dir port try
  bin=$(pg_bindir)
  if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
    log "no 'postgres' system user (the postgresql package creates it)"; exit 1
  fi
  dir=$(mktemp -d "${TMPDIR:-/tmp}/lk-pg.XXXXXX")
  chmod 0700 "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
  as_pg "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
    --no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; rm -rf "$dir"; exit 1; }
  as_pg mkdir -p "$dir/sock"
  # loopback and the private socket only
  as_pg sh -c "cat >'$dir/data/pg_hba.conf'" <<HBA
local all all trust
host  all all 127.0.0.1/32 trust
HBA
  for try in 1 2 3 4 5; do
    port=$(free_port)
    if as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start -o \
        "-c listen_addresses=127.0.0.1 -p $port -k $dir/sock -c fsync=${LK_PG_FSYNC:-off} -c full_page_writes=off -c max_connections=300 -c shared_buffers=32MB" >&2; then
      break
    fi
    log "start on port $port failed (attempt $try):"; tail -5 "$dir/server.log" >&2 || true
    port=
  done
  [ -n "$port" ] || { rm -rf "$dir"; exit 1; }
  # ready means: accepts a query over TCP
  for try in $(seq 1 100); do
    if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres; then break; fi
    sleep 0.1
  done
  "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres || { log "not ready"; stop_dir "$dir"; exit 1; }
  mkdir -p "$(dirname "$STATE")"
  echo "$dir" >"$STATE"
  log "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port, dir $dir"
  echo "export LK_PG_HOST=127.0.0.1 LK_PG_PORT=$port LK_PG_USER=postgres LK_PG_DIR=$dir LK_PG_URL=postgresql://postgres@127.0.0.1:$port/postgres"
}

stop_dir() {
  local dir=$1 bin
  bin=$(pg_bindir) || true
  case $dir in ""|/) log "refusing to remove '$dir'"; return 1 ;; esac
  if [ -f "$dir/data/postmaster.pid" ] && [ -n "$bin" ]; then
    as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >&2 || \
      as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >&2 || true
  fi
  rm -rf "$dir"
}

stop() {
  local dir=${LK_PG_DIR:-}
  if [ -z "$dir" ] && [ -f "$STATE" ]; then dir=$(cat "$STATE"); fi
  [ -n "$dir" ] || { log "nothing to stop (no LK_PG_DIR, no $STATE)"; return 0; }
  stop_dir "$dir"
  if [ -f "$STATE" ] && [ "$(cat "$STATE")" = "$dir" ]; then rm -f "$STATE"; fi
  log "stopped, removed $dir"
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  *) echo "usage: tests/pg.sh start|stop" >&2; exit 2 ;;
esac
