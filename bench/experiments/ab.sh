#!/usr/bin/env bash
# bench/experiments/ab.sh — what each candidate optimisation of the whoami path buys.
#
#   bench/experiments/ab.sh [LEVEL...]      default: 0 1 2 3 4 5
#
# For each LEVEL: a throw-away copy of HEAD (git archive, in a temp dir) with patches.py's
# changes 1..LEVEL applied cumulatively, built like build-bench (release, -O3). Then
#   - callgrind: instructions per GET /v1/whoami inside on_req (exact; load does not matter),
#     latchkeyd --threads 1, wrk -t1 -c4 for LK_AB_CG_SECS (5) s;
#   - wrk: requests/s, wrk -t1 -c32 for LK_AB_SECS (5) s, LK_AB_ROUNDS (3) rounds, each round
#     nginx `return 200` first and then every level, so that drifting load hits all alike;
#     the median of the rounds is printed.
# Valid personal key, SQLite, 1,000 keys, 127.0.0.1 only; stops what it starts; the temp dir
# is removed at the end (LK_AB_DIR=DIR: use DIR instead, keep it, reuse builds found there).
# LK_AB_CG=0 skips callgrind, LK_AB_WRK=0 skips wrk. Never touches the working tree.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
LEVELS=${*:-0 1 2 3 4 5}
SECS=${LK_AB_SECS:-5}
ROUNDS=${LK_AB_ROUNDS:-3}
CG_SECS=${LK_AB_CG_SECS:-5}
LUA=$ROOT/bench/lua
export LK_LUA=$LUA LATCHKEY_BEARER_FAIL_LIMIT=1000000000
if [ -n "${LK_AB_DIR:-}" ]; then T=$LK_AB_DIR; mkdir -p "$T"; else T=$(mktemp -d "${TMPDIR:-/tmp}/lk-ab.XXXXXX"); fi
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
  [ -n "${LK_AB_DIR:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log() { echo "ab: $*" >&2; }

for v in $LEVELS; do
  [ ! -x "$T/v$v/b/latchkeyd" ] || continue
  rm -rf "$T/v$v"
  mkdir -p "$T/v$v"
  git archive HEAD | tar -x -C "$T/v$v"
  python3 bench/experiments/patches.py "$T/v$v" "$v"
  (cd "$T/v$v" && meson setup b -Dbuildtype=release -Ddebug=true -Dwerror=false -Dtests=false \
     >/dev/null && ninja -C b latchkeyd bench/seed bench/probe >/dev/null) ||
    { log "level $v does not build"; exit 1; }
  log "built level $v"
done
first=${LEVELS%% *}
PROBE=$T/v$first/b/bench/probe
rm -f "$T"/base.db*
"$T/v$first/b/bench/seed" --database "sqlite:$T/base.db" --orgs 10 --keys 1000 --out "$T/s" >/dev/null
# shellcheck disable=SC1091
. "$T/s.env"

# start_server LEVEL DB [extra args...] -> sets SP (pid) and SPORT
start_server() {
  local v=$1 db=$2
  shift 2
  SPORT=$("$PROBE" free-port)
  "$@" "$T/v$v/b/latchkeyd" --listen "127.0.0.1:$SPORT" --database "sqlite:$db" \
    ${LK_AB_SERVER_ARGS:-} >"$T/server-$v.log" 2>&1 &
  SP=$!
  PIDS+=("$SP")
  "$PROBE" wait "$SPORT" /readyz 60000 "$SP" >/dev/null
}

declare -A CG RPS
for v in $LEVELS; do
  [ "${LK_AB_CG:-1}" != 0 ] || { CG[$v]=—; continue; }
  cp "$T/base.db" "$T/cg.db"
  LK_AB_SERVER_ARGS="--threads 1" start_server "$v" "$T/cg.db" valgrind --tool=callgrind --callgrind-out-file="$T/cg-$v.out"
  LK_TOKEN=$LK_PERSONAL wrk -t1 -c4 -d"${CG_SECS}s" --timeout 10s -s "$LUA/get.lua" \
    "http://127.0.0.1:$SPORT/v1/whoami" >/dev/null
  kill "$SP"; wait "$SP" || true
  CG[$v]=$(callgrind_annotate --inclusive=yes --tree=calling "$T/cg-$v.out" 2>/dev/null | awk '
    /^ *[0-9,]+ \([ 0-9.]+%\)  \*  .*:on_req \[/ { t = $1; gsub(",", "", t) }
    /^ *[0-9,]+ \([ 0-9.]+%\)  >   .*:on_req \(/ { n = $0; sub(/.*\(/, "", n); sub(/x\).*/, "", n); gsub(",", "", n); c += n }
    END { if (c > 0) printf "%.0f", t / c }')
  log "level $v: ${CG[$v]} instructions per request in on_req"
done

[ "${LK_AB_WRK:-1}" != 0 ] || ROUNDS=0
NPORT=$("$PROBE" free-port)
mkdir -p "$T/nginx"
sed -e "s|@PREFIX@|$T/nginx|g" -e "s|@PORT@|$NPORT|g" bench/nginx.conf.in >"$T/nginx/nginx.conf"
nginx -p "$T/nginx" -c "$T/nginx/nginx.conf" >/dev/null 2>&1 &
NP=$!
PIDS+=("$NP")
"$PROBE" wait "$NPORT" / 5000 "$NP" >/dev/null
for r in $(seq 1 "$ROUNDS"); do
  x=$(wrk -t1 -c32 -d"${SECS}s" -s "$LUA/get.lua" "http://127.0.0.1:$NPORT/" | sed -n 's/^RESULT //p')
  RPS[nginx]="${RPS[nginx]:-} ${x%% *}"
  for v in $LEVELS; do
    cp "$T/base.db" "$T/w.db"
    start_server "$v" "$T/w.db"
    x=$(LK_TOKEN=$LK_PERSONAL wrk -t1 -c32 -d"${SECS}s" -s "$LUA/get.lua" \
        "http://127.0.0.1:$SPORT/v1/whoami" | sed -n 's/^RESULT //p')
    kill "$SP"; wait "$SP" || true
    RPS[$v]="${RPS[$v]:-} ${x%% *}"
    log "round $r level $v: $x"
  done
done
kill "$NP"; wait "$NP" || true

median() { tr ' ' '\n' | awk NF | sort -n | awk '{a[NR]=$1} END {print NR ? a[int((NR+1)/2)] : 0}'; }
ng=$(echo "${RPS[nginx]:-}" | median)
echo "| level | change (cumulative) | instructions / request | req/s (median of $ROUNDS) | × nginx |"
echo "| --- | --- | ---: | ---: | ---: |"
desc() { sed -n "s/^  $1  //p" bench/experiments/patches.py | head -1; }
echo "| — | nginx \`return 200\` | — | $ng | 1.00 |"
for v in $LEVELS; do
  m=$(echo "${RPS[$v]:-}" | median)
  d=$( [ "$v" = 0 ] && echo "unmodified" || desc "$v")
  awk -v v="$v" -v d="$d" -v c="${CG[$v]}" -v m="$m" -v n="$ng" \
    'BEGIN { printf "| %s | %s | %s | %s | %.2f |\n", v, d, c, m, (n > 0 ? m / n : 0) }'
done
echo "(all req/s: nginx${RPS[nginx]:-};$(for v in $LEVELS; do printf ' %s:%s;' "$v" "${RPS[$v]:-}"; done))"
