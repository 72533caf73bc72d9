#!/usr/bin/env python3
"""
make_v1_fixture.py — record a SQLite database written by a latchkeyd of
schema version 1 (every release before the schema was described once in
src/server/store/schema.c), for test_v1_fixture.py.

    LK_BUILD=/path/to/old/build python3 tests/migrate/make_v1_fixture.py
    eval "$(tests/pg.sh start)"; LK_BUILD=/path/to/old/build \
        python3 tests/migrate/make_v1_fixture.py --backend pg

With --backend pg the old server writes into a fresh PostgreSQL database
instead, and the fixture is that database as `pg_dump` prints it
(fixtures/v1-pg.sql, plain SQL, no owner or privileges) plus
fixtures/v1-pg.json.

Fills a fresh database through the old server's API (the same world as
test_migrate.populate), stops it cleanly (so the WAL is checkpointed into
the file) and writes fixtures/v1.sqlite plus fixtures/v1.json: the users'
emails, the live and revoked tokens, and what every user saw through the API.
The tokens and password are test data, valid only in this file.
"""
import json
import os
import shutil
import sqlite3
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, HERE)

from lkserver import Server  # noqa: E402
import test_migrate  # noqa: E402


def pg_main():
    """The PostgreSQL fixture: the old server's database, dumped."""
    import subprocess
    import lkserver
    url = lkserver.pg_create_database()
    srv = Server(backend="pg", db_url=url)
    try:
        srv.start()
        world = test_migrate.populate(srv.url)
        srv.stop()
        srv.start()
        before = test_migrate.everything(srv.url, world)
        srv.stop()
    finally:
        srv.cleanup()
    name = url.rsplit("/", 1)[1]
    out = os.path.join(HERE, "fixtures")
    env = lkserver.pg_env()
    versions = subprocess.run([lkserver.pg_bin("psql"), "-Atc",
                               "SELECT version FROM lk_schema_version", name],
                              env=env, check=True, capture_output=True, text=True).stdout.split()
    if versions != ["1"]:
        sys.exit("the server wrote schema versions %r, not [1]: use an old build" % versions)
    subprocess.run([lkserver.pg_bin("pg_dump"), "--no-owner", "--no-privileges",
                    "-f", os.path.join(out, "v1-pg.sql"), name], env=env, check=True)
    lkserver.pg_drop_database(url)
    with open(os.path.join(out, "v1-pg.json"), "w") as f:
        json.dump({"world": world, "before": before}, f, indent=1, sort_keys=True,
                  ensure_ascii=False)
    print("wrote", out)


def main():
    if sys.argv[1:] == ["--backend", "pg"]:
        return pg_main()
    tmp = tempfile.mkdtemp(prefix="lk-v1-fixture-")
    db = os.path.join(tmp, "v1.sqlite")
    srv = Server(backend="sqlite", db_url="sqlite:" + db)
    try:
        srv.start()
        world = test_migrate.populate(srv.url)
        srv.stop()  # flushes last_used_at
        srv.start()
        before = test_migrate.everything(srv.url, world)
        srv.stop()
    finally:
        srv.cleanup()
    con = sqlite3.connect(db)
    versions = [v for (v,) in con.execute("SELECT version FROM schema_migrations")]
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    if versions != [1]:
        sys.exit("the server wrote schema versions %r, not [1]: use an old build" % versions)
    out = os.path.join(HERE, "fixtures")
    os.makedirs(out, exist_ok=True)
    shutil.copyfile(db, os.path.join(out, "v1.sqlite"))
    with open(os.path.join(out, "v1.json"), "w") as f:
        json.dump({"world": world, "before": before}, f, indent=1, sort_keys=True,
                  ensure_ascii=False)
    shutil.rmtree(tmp, ignore_errors=True)
    print("wrote", out)


if __name__ == "__main__":
    main()
