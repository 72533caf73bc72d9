#!/usr/bin/env bash
# deps.sh — install what latchkey needs to build, run and test, and nothing
# that is already there. Idempotent: a second run installs nothing.
#
#   scripts/deps.sh          build + run + test dependencies (apt) and the
#                            browser-test npm packages (tests/browser)
#   scripts/deps.sh --build  only what `make` and `make run` need
#
# As root it runs apt-get; otherwise it prints the command to run.
set -euo pipefail

mode=${1:-all}

# What `make` and `make run` need: the compiler, the build tools (meson runs
# scripts/embed_assets.py with python3) and the -dev packages of every library
# latchkeyd and latchkey link.
build_pkgs=(gcc make pkg-config meson ninja-build python3
            libh2o-evloop-dev libuv1-dev libssl-dev zlib1g-dev
            libjansson-dev libsodium-dev libsqlite3-dev libpq-dev
            libcurl4-openssl-dev)
# What `make test` needs on top, suite by suite (tests/run.sh):
#   unit       libcmocka-dev (meson's tests=enabled fails without it)
#   routes     python3-yaml (docs/openapi.yaml is read with PyYAML)
#   blackbox, cli, multinode, migrate, crash, hostile: python3 (stdlib only),
#              sqlite3 (the CLI shell, for inspecting database files), curl,
#              postgresql (initdb/pg_ctl for tests/pg.sh), procps,
#              openssl (tests/hostile/test_tls.py: a self-signed certificate)
#   browser    chromium + nodejs/npm (playwright-core from tests/browser/package-lock.json)
#   scanners   git-secrets + secretlint (npm ci in tests/scanners)
#   fuzz       clang + libclang-rt-14-dev (libFuzzer, ASan/UBSan runtimes)
test_pkgs=(libcmocka-dev python3-yaml sqlite3 postgresql curl chromium
           clang libclang-rt-14-dev procps openssl)
test_pkgs+=(prometheus)  # tests/ops: promtool check metrics
bench_pkgs=(wrk nginx-light postgresql)  # postgresql: the pg rows (tests/pg.sh) and pgbench, their ceiling
test_pkgs+=(git-secrets)  # tests/scanners: contrib/git-secrets.patterns with the real tool
test_pkgs+=(python3-aiosmtpd)  # tests/blackbox/test_roles.py: a real SMTP server receiving invitation emails
test_pkgs+=(iproute2)  # tests/blackbox/test_account.py: a network namespace with its own IPv6 /64

want=("${build_pkgs[@]}")
case "$mode" in
  --build) ;;
  --bench) want+=("${bench_pkgs[@]}") ;;
  *)       want+=("${test_pkgs[@]}") ;;
esac

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

# Node.js may come from Debian (nodejs + npm) or another apt source that
# bundles npm; only ask for Debian's when no node/npm is on the PATH.
if [ "$mode" = all ] || [ "$mode" = --all ]; then
  command -v node >/dev/null 2>&1 || missing+=(nodejs)
  command -v npm  >/dev/null 2>&1 || missing+=(npm)
fi

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "deps.sh: missing packages: ${missing[*]}" >&2
    echo "deps.sh: run as root:  apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "deps.sh: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
    apt-get update -qq
    apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

# Browser tests: playwright-core pinned by tests/browser/package-lock.json.
if [ "$mode" != "--build" ] && [ "$mode" != "--bench" ] && [ -f tests/browser/package.json ]; then
  if [ ! -d tests/browser/node_modules/playwright-core ]; then
    echo "deps.sh: npm ci in tests/browser" >&2
    (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
  # tests/scanners: secretlint + its pattern rule, pinned by its package-lock.json
  if [ -f tests/scanners/package.json ] && [ ! -d tests/scanners/node_modules/secretlint ]; then
    echo "deps.sh: npm ci in tests/scanners" >&2
    (cd tests/scanners && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
fi
exit 0
