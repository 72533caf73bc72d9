#!/usr/bin/env bash
# tests/run.sh — run every suite against the binaries in $LK_BUILD and print
# one summary line "N passed, N failed" at the end.
#
# Suites (each a directory under tests/ with its own runner):
#   unit       cmocka executables, one per module (tests/unit)
#   routes     route table == docs/openapi.yaml; HTTP-layer behaviour (per backend)
#   blackbox   the real latchkeyd over HTTP, once per store backend
#   cli        the real latchkey CLI against a real latchkeyd, per backend
#   browser    the dashboard in headless Chromium (Playwright)
#   fuzz       each libFuzzer harness for a short time (normal build only)
#
# LK_SUITES="unit blackbox" limits the run; LK_BACKENDS="sqlite pg" picks the
# store backends for the server suites. With SANITIZE set (make test
# SANITIZE=address,undefined) the default is the C-heavy suites on SQLite. If LK_COUNTS_FILE is set, one line
# "passed failed" per suite is appended to it (.ci/run sums them).
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
  suites=${LK_SUITES:-unit routes blackbox cli multinode migrate crash hostile browser fuzz scanners}
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

run_unit() {
  local p=0 f=0 exe out np nf
  for exe in "$LK_BUILD"/tests/unit/test_*; do
    [ -x "$exe" ] && [ -f "$exe" ] || continue
    out=$(CMOCKA_MESSAGE_OUTPUT=stdout timeout 300 "$exe" 2>&1); rc=$?
    echo "$out" | grep -E '^\[  (FAILED|PASSED)|^\[  ERROR' || true
    np=$(echo "$out" | sed -n 's/.*\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
    nf=$(echo "$out" | sed -n 's/.*\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
    np=${np:-0}; nf=${nf:-0}
    if [ $rc -ne 0 ] && [ "$nf" -eq 0 ]; then nf=1; echo "$out" | tail -20; echo "!! $exe exited $rc"; fi
    p=$((p + np)); f=$((f + nf))
  done
  record unit $p $f
}

# Python suites print "RESULT passed failed" as their last line.
run_py() { # suite dir backend
  local out res
  out=$(timeout 900 python3 tests/$2/run.py --backend "$3" 2>&1); rc=$?
  echo "$out" | tail -40
  res=$(echo "$out" | sed -n 's/^RESULT \([0-9]*\) \([0-9]*\)$/\1 \2/p' | tail -1)
  if [ -z "$res" ]; then res="0 1"; echo "!! $2 ($3) did not report a result (exit $rc)"; fi
  record "$1" $res
}

pg_started=0
need_pg() {
  [ $pg_started -eq 1 ] && return 0
  eval "$(tests/pg.sh start)" || return 1
  pg_started=1
}
cleanup() { [ $pg_started -eq 1 ] && tests/pg.sh stop >/dev/null 2>&1; }
trap cleanup EXIT

for s in $suites; do
  case $s in
    unit)
      run_unit
      if [[ " $backends " == *" pg "* ]] && [ -f tests/pg.sh ] && need_pg; then
        # the suites whose store-facing tests also run against PostgreSQL
        for exe in "$LK_BUILD"/tests/unit/test_store* "$LK_BUILD"/tests/unit/test_service; do
          [ -x "$exe" ] && [ -f "$exe" ] || continue
          url=$(python3 -c 'import sys; sys.path.insert(0, "tests/lib"); import lkserver; print(lkserver.pg_create_database())') || { record "unit-store-pg" 0 1; continue; }
          out=$(LK_TEST_DATABASE_URL="$url" CMOCKA_MESSAGE_OUTPUT=stdout timeout 300 "$exe" 2>&1); rc=$?
          np=$(echo "$out" | sed -n 's/.*\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
          nf=$(echo "$out" | sed -n 's/.*\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
          np=${np:-0}; nf=${nf:-0}
          if [ $rc -ne 0 ] && [ "$nf" -eq 0 ]; then nf=1; echo "$out" | tail -20; fi
          record "unit-pg($(basename "$exe"))" "$np" "$nf"
        done
      fi
      ;;
    unit|browser|fuzz) ;;
  esac
  case $s in
    routes|blackbox|cli|multinode|migrate|crash|hostile)
      [ -f tests/$s/run.py ] || continue
      for b in $backends; do
        if [ "$b" = pg ]; then
          [ -f tests/pg.sh ] || continue
          need_pg || { record "$s-pg" 0 1; continue; }
        fi
        run_py "$s-$b" "$s" "$b"
      done
      ;;
    scanners) # contrib/'s secret-scanner rules; no store involved: once, on SQLite
      [ -f tests/scanners/run.py ] && run_py scanners scanners sqlite
      ;;
    browser)
      [ -n "$SANITIZE" ] && continue
      [ -f tests/browser/run.sh ] || continue
      out=$(timeout 900 tests/browser/run.sh 2>&1); rc=$?
      echo "$out" | tail -40
      res=$(echo "$out" | sed -n 's/^RESULT \([0-9]*\) \([0-9]*\)$/\1 \2/p' | tail -1)
      [ -n "$res" ] || res="0 1"
      record browser $res
      ;;
    fuzz)
      [ -n "$SANITIZE" ] && continue
      [ -f fuzz/run.sh ] || continue
      out=$(FUZZ_SECONDS=${FUZZ_SECONDS:-20} timeout 900 fuzz/run.sh --test 2>&1); rc=$?
      echo "$out" | tail -20
      res=$(echo "$out" | sed -n 's/^RESULT \([0-9]*\) \([0-9]*\)$/\1 \2/p' | tail -1)
      [ -n "$res" ] || res="0 1"
      record fuzz $res
      ;;
  esac
done

echo "${total_pass} passed, ${total_fail} failed"
[ "$total_fail" -eq 0 ] && [ "$total_pass" -gt 0 ]
