#!/usr/bin/env bash
# tests/browser/run.sh — the dashboard in headless Chromium against a real
# latchkeyd. Installs the pinned playwright-core if node_modules is missing,
# starts build/latchkeyd (or $LK_BUILD/latchkeyd) on a free loopback port with
# a fresh SQLite database in a temporary directory (and a second one with
# --signup closed), runs dashboard.test.mjs (which prints
# "RESULT <passed> <failed>" as its last line), stops the servers, and exits
# non-zero if a test failed or a server died.
#
#   tests/browser/run.sh                 everything
#   LK_BROWSER_ONLY=regex tests/browser/run.sh   only tests whose name matches
#       (the tests build on each other; a filtered run is for debugging)
#   LK_BROWSER_URL=http://127.0.0.1:8080 tests/browser/run.sh   use a running
#       server (LK_BROWSER_CLOSED_URL likewise for the --signup closed one)
# Screenshots go to tests/browser/screenshots/ (git-ignored).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${LK_BUILD:-build}
case $build in /*) ;; *) build="$root/$build" ;; esac

fail() { echo "browser: $*" >&2; echo "RESULT 0 1"; exit 1; }

command -v node >/dev/null || fail "node is not installed (scripts/deps.sh installs it)"
[ -x /usr/bin/chromium ] || fail "/usr/bin/chromium is missing (scripts/deps.sh installs it)"
if [ ! -d "$here/node_modules/playwright-core" ]; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || fail "npm ci failed"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lk-browser-XXXXXX")
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do
    if kill -0 "$p" 2>/dev/null; then
      kill -TERM "$p" 2>/dev/null
      for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$p" 2>/dev/null
      wait "$p" 2>/dev/null
    fi
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

# start_server NAME ARGS... — a fresh latchkeyd on a free port; sets $url.
start_server() {
  local name=$1 port ready=0; shift
  port=$(python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import lkserver; print(lkserver.free_port())' "$root/tests/lib") || fail "no free port"
  mkdir -p "$tmp/$name"
  "$build/latchkeyd" --listen "127.0.0.1:$port" --database "sqlite:$tmp/$name/latchkey.db" "$@" >"$tmp/$name/server.log" 2>&1 </dev/null &
  pids+=($!)
  url="http://127.0.0.1:$port"
  for _ in $(seq 1 150); do
    kill -0 "${pids[-1]}" 2>/dev/null || break
    if curl -fsS -o /dev/null "$url/healthz" 2>/dev/null; then ready=1; break; fi
    sleep 0.1
  done
  if [ $ready -ne 1 ]; then
    tail -20 "$tmp/$name/server.log" >&2
    fail "latchkeyd ($name) did not become healthy at $url"
  fi
}

main_url=${LK_BROWSER_URL:-}
closed_url=${LK_BROWSER_CLOSED_URL:-}
if [ -z "$main_url" ] || [ -z "$closed_url" ]; then
  [ -x "$build/latchkeyd" ] || fail "$build/latchkeyd is not built (run make)"
fi
if [ -z "$main_url" ]; then start_server main --signup open; main_url=$url; fi
if [ -z "$closed_url" ]; then start_server closed --signup closed; closed_url=$url; fi

mkdir -p "$here/screenshots"
# dashboard.test.mjs prints the RESULT line itself; tests/run.sh is the only
# parser of it. A server that died during the run makes the exit status
# non-zero, which tests/run.sh counts as a failure.
LK_URL="$main_url" LK_CLOSED_URL="$closed_url" LK_SCREENSHOTS="$here/screenshots" node "$here/dashboard.test.mjs" 2>&1
rc=$?
for p in "${pids[@]}"; do
  if ! kill -0 "$p" 2>/dev/null; then
    echo "browser: a latchkeyd died during the run:" >&2
    tail -20 "$tmp"/*/server.log >&2
    rc=1
    break
  fi
done
exit $rc
