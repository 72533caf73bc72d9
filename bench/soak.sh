#!/usr/bin/env bash
# bench/soak.sh — sustained mixed traffic at ~80% of the measured maximum
# (docs/security.md "Soak"). Manual; not part of `make test` (the short
# version is tests/hostile/test_soak.py).
#
#   bench/soak.sh                      10 minutes, sqlite, build/latchkeyd
#   LK_SOAK_SECONDS=60 bench/soak.sh   shorter
#
# Steps: start latchkeyd on a fresh SQLite database (a temp dir), create a
# user, org, project and two keys (soak_setup.py); measure the maximum with
# wrk (bench/soak.lua, no delay, LK_SOAK_MEASURE seconds); calibrate a
# per-request delay for 80% of it; run LK_SOAK_SECONDS at that rate while
# sampling the server's VmRSS every 5 s. Pass: zero 5xx, zero socket errors
# (connect/read/write/timeout), RSS growth after the warm-up (the first
# LK_SOAK_WARMUP seconds) under 5%, the server still answering /healthz and
# exiting 0 on SIGTERM. Prints a summary; exit status 0 on pass.
#
# Knobs: LK_SOAK_BUILD (build), LK_SOAK_SECONDS (600), LK_SOAK_MEASURE (15),
# LK_SOAK_WARMUP (60), LK_SOAK_WRK ("2:64" threads:connections),
# LK_SOAK_TARGET (80, percent of the maximum).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${LK_SOAK_BUILD:-build}
SECS=${LK_SOAK_SECONDS:-600}
MEASURE=${LK_SOAK_MEASURE:-15}
WARMUP=${LK_SOAK_WARMUP:-60}
TARGET=${LK_SOAK_TARGET:-80}
IFS=: read -r T C <<<"${LK_SOAK_WRK:-2:64}"
export LK_LUA=$ROOT/bench/lua
command -v wrk >/dev/null || { echo "soak: wrk is not installed (scripts/deps.sh --bench)"; exit 1; }
[ -x "$BUILD/latchkeyd" ] || { echo "soak: no $BUILD/latchkeyd (run make)"; exit 1; }

TMP=$(mktemp -d /tmp/lk-soak.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PID=
SAMPLER=
cleanup() {
  [ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null || true
  [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

"$BUILD/latchkeyd" --listen 127.0.0.1:$PORT --database "sqlite:$TMP/soak.db" >"$TMP/server.log" 2>&1 &
PID=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
eval "$(python3 bench/soak_setup.py "http://127.0.0.1:$PORT")"
export LK_ORG LK_TOKEN LK_ORGKEY
URL=http://127.0.0.1:$PORT

run() { # seconds delay_ms -> wrk output
  LK_SOAK_DELAY_MS=$2 wrk -t"$T" -c"$C" -d"$1s" --timeout 5s -s bench/soak.lua "$URL"
}
field() { sed -n "s/^$1 //p" | tail -1; }

echo "soak: measuring the maximum ($MEASURE s, wrk -t$T -c$C)"
max_out=$(run "$MEASURE" 0)
MAX=$(echo "$max_out" | field RESULT | cut -d' ' -f1)
WANT=$(( MAX * TARGET / 100 ))
# per-connection cycle = delay + latency: start from the delay alone, then
# correct it three times by what a 5 s run achieves
D1=$(( 1000 * C / (WANT > 0 ? WANT : 1) ))
for _ in 1 2 3; do
  got=$(run 5 "$D1" | field RESULT | cut -d' ' -f1)
  D1=$(python3 -c "print(max(0, int(round($D1 + 1000.0 * ($C / $WANT - $C / max($got, 1))))))")
done
echo "soak: max $MAX req/s; target $WANT req/s ($TARGET%); delay ${D1} ms per request per connection"

: >"$TMP/rss"
( while kill -0 "$PID" 2>/dev/null; do
    echo "$(date +%s) $(awk '/^VmRSS/ {print $2}' /proc/$PID/status)" >>"$TMP/rss"; sleep 5
  done ) &
SAMPLER=$!
START=$(date +%s)
echo "soak: running $SECS s"
soak_out=$(run "$SECS" "$D1")
kill "$SAMPLER" 2>/dev/null || true
SAMPLER=
read -r RPS P50 P99 REQS NON2XX SOCKERR <<<"$(echo "$soak_out" | field RESULT)"
read -r F5XX OTHER <<<"$(echo "$soak_out" | field SOAK)"
BASE=$(awk -v t=$((START + WARMUP)) '$1 >= t {print $2; exit}' "$TMP/rss")
LAST=$(tail -1 "$TMP/rss" | cut -d' ' -f2)
PEAK=$(cut -d' ' -f2 "$TMP/rss" | sort -n | tail -1)
GROWTH=$(python3 -c "print('%.2f' % (($LAST - ${BASE:-$LAST}) * 100.0 / max(${BASE:-$LAST}, 1)))")
HEALTH=$(curl -s -o /dev/null -w '%{http_code}' "$URL/healthz" || true)
kill -TERM "$PID"; set +e; wait "$PID"; RC=$?; set -e; PID=

echo "$soak_out" | grep -E "Socket errors|Non-2xx|Requests/sec|Latency" || true
cat <<REPORT
soak summary ($(date -u +%FT%TZ), $(nproc) cores, wrk -t$T -c$C, sqlite)
  maximum            $MAX req/s (mixed, $MEASURE s)
  soak rate          $RPS req/s for $SECS s ($(( RPS * 100 / (MAX > 0 ? MAX : 1) ))% of max), $REQS requests
  latency            p50 ${P50} us, p99 ${P99} us
  5xx                $F5XX
  other non-2xx      $OTHER (4xx: a rename racing another connection's delete of the same key; reported, not judged)
  socket errors      $SOCKERR
  RSS                ${BASE:-?} kB after ${WARMUP} s -> $LAST kB at the end (${GROWTH}%), peak $PEAK kB
  /healthz after     $HEALTH
  exit on SIGTERM    $RC
REPORT
if [ "${OTHER:-0}" != 0 ]; then
  echo "  non-2xx by method and status (access log):"
  awk 'NF == 4 && $3 ~ /^[45][0-9][0-9]$/ {print "    " $1, $3}' "$TMP/server.log" | sort | uniq -c
fi
ok=1
[ "$F5XX" = 0 ] || ok=0
[ "$SOCKERR" = 0 ] || ok=0
[ "$HEALTH" = 200 ] || ok=0
[ "$RC" = 0 ] || ok=0
python3 -c "import sys; sys.exit(0 if $GROWTH < 5 else 1)" || ok=0
if [ $ok = 1 ]; then echo "soak: PASS"; else echo "soak: FAIL"; tail -20 "$TMP/server.log"; exit 1; fi
