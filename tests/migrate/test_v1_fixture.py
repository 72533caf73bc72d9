"""
A database written by a latchkeyd of schema version 1 (fixtures/v1.sqlite,
made by make_v1_fixture.py with the old binary) opens with today's binary:
the SQLite schema is upgraded in place (version 2 rebuilds every table from
schema.c, adding the CHECKs and users.seq) and every user logs in with the
same password, sees the same lists in the same order, every live token
works, a revoked one does not, and new rows sort first. The same file copied
by migrate-data into PostgreSQL (when tests/pg.sh runs) shows the same, and so
does fixtures/v1-pg.sql: a database the v1 server wrote into PostgreSQL itself.
"""
import json
import os
import shutil
import sqlite3
import tempfile
import unittest

import lkserver
from lkserver import Client, Server
import test_migrate
from test_migrate import ok, login, everything, migrate

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "fixtures", "v1.sqlite")


def fixture_world(name="v1.json"):
    with open(os.path.join(HERE, "fixtures", name)) as f:
        d = json.load(f)
    return d["world"], d["before"]


class V1Base:
    """Each test gets its own copy of the fixture, as the subclass's backend
    (self.url, made by prepare())."""

    world_file = "v1.json"

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="lk-v1-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.sqlite_path = os.path.join(self.tmp, "v1.sqlite")
        shutil.copyfile(FIXTURE, self.sqlite_path)
        self.world, self.before = fixture_world(self.world_file)
        self.url = self.prepare()
        if self.url.startswith("postgres"):
            self.addCleanup(lkserver.pg_drop_database, self.url)

    def serve(self):
        srv = Server(backend="pg" if self.url.startswith("postgres") else "sqlite",
                     db_url=self.url)
        srv.start()
        self.addCleanup(srv.cleanup)
        return srv

    def test_everyone_sees_the_same_world(self):
        srv = self.serve()
        self.assertEqual(everything(srv.url, self.world), self.before)

    def test_tokens_keep_working_and_revoked_stay_revoked(self):
        srv = self.serve()
        for t, (kind, owner) in self.world["tokens"].items():
            r = Client(srv.url, token=t).get("/v1/whoami")
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json["principal"], kind)
        for t in self.world["dead_tokens"]:
            self.assertEqual(Client(srv.url, token=t).get("/v1/whoami").status, 401)

    def test_new_rows_sort_first_and_last_member_rule_holds(self):
        srv = self.serve()
        alice = login(srv.url, self.world["users"]["alice"])
        orgs = ok(alice.get("/v1/organizations"))["data"]
        neworg = ok(alice.post("/v1/organizations", {"name": "after v1"}), 201)
        self.assertEqual(ok(alice.get("/v1/organizations"))["data"][0]["id"], neworg["id"])
        self.assertEqual(ok(alice.get("/v1/organizations"))["data"][1:], orgs)
        me = ok(alice.get("/v1/me"))
        r = alice.delete("/v1/organizations/%s/members/%s" % (neworg["id"], me["id"]))
        self.assertEqual(r.status, 409, r)


class V1OnSqlite(V1Base, unittest.TestCase):
    def prepare(self):
        return "sqlite:" + self.sqlite_path

    def test_schema_upgraded_with_rows_hashes_and_seq_kept(self):
        old = sqlite3.connect(FIXTURE)
        keys_before = old.execute("SELECT seq, id, hash FROM access_keys ORDER BY seq").fetchall()
        users_before = old.execute("SELECT rowid, id, pwhash FROM users ORDER BY rowid").fetchall()
        members_before = old.execute("SELECT seq, org_id, user_id FROM members ORDER BY seq").fetchall()
        old.close()
        srv = self.serve()
        srv.stop()
        db = sqlite3.connect(self.sqlite_path)
        versions = [v for (v,) in db.execute("SELECT version FROM schema_migrations ORDER BY version")]
        # 1, 2 (the rebuild), then every later version in order (6: audit_events)
        self.assertEqual(versions, list(range(1, max(versions) + 1)))
        self.assertGreaterEqual(max(versions), 6)
        self.assertEqual(db.execute("SELECT count(*) FROM audit_events").fetchone(), (0,))
        self.assertEqual(db.execute("SELECT seq, id, hash FROM access_keys ORDER BY seq")
                         .fetchall(), keys_before)
        self.assertEqual(db.execute("SELECT seq, id, pwhash FROM users ORDER BY seq").fetchall(),
                         users_before)
        self.assertEqual(db.execute("SELECT seq, org_id, user_id FROM members ORDER BY seq").fetchall(),
                         members_before)
        with self.assertRaises(sqlite3.IntegrityError):
            db.execute("UPDATE billing SET plan = 'gold'")
        with self.assertRaises(sqlite3.IntegrityError):
            db.execute("UPDATE access_keys SET user_id = created_by WHERE type = 1")
        self.assertEqual(db.execute("PRAGMA foreign_key_check").fetchall(), [])
        db.close()


@unittest.skipUnless(lkserver.pg_available(), "PostgreSQL not running (tests/pg.sh)")
class V1CopiedToPostgres(V1Base, unittest.TestCase):
    def prepare(self):
        url = lkserver.pg_create_database()
        rc, out, err = migrate("--from", "sqlite:" + self.sqlite_path, "--to", url)
        if rc != 0:
            raise AssertionError("migrate-data failed: %s" % err)
        return url


@unittest.skipUnless(lkserver.pg_available(), "PostgreSQL not running (tests/pg.sh)")
class V1OnPostgres(V1Base, unittest.TestCase):
    """fixtures/v1-pg.sql: a database the v1 server wrote into PostgreSQL
    itself (make_v1_fixture.py --backend pg), restored with psql, then
    opened by today's binary."""
    world_file = "v1-pg.json"

    def prepare(self):
        import subprocess
        url = lkserver.pg_create_database()
        name = url.rsplit("/", 1)[1]
        subprocess.run([lkserver.pg_bin("psql"), "-q", "-v", "ON_ERROR_STOP=1", "-f",
                        os.path.join(HERE, "fixtures", "v1-pg.sql"), name],
                       env=lkserver.pg_env(), check=True, capture_output=True)
        return url

    def test_passwords_hashes_and_seq_kept(self):
        import subprocess
        def rows(sql):
            return subprocess.run([lkserver.pg_bin("psql"), "-Atc", sql, self.url.rsplit("/", 1)[1]],
                                  env=lkserver.pg_env(), check=True, capture_output=True,
                                  text=True).stdout
        keys = rows("SELECT seq, id, encode(hash, 'hex') FROM access_keys ORDER BY seq")
        users = rows("SELECT id, pwhash FROM users ORDER BY id")
        members = rows("SELECT seq, org_id, user_id FROM members ORDER BY seq")
        srv = self.serve()
        srv.stop()
        self.assertTrue(keys and users and members)
        self.assertEqual(rows("SELECT seq, id, encode(hash, 'hex') FROM access_keys ORDER BY seq"), keys)
        self.assertEqual(rows("SELECT id, pwhash FROM users ORDER BY id"), users)
        self.assertEqual(rows("SELECT seq, org_id, user_id FROM members ORDER BY seq"), members)


del test_migrate  # only its helpers are used here
