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


# Fields version 1.1 added (scoped keys, the org's key lifetime): a v1 row
# must come back with exactly these values — every v1 key holds every scope,
# from anywhere — and the rest of the snapshot unchanged.
V11_KEY_DEFAULTS = {"scopes": ["*"], "allowed_cidrs": [], "created_by_key": None, "last_used_ip": None,
                    "previous_token_expires_at": None}
V11_ORG_DEFAULTS = {"access_key_max_lifetime_days": None}


def without_v11(test, x):
    """x with the 1.1 fields checked against their v1 defaults and removed."""
    if isinstance(x, list):
        return [without_v11(test, v) for v in x]
    if not isinstance(x, dict):
        return x
    x = {k: without_v11(test, v) for k, v in x.items()}
    for defaults in ((V11_KEY_DEFAULTS,) if "redacted" in x else ()) + \
            ((V11_ORG_DEFAULTS,) if "access_key_max_lifetime_days" in x else ()):
        for k, v in defaults.items():
            test.assertEqual(x.pop(k, "(missing)"), v, "%s of a v1 row" % k)
    return x


# Fields that version 1.1 adds to v1's objects, with the value every object
# written by v1 must show for them (it had no such thing). The world the
# v1 binary saw is compared with these taken out.
ADDED_IN_1_1 = {
    "previous_token_expires_at": None,  # --- rotate: a v1 key has no previous token
}


def without_1_1_fields(test, obj):
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if k in ADDED_IN_1_1:
                test.assertEqual(v, ADDED_IN_1_1[k], "%s of a v1 object" % k)
                continue
            out[k] = without_1_1_fields(test, v)
        return out
    if isinstance(obj, list):
        return [without_1_1_fields(test, v) for v in obj]
    return obj


def fixture_world(name="v1.json"):
    with open(os.path.join(HERE, "fixtures", name)) as f:
        d = json.load(f)
    return d["world"], d["before"]


def with_roles(snapshot):
    """A v1 snapshot as 1.1 shows it: every membership with role "owner"."""
    snapshot = json.loads(json.dumps(snapshot))
    for s in snapshot.values():
        for d in s["org"].values():
            for m in d["members"]["data"]:
                m["role"] = "owner"
    return snapshot


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
        self.assertEqual(without_v11(self, everything(srv.url, self.world)), with_roles(self.before))

    def test_every_v1_member_is_an_owner(self):
        """Roles (1.1): nobody loses a right they had — every member of a v1
        database is an owner, and so may still do what v1 let any member do."""
        srv = self.serve()
        seen = 0
        for who, email in sorted(self.world["users"].items()):
            c = login(srv.url, email)
            for o in ok(c.get("/v1/organizations?limit=1000"))["data"]:
                members = ok(c.get("/v1/organizations/%s/members?limit=1000" % o["id"]))["data"]
                self.assertEqual({m["role"] for m in members}, {"owner"}, members)
                seen += len(members)
                ok(c.patch("/v1/organizations/%s/billing" % o["id"], {"plan": "pro"}))
        self.assertGreater(seen, 1)
        # a member added after the upgrade is a plain member
        alice = login(srv.url, self.world["users"]["alice"])
        org = ok(alice.post("/v1/organizations", {"name": "after v1"}), 201)
        bob_email = self.world["users"]["bob"]
        m = ok(alice.post("/v1/organizations/%s/members" % org["id"], {"email": bob_email}), 201)
        self.assertEqual(m["role"], "member")

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
        members_before = [m + ("owner",) for m in members_before]  # roles (1.1)
        old.close()
        srv = self.serve()
        srv.stop()
        db = sqlite3.connect(self.sqlite_path)
        # every version applied once, in order: 1 (the fixture's), 2 (the
        # rebuild) and whatever later features added
        versions = [v for (v,) in db.execute("SELECT version FROM schema_migrations ORDER BY version")]
        self.assertEqual(versions, list(range(1, len(versions) + 1)))
        self.assertGreaterEqual(len(versions), 2)
        self.assertEqual(db.execute("SELECT count(*) FROM device_requests").fetchone(), (0,))
        self.assertEqual(db.execute("SELECT count(*) FROM audit_events").fetchone(), (0,))
        self.assertEqual(db.execute("SELECT seq, id, hash FROM access_keys ORDER BY seq")
                         .fetchall(), keys_before)
        self.assertEqual(db.execute("SELECT seq, id, pwhash FROM users ORDER BY seq").fetchall(),
                         users_before)
        self.assertEqual(db.execute("SELECT seq, org_id, user_id, role FROM members ORDER BY seq")
                         .fetchall(), members_before)
        self.assertEqual(db.execute("SELECT count(*) FROM invitations").fetchone(), (0,))
        with self.assertRaises(sqlite3.IntegrityError):
            db.execute("UPDATE billing SET plan = 'gold'")
        with self.assertRaises(sqlite3.IntegrityError):
            db.execute("UPDATE access_keys SET user_id = created_by WHERE type = 1")
        self.assertEqual(db.execute("PRAGMA foreign_key_check").fetchall(), [])
        db.close()

    def test_v1_sessions_get_ids(self):
        """Account security (issue 13 B): the v1 file's sessions survive the
        upgrade with their hashes and CSRF tokens, each with a fresh unique
        `ses_` id, last_seen_at = created_at and created_us from created_at."""
        old = sqlite3.connect(FIXTURE)
        before = old.execute("SELECT hash, user_id, csrf, created_at, expires_at FROM sessions "
                             "ORDER BY hash").fetchall()
        old.close()
        self.assertTrue(before, "the fixture has no sessions to upgrade")
        srv = self.serve()
        srv.stop()
        db = sqlite3.connect(self.sqlite_path)
        after = db.execute("SELECT hash, user_id, csrf, created_at, expires_at, id, last_seen_at, "
                           "created_us, ip, user_agent FROM sessions ORDER BY hash").fetchall()
        db.close()
        self.assertEqual([r[:5] for r in after], before)
        ids = [r[5] for r in after]
        self.assertEqual(len(set(ids)), len(ids), ids)
        for (h, u, c, created, exp, sid, seen, us, ip, ua) in after:
            self.assertRegex(sid, r"^ses_[0-9A-Za-z]{20}$")
            self.assertEqual(seen, created)
            self.assertEqual(us, created * 1000000)
            self.assertEqual((ip, ua), ("", ""))


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

    def test_v1_sessions_get_ids(self):
        """Account security (issue 13 B): the v1 database's sessions keep
        their hashes and get unique ses_ ids."""
        import subprocess
        def rows(sql):
            return subprocess.run([lkserver.pg_bin("psql"), "-Atc", sql, self.url.rsplit("/", 1)[1]],
                                  env=lkserver.pg_env(), check=True, capture_output=True,
                                  text=True).stdout.splitlines()
        before = rows("SELECT encode(hash, 'hex'), user_id, csrf, created_at FROM sessions ORDER BY 1")
        srv = self.serve()
        srv.stop()
        after = rows("SELECT encode(hash, 'hex'), user_id, csrf, created_at, id, last_seen_at, created_us "
                     "FROM sessions ORDER BY 1")
        self.assertEqual(["|".join(r.split("|")[:4]) for r in after], before)
        ids = [r.split("|")[4] for r in after]
        self.assertEqual(len(set(ids)), len(ids), ids)
        for r in after:
            f = r.split("|")
            self.assertRegex(f[4], r"^ses_[0-9A-Za-z]{20}$")
            self.assertEqual(f[5], f[3])
            self.assertEqual(int(f[6]), int(f[3]) * 1000000)

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
