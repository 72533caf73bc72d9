#!/usr/bin/env bash
# bench/sizes.sh — what a key costs on disk: bytes per key and the size of
# each access_keys index at N keys, on SQLite and PostgreSQL (the per-node
# figures of docs/scaling.md). Not part of `make bench`; no load is run.
#
#   bench/sizes.sh [N ...]                 default: 1000000
#   LK_SIZES_BACKENDS="sqlite pg"          which backends (pg via tests/pg.sh)
#   LK_SIZES_BUILD=build                   the build dir that has (or gets) bench/seed
#   LK_SIZES_DIR=/tmp/lk-sizes.XXXX        where the databases go (removed at the end
#                                          unless LK_SIZES_KEEP=1)
#
# For each N: a fresh database seeded by bench/seed through the store API
# (the rows latchkeyd itself writes): N keys across N/100 orgs (each org's
# user has one personal key, the org the other 99), one project. Then:
#   SQLite      a TRUNCATE checkpoint (everything in the main file), the
#               dbstat virtual table (pages per table and index, like
#               sqlite3_analyzer) and the file size;
#   PostgreSQL  VACUUM ANALYZE, then pg_relation_size of access_keys and of
#               each of its indexes, pg_indexes_size, pg_total_relation_size
#               and pg_database_size.
# Prints one markdown table per backend and N, and "bytes/key" =
# (access_keys + its indexes) / N. Run it niced on a shared machine:
#   nice -n 19 bench/sizes.sh 1000000 3000000
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${LK_SIZES_BUILD:-build}
BACKENDS=${LK_SIZES_BACKENDS:-sqlite pg}
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(1000000)
DIR=${LK_SIZES_DIR:-$(mktemp -d /tmp/lk-sizes.XXXXXX)}
mkdir -p "$DIR"
PG_STARTED=0

log() { echo "sizes: $*" >&2; }

cleanup() {
  if [ "$PG_STARTED" = 1 ]; then LK_PG_STATE=$DIR/pg.state tests/pg.sh stop >/dev/null 2>&1 || true; fi
  [ "${LK_SIZES_KEEP:-0}" = 1 ] || rm -rf "$DIR"
}
trap cleanup EXIT

ninja -C "$BUILD" bench/seed >"$DIR/build.log" 2>&1 || { cat "$DIR/build.log" >&2; exit 1; }
SEED=$ROOT/$BUILD/bench/seed

seed() { # url n
  local orgs=$(( $2 / 100 ))
  [ "$orgs" -ge 1 ] || orgs=1
  "$SEED" --database "$1" --orgs "$orgs" --keys "$2" --projects 1 --sample 0 \
    --out "$DIR/seed" >"$DIR/seed.log" 2>&1 || { cat "$DIR/seed.log" >&2; exit 1; }
  grep '^RESULT' "$DIR/seed.log" | awk '{print $2}'
}

sizes_sqlite() { # n
  local n=$1 db="$DIR/keys-$1.db" secs
  rm -f "$db" "$db-wal" "$db-shm"
  log "sqlite: seeding $n keys"
  secs=$(seed "sqlite:$db" "$n")
  sqlite3 "$db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
  echo "### SQLite, $n keys (seeded in $secs s)"
  echo
  echo "| object | bytes | bytes/key |"
  echo "| --- | ---: | ---: |"
  # dbstat: pages of every b-tree; the table's indexes by sqlite_schema.tbl_name
  sqlite3 -separator ' ' "$db" "
    SELECT s.name, sum(s.pgsize) FROM dbstat s JOIN sqlite_schema m ON m.name = s.name
    WHERE m.tbl_name = 'access_keys' GROUP BY s.name ORDER BY sum(s.pgsize) DESC;" |
    awk -v n="$n" '{t += $2; printf "| %s | %.0f | %.1f |\n", $1, $2, $2 / n}
      END {printf "| **access_keys + indexes** | %.0f | **%.1f** |\n", t, t / n}'
  local file
  file=$(stat -c %s "$db")
  printf '| whole file (users, orgs, … too) | %.0f | %.1f |\n\n' "$file" "$(echo "$file / $n" | bc -l)"
  rm -f "$db" "$db-wal" "$db-shm"
}

pg_start() {
  [ "$PG_STARTED" = 1 ] && return 0
  eval "$(LK_PG_STATE=$DIR/pg.state tests/pg.sh start)"
  PG_STARTED=1
}

psql_q() { # db sql
  psql -X -q -At -F ' ' "postgresql://$LK_PG_USER@$LK_PG_HOST:$LK_PG_PORT/$1" -c "$2"
}

sizes_pg() { # n
  local n=$1 db="keys_$1" secs
  pg_start
  psql_q postgres "DROP DATABASE IF EXISTS $db" >/dev/null
  psql_q postgres "CREATE DATABASE $db" >/dev/null
  log "pg: seeding $n keys"
  secs=$(seed "postgresql://$LK_PG_USER@$LK_PG_HOST:$LK_PG_PORT/$db" "$n")
  psql_q "$db" "VACUUM ANALYZE" >/dev/null
  echo "### PostgreSQL, $n keys (seeded in $secs s)"
  echo
  echo "| object | bytes | bytes/key |"
  echo "| --- | ---: | ---: |"
  psql_q "$db" "
    SELECT 'access_keys (heap)', pg_relation_size('access_keys')
    UNION ALL
    SELECT c.relname, pg_relation_size(c.oid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
    WHERE i.indrelid = 'access_keys'::regclass
    ORDER BY 2 DESC" |
    awk -v n="$n" '{t += $NF; $NF = ""; sub(/ $/, ""); printf "| %s | %.0f | %.1f |\n", $0, t - p, (t - p) / n; p = t}
      END {printf "| **access_keys heap + indexes** | %.0f | **%.1f** |\n", t, t / n}'
  psql_q "$db" "
    SELECT 'pg_indexes_size(access_keys)', pg_indexes_size('access_keys')
    UNION ALL SELECT 'pg_total_relation_size(access_keys) (with TOAST, FSM, VM)',
                     pg_total_relation_size('access_keys')
    UNION ALL SELECT 'pg_database_size (users, orgs, … too)', pg_database_size(current_database())" |
    awk -v n="$n" '{v = $NF; $NF = ""; sub(/ $/, ""); printf "| %s | %.0f | %.1f |\n", $0, v, v / n}'
  echo
  psql_q postgres "DROP DATABASE $db" >/dev/null
}

for n in "${SIZES[@]}"; do
  for b in $BACKENDS; do
    case $b in
      sqlite) sizes_sqlite "$n" ;;
      pg) sizes_pg "$n" ;;
      *) log "unknown backend $b"; exit 2 ;;
    esac
  done
done
