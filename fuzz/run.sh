#!/usr/bin/env bash
# fuzz/run.sh — build and run latchkey's libFuzzer harnesses (docs/security.md).
#
#   fuzz/run.sh            each harness for $FUZZ_SECONDS (default 60) — `make fuzz`
#   fuzz/run.sh --test     the whole suite in about $FUZZ_SECONDS (default 20)
#                          seconds, split over the harnesses — tests/run.sh
#   fuzz/run.sh --runs N   each harness for exactly N executions (the long run)
#   fuzz/run.sh [opts] HARNESS...   only these (token json router auth client cidr)
#
# Every mode first replays fuzz/regressions/fuzz_<harness>/* (inputs that once
# crashed a harness) and then fuzzes from the seeds in fuzz/corpus/fuzz_<harness>/.
# New corpus entries go to build-fuzz/corpus/<name>/ (never into the
# source tree); crashes to build-fuzz/artifacts/. A harness passes when
# neither the replay nor the run crashes. The last line is
# `RESULT <passed> <failed>`.
#
# Build: clang with -fsanitize=fuzzer,address,undefined in build-fuzz/
# (meson option -Dfuzz=true; BUILD_FUZZ overrides the directory).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
B=${BUILD_FUZZ:-build-fuzz}
mode=long
runs=
harnesses=()
while [ $# -gt 0 ]; do
  case $1 in
    --test) mode=test ;;
    --runs) runs=$2; mode=runs; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) harnesses+=("$1") ;;
  esac
  shift
done
[ ${#harnesses[@]} -gt 0 ] || harnesses=(token json router auth client cidr)

if ! command -v clang >/dev/null; then
  echo "fuzz: clang is not installed (scripts/deps.sh installs it)"
  echo "RESULT 0 ${#harnesses[@]}"
  exit 1
fi
if [ ! -f "$B/build.ninja" ]; then
  CC=clang meson setup "$B" -Dfuzz=true -Dtests=disabled -Db_sanitize=address,undefined \
    -Db_lundef=false -Dwerror=false -Dbuildtype=debugoptimized >"$ROOT/$B.setup.log" 2>&1 ||
    { tail -20 "$ROOT/$B.setup.log"; echo "RESULT 0 ${#harnesses[@]}"; exit 1; }
fi
targets=()
for h in "${harnesses[@]}"; do targets+=("fuzz/fuzz_$h"); done
if ! ninja -C "$B" "${targets[@]}" >"$B/fuzz-build.log" 2>&1; then
  tail -30 "$B/fuzz-build.log"
  echo "RESULT 0 ${#harnesses[@]}"
  exit 1
fi

n=${#harnesses[@]}
case $mode in
  test) per=$(( ${FUZZ_SECONDS:-20} / n )); [ "$per" -ge 1 ] || per=1; limit=(-max_total_time=$per) ;;
  long) limit=(-max_total_time=${FUZZ_SECONDS:-60}) ;;
  runs) limit=(-runs=$runs) ;;
esac
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p "$B/artifacts"
pass=0
fail=0
for h in "${harnesses[@]}"; do
  exe="$B/fuzz/fuzz_$h"
  work="$B/corpus/$h"
  mkdir -p "$work"
  ok=1
  common=(-timeout=10 -rss_limit_mb=2048 -max_len=8192 -artifact_prefix="$B/artifacts/$h-")
  # 1. regressions: fixed inputs, must not crash
  if compgen -G "fuzz/regressions/fuzz_$h/*" >/dev/null; then
    if ! out=$("$exe" "${common[@]}" fuzz/regressions/fuzz_$h/* 2>&1); then
      echo "$out" | grep -E "ERROR|SUMMARY|#[0-9]+ 0x" | head -20
      echo "FAIL fuzz_$h: a regression input crashes"
      ok=0
    fi
  fi
  # 2. fuzz from the seeds
  log="$B/fuzz_$h.log"
  "$exe" "${common[@]}" "${limit[@]}" -print_final_stats=1 "$work" "fuzz/corpus/fuzz_$h" >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  if [ $rc -ne 0 ]; then
    grep -E "ERROR|SUMMARY|#[0-9]+ 0x|Test unit written" "$log" | head -30
    echo "FAIL fuzz_$h: crash after ${execs:-?} executions (log $log)"
    ok=0
  fi
  if [ $ok -eq 1 ]; then
    echo "PASS fuzz_$h: ${execs:-?} executions, no crash"
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
  fi
done
echo "RESULT $pass $fail"
[ $fail -eq 0 ]
