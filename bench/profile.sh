#!/usr/bin/env bash
# bench/profile.sh — where the time of one request goes, measured.
#
#   bench/profile.sh callgrind [WORKLOAD]   latchkeyd under valgrind --tool=callgrind,
#                                           driven by wrk -t1 -c4 for LK_PROFILE_SECS (20)
#   bench/profile.sh perf [WORKLOAD]        latchkeyd under perf record -g, driven by
#                                           wrk -t1 -c32 for LK_PROFILE_SECS (10)
#
# WORKLOAD: whoami (default; valid personal key), invalid (unknown key),
# projects (org key). Uses the build-bench tree from bench/run.sh (built with
# debug info for symbols; -Dbuildtype=release -Ddebug=true), a fresh SQLite
# database seeded with bench/seed (1,000 keys), 127.0.0.1 only; stops what it
# starts. Writes the raw profile and a top-functions report into
# bench/results/profile-<stamp>/ and prints the report.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TOOL=${1:-callgrind}
WL=${2:-whoami}
BUILD=${LK_BENCH_BUILD:-build-bench}
SECS=${LK_PROFILE_SECS:-}
export LATCHKEY_BEARER_FAIL_LIMIT=${LATCHKEY_BEARER_FAIL_LIMIT:-1000000000}
OUT=$ROOT/bench/results/profile-$(date -u +%Y%m%dT%H%M%SZ)-$TOOL-$WL
mkdir -p "$OUT"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/lk-prof.XXXXXX")
PID=

cleanup() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
    kill -TERM "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ ! -f "$BUILD/build.ninja" ]; then
  meson setup "$BUILD" -Dbuildtype=release -Ddebug=true -Dwerror=false -Dtests=disabled >"$OUT/meson.log"
fi
ninja -C "$BUILD" latchkeyd bench/seed bench/probe >"$OUT/build.log"
PROBE=$BUILD/bench/probe

"$BUILD/bench/seed" --database "sqlite:$TMP/lk.db" --orgs 10 --keys 1000 --projects 10 \
  --sample 20 --out "$TMP/seed" >/dev/null
# shellcheck disable=SC1091
. "$TMP/seed.env"
case $WL in
  whoami) path=/v1/whoami tok=$LK_PERSONAL ;;
  invalid) path=/v1/whoami tok=$LK_INVALID ;;
  projects) path=/v1/organizations/$LK_ORG/projects tok=$LK_ORGKEY ;;
  *) echo "profile.sh: unknown workload $WL" >&2; exit 2 ;;
esac
PORT=$("$PROBE" free-port)
# shellcheck disable=SC2206
args=(--listen "127.0.0.1:$PORT" --database "sqlite:$TMP/lk.db" ${LK_BENCH_SERVER_ARGS:-})

case $TOOL in
  callgrind)
    SECS=${SECS:-20}
    valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.out" \
      "$BUILD/latchkeyd" "${args[@]}" >"$OUT/server.log" 2>&1 &
    PID=$!
    "$PROBE" wait "$PORT" /readyz 60000 "$PID" >/dev/null
    LK_LUA=$ROOT/bench/lua LK_TOKEN=$tok wrk -t1 -c4 -d"${SECS}s" --timeout 10s \
      -s bench/lua/get.lua "http://127.0.0.1:$PORT$path" | tee "$OUT/wrk.txt"
    kill -TERM "$PID"; wait "$PID" || true; PID=
    callgrind_annotate --inclusive=no "$OUT/callgrind.out" 2>/dev/null | head -60 >"$OUT/self.txt"
    callgrind_annotate --inclusive=yes "$OUT/callgrind.out" 2>/dev/null | head -80 >"$OUT/inclusive.txt"
    echo "== self cost (top)"; sed -n '1,60p' "$OUT/self.txt"
    echo "== inclusive cost (top)"; sed -n '1,80p' "$OUT/inclusive.txt"
    ;;
  perf)
    SECS=${SECS:-10}
    "$BUILD/latchkeyd" "${args[@]}" >"$OUT/server.log" 2>&1 &
    PID=$!
    "$PROBE" wait "$PORT" /readyz 10000 "$PID" >/dev/null
    perf record -F 2999 -g -p "$PID" -o "$OUT/perf.data" -- sleep "$((SECS + 1))" \
      >"$OUT/perf-record.log" 2>&1 &
    PERF=$!
    sleep 0.5
    LK_LUA=$ROOT/bench/lua LK_TOKEN=$tok wrk -t1 -c32 -d"${SECS}s" \
      -s bench/lua/get.lua "http://127.0.0.1:$PORT$path" | tee "$OUT/wrk.txt"
    wait "$PERF" || true
    kill -TERM "$PID"; wait "$PID" || true; PID=
    perf report -i "$OUT/perf.data" --no-children --sort dso,symbol --stdio 2>/dev/null |
      grep -E '^ +[0-9]' | head -50 >"$OUT/self.txt"
    perf report -i "$OUT/perf.data" --children --sort symbol --stdio -g none 2>/dev/null |
      grep -E '^ +[0-9]' | head -60 >"$OUT/inclusive.txt"
    echo "== self (top)"; cat "$OUT/self.txt"
    echo "== children (top)"; cat "$OUT/inclusive.txt"
    ;;
  *) echo "usage: bench/profile.sh callgrind|perf [whoami|invalid|projects]" >&2; exit 2 ;;
esac
echo "profile.sh: raw data in $OUT"
