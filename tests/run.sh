#!/usr/bin/env bash
# tests/run.sh — run every suite against the binaries in $LK_BUILD and print
# one summary line "N passed, N failed" at the end.
#
# Suites (each a directory under tests/ with its own runner):
#   unit       cmocka executables, one per module (tests/unit; the store and
#              service ones (service, device) again on PostgreSQL when pg is a backend)
#   routes     route table == docs/openapi.yaml; HTTP-layer behaviour (per backend)
#   blackbox   the real latchkeyd over HTTP, once per store backend
#   cli        the real latchkey CLI against a real latchkeyd, per backend
#   scanners   contrib/'s secret-scanner rules with git-secrets and secretlint (once)
#   browser    the dashboard in headless Chromium (Playwright)
#   fuzz       each libFuzzer harness for a short time
#   multinode, migrate, crash, hostile: see each tests/<suite>/run.py
#   ops        --metrics-listen (promtool), --log-format json, X-Request-Id (per backend)
#
# LK_SUITES="unit blackbox" limits the run; LK_BACKENDS="sqlite pg" picks the
# store backends for the server suites. With SANITIZE set (make test
# SANITIZE=address,undefined) the default is the C-heavy suites on SQLite
# (a suite named in LK_SUITES runs whatever SANITIZE says). If LK_COUNTS_FILE
# is set, one line "passed failed" per suite is appended to it (.ci/run sums
# them).
#
# A suite whose tools are missing (cmocka, PostgreSQL, node, chromium,
# openssl, python3-yaml, ...) is a failure with a message saying what to
# install; nothing is skipped silently and nothing counts as 0 passed,
# 0 failed.
set -uo pipefail
cd "$(dirname "$0")/.."
export LK_BUILD=${LK_BUILD:-build}
export LK_ROOT=$PWD
SANITIZE=${SANITIZE:-}
if [ -n "$SANITIZE" ]; then
  # Under ASan+UBSan: the suites that exercise our C code most, on the
  # embedded backend (the normal run covers every suite on both backends).
  suites=${LK_SUITES:-unit routes blackbox cli hostile}
  backends=${LK_BACKENDS:-sqlite}
else
  suites=${LK_SUITES:-unit routes blackbox cli multinode migrate crash hostile ops scanners browser fuzz}
  backends=${LK_BACKENDS:-sqlite pg}
fi
mkdir -p tests/out
total_pass=0
total_fail=0

if [ -n "$SANITIZE" ]; then
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:halt_on_error=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
fi

record() { # suite passed failed
  echo "== $1: $2 passed, $3 failed"
  total_pass=$((total_pass + $2))
  total_fail=$((total_fail + $3))
  if [ -n "${LK_COUNTS_FILE:-}" ]; then echo "$2 $3" >>"$LK_COUNTS_FILE"; fi
}

# The one parser of a suite's result: every runner (tests/lib/lktestrun.py for
# the Python suites, tests/browser/run.sh, fuzz/run.sh) ends with the line
# "RESULT passed failed". record_result SUITE RC OUTPUT records it; a missing
# line, a non-zero exit with no failure counted, or a run that passed nothing
# is one failure, never 0/0.
record_result() { # suite rc output
  local res p f
  res=$(printf '%s\n' "$3" | sed -n 's/^RESULT \([0-9]*\) \([0-9]*\)$/\1 \2/p' | tail -1)
  if [ -z "$res" ]; then
    echo "!! $1 did not report a result (exit $2)"; record "$1" 0 1; return
  fi
  read -r p f <<<"$res"
  if [ "$f" -eq 0 ] && [ "$2" -ne 0 ]; then echo "!! $1 exited $2"; f=1; fi
  if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then echo "!! $1 ran no test"; f=1; fi
  record "$1" "$p" "$f"
}

# The one parser of cmocka's summary ("[  PASSED  ] N test(s).",
# "[  FAILED  ] N test(s)...", "[  SKIPPED ] N test(s)"), for every unit
# executable and its PostgreSQL rerun; adds to unit_pass/unit_fail. An
# executable that neither passed, failed nor skipped a test is a failure
# (test_store_pg skips everything without LK_TEST_DATABASE_URL, and says so).
# run_cmocka EXE [VAR=VALUE...]
run_cmocka() {
  local exe=$1 out rc np nf ns; shift
  out=$(env "$@" CMOCKA_MESSAGE_OUTPUT=stdout timeout 300 "$exe" 2>&1); rc=$?
  printf '%s\n' "$out" | grep -E '^\[  (FAILED|PASSED)|^\[  SKIPPED \] [0-9]+ test|^\[  ERROR' || true
  np=$(printf '%s\n' "$out" | sed -n 's/.*\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
  nf=$(printf '%s\n' "$out" | sed -n 's/.*\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
  ns=$(printf '%s\n' "$out" | sed -n 's/.*\[  SKIPPED \] \([0-9]*\) test.*/\1/p' | tail -1)
  np=${np:-0}; nf=${nf:-0}; ns=${ns:-0}
  if [ $rc -ne 0 ] && [ "$nf" -eq 0 ]; then
    nf=1; printf '%s\n' "$out" | tail -20; echo "!! $exe exited $rc"
  fi
  if [ $((np + nf + ns)) -eq 0 ]; then nf=1; echo "!! $exe ran no test"; fi
  unit_pass=$((unit_pass + np)); unit_fail=$((unit_fail + nf))
}

# The cmocka executables meson built from tests/unit/meson.build. None at
# all means the build was configured without cmocka: a failure, not a skip.
run_unit() {
  local exe url n=0
  unit_pass=0 unit_fail=0
  for exe in "$LK_BUILD"/tests/unit/test_*; do
    [ -x "$exe" ] && [ -f "$exe" ] || continue
    n=$((n + 1))
    run_cmocka "$exe"
  done
  if [ $n -eq 0 ]; then
    echo "!! unit tests not built: cmocka missing (run scripts/deps.sh, then meson setup --reconfigure $LK_BUILD)"
    record unit 0 1; return
  fi
  record unit "$unit_pass" "$unit_fail"
  [[ " $backends " == *" pg "* ]] || return 0
  # the store-facing suites again, each on a fresh PostgreSQL database
  need_pg || { record unit-pg 0 1; return; }
  for exe in "$LK_BUILD"/tests/unit/test_store "$LK_BUILD"/tests/unit/test_store_pg \
             "$LK_BUILD"/tests/unit/test_service "$LK_BUILD"/tests/unit/test_store_rotate \
             "$LK_BUILD"/tests/unit/test_device "$LK_BUILD"/tests/unit/test_audit \
             "$LK_BUILD"/tests/unit/test_pg_pipe; do
    unit_pass=0 unit_fail=0
    if [ ! -x "$exe" ]; then echo "!! $exe is not built"; record "unit-pg($(basename "$exe"))" 0 1; continue; fi
    url=$(python3 -c 'import sys; sys.path.insert(0, "tests/lib"); import lkserver; print(lkserver.pg_create_database())') ||
      { echo "!! no PostgreSQL database for $exe"; record "unit-pg($(basename "$exe"))" 0 1; continue; }
    run_cmocka "$exe" LK_TEST_DATABASE_URL="$url"
    record "unit-pg($(basename "$exe"))" "$unit_pass" "$unit_fail"
  done
}

pg_started=0
need_pg() {
  [ $pg_started -eq 1 ] && return 0
  local exports
  exports=$(tests/pg.sh start) || { echo "!! PostgreSQL could not be started (tests/pg.sh start, above)"; return 1; }
  eval "$exports"
  pg_started=1
}
cleanup() { [ $pg_started -eq 1 ] && tests/pg.sh stop >/dev/null 2>&1; }
trap cleanup EXIT

# With pg among the backends, PostgreSQL runs for every backend's run: the
# migrate suite copies from SQLite into PostgreSQL too.
run_py() { # suite backend
  local out rc
  if [[ " $backends " == *" pg "* ]] && ! need_pg; then record "$1-$2" 0 1; return; fi
  out=$(timeout 900 python3 "tests/$1/run.py" --backend "$2" 2>&1); rc=$?
  printf '%s\n' "$out" | tail -40
  record_result "$1-$2" $rc "$out"
}

run_script() { # suite command...
  local name=$1 out rc; shift
  out=$(timeout 900 "$@" 2>&1); rc=$?
  printf '%s\n' "$out" | tail -40
  record_result "$name" $rc "$out"
}

for s in $suites; do
  case $s in
    unit) run_unit ;;
    routes|blackbox|cli|multinode|migrate|crash|hostile|ops)
      for b in $backends; do run_py "$s" "$b"; done ;;
    scanners) run_py scanners sqlite ;;  # contrib/'s secret-scanner rules: no store, once
    browser) run_script browser tests/browser/run.sh ;;
    fuzz) run_script fuzz env FUZZ_SECONDS="${FUZZ_SECONDS:-20}" fuzz/run.sh --test ;;
    *) echo "!! unknown suite '$s'"; record "$s" 0 1 ;;
  esac
done

echo "${total_pass} passed, ${total_fail} failed"
[ "$total_fail" -eq 0 ] && [ "$total_pass" -gt 0 ]
