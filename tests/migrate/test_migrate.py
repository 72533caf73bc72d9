"""
`latchkeyd migrate-data --from URL --to URL [--force]`, end to end: fill a
database through the API of a real latchkeyd, copy it with the real binary,
serve the copy with a real latchkeyd, and check that the API shows the same
world: people log in with their passwords, every live token still works (and
a deleted one still does not), every list is equal, new rows sort first.

LK_BACKEND (run.py --backend) is the source backend; each target backend
gets its own test class (PostgreSQL only when tests/pg.sh is running).
"""
import os
import secrets
import subprocess
import tempfile
import shutil
import unittest

import lkserver
from lkserver import Client, Server

SOURCE = os.environ.get("LK_BACKEND", "sqlite")
PASSWORD = "correct horse battery"


def new_db(backend, tmpdir, name):
    if backend == "pg":
        return lkserver.pg_create_database()
    return "sqlite:" + os.path.join(tmpdir, name + ".db")


def drop_db(url):
    if url.startswith("postgres"):
        lkserver.pg_drop_database(url)


def migrate(*args):
    """Run latchkeyd migrate-data; returns (exit status, stdout, stderr)."""
    r = subprocess.run([lkserver.LATCHKEYD, "migrate-data"] + list(args),
                       capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    return r.returncode, r.stdout, r.stderr


def login(url, email):
    c = Client(url)
    c.login(email, PASSWORD)
    return c


def ok(r, status=200):
    if r.status != status:
        raise AssertionError("expected %d, got %r" % (status, r))
    return r.json


def populate(url):
    """A small but complete world; returns what the checks need."""
    w = {"users": {}, "tokens": {}, "dead_tokens": []}
    for who, name in (("alice", "Alice Ä"), ("bob", "Bob"), ("carol", "Carol ✓")):
        email = "%s.%s@Example.com" % (who, secrets.token_hex(3))
        Client(url).signup(email, PASSWORD, name)
        w["users"][who] = email
    alice = login(url, w["users"]["alice"])
    bob = login(url, w["users"]["bob"])
    carol = login(url, w["users"]["carol"])

    org1 = ok(alice.post("/v1/organizations", {"name": "Acme ✓"}), 201)["id"]
    org2 = ok(alice.post("/v1/organizations", {"name": "Beta"}), 201)["id"]
    ok(alice.patch("/v1/organizations/%s" % org2, {"name": "Beta renamed"}))
    ok(alice.post("/v1/organizations/%s/members" % org1, {"email": w["users"]["bob"]}), 201)
    ok(alice.post("/v1/organizations/%s/members" % org2, {"email": w["users"]["carol"]}), 201)
    org3 = ok(bob.post("/v1/organizations", {"name": "Bob's own"}), 201)["id"]
    for i in range(3):
        p = ok(alice.post("/v1/organizations/%s/projects" % org1, {"name": "proj %d" % i}), 201)
        for env in ("dev", "staging", "prod"):
            e = ok(alice.post("/v1/organizations/%s/projects/%s/environments" % (org1, p["id"]),
                              {"name": env}), 201)
        ok(alice.delete("/v1/organizations/%s/projects/%s/environments/%s" % (org1, p["id"],
                                                                            e["id"])), 204)
    ok(alice.patch("/v1/organizations/%s/billing" % org1,  # roles (1.1): an owner's
                 {"plan": "pro", "billing_email": "billing@acme.example"}))

    def key(client, path, name, **extra):
        body = {"name": name}
        body.update(extra)
        r = ok(client.post(path, body), 201)
        return r["token"], r

    t, _ = key(alice, "/v1/organizations/%s/access-keys" % org1, "deploy")
    w["tokens"][t] = ("organization_key", org1)
    t, _ = key(alice, "/v1/organizations/%s/access-keys" % org1, "expiring",
               expires_at="2099-01-01T00:00:00Z")
    w["tokens"][t] = ("organization_key", org1)
    t, k = key(bob, "/v1/organizations/%s/access-keys" % org1, "revoked")
    ok(bob.delete("/v1/organizations/%s/access-keys/%s" % (org1, k["id"])), 204)
    w["dead_tokens"].append(t)
    t, _ = key(bob, "/v1/organizations/%s/access-keys" % org3, "bob org key")
    w["tokens"][t] = ("organization_key", org3)
    for who, c in (("alice", alice), ("bob", bob), ("carol", carol)):
        t, k = key(c, "/v1/me/access-keys", "%s laptop" % who)
        w["tokens"][t] = ("personal_key", w["users"][who])
    t, k = key(carol, "/v1/me/access-keys", "old name")
    ok(carol.patch("/v1/me/access-keys/%s" % k["id"], {"name": "new name"}))
    w["tokens"][t] = ("personal_key", w["users"]["carol"])
    # use some keys so that last_used_at gets set (flushed at shutdown)
    for t in list(w["tokens"])[:3]:
        ok(Client(url, token=t).get("/v1/whoami"))
    return w


def everything(url, world):
    """What each user can see through the API, as plain data."""
    snap = {}
    for who, email in sorted(world["users"].items()):
        c = login(url, email)
        s = {"me": ok(c.get("/v1/me")), "orgs": ok(c.get("/v1/organizations?limit=1000")),
             "keys": ok(c.get("/v1/me/access-keys?limit=1000")), "org": {}}
        for o in s["orgs"]["data"]:
            base = "/v1/organizations/%s" % o["id"]
            d = {"org": ok(c.get(base)),
                 "members": ok(c.get(base + "/members?limit=1000")),
                 "projects": ok(c.get(base + "/projects?limit=1000")),
                 "billing": ok(c.get(base + "/billing")),
                 "keys": ok(c.get(base + "/access-keys?limit=1000")),
                 "envs": {}}
            for p in d["projects"]["data"]:
                d["envs"][p["id"]] = ok(c.get(base + "/projects/%s/environments?limit=1000"
                                              % p["id"]))
            s["org"][o["id"]] = d
        snap[who] = s
    return snap


def walk(client, path):
    """Every item of a list, one item per page, following next_cursor."""
    items, cursor = [], None
    for _ in range(1000):
        q = path + "?limit=1" + ("&cursor=" + cursor if cursor else "")
        r = ok(client.get(q))
        items += r["data"]
        cursor = r["next_cursor"]
        if not cursor:
            return items
    raise AssertionError("cursor never ended")


class MigrateBase:
    TARGET = None

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="lk-migrate-")
        cls.dbs = []
        cls.src_url = new_db(SOURCE, cls.tmp, "source")
        cls.dbs.append(cls.src_url)
        srv = Server(backend=SOURCE, db_url=cls.src_url)
        try:
            srv.start()
            cls.world = populate(srv.url)
            srv.stop()  # flushes last_used_at
            srv.start()
            cls.before = everything(srv.url, cls.world)
        finally:
            srv.cleanup()
        cls.dst_url = new_db(cls.TARGET, cls.tmp, "target")
        cls.dbs.append(cls.dst_url)
        cls.rc, cls.out, cls.err = migrate("--from", cls.src_url, "--to", cls.dst_url)

    @classmethod
    def tearDownClass(cls):
        for u in cls.dbs:
            drop_db(u)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def serve(self, url):
        srv = Server(backend="pg" if url.startswith("postgres") else "sqlite", db_url=url)
        srv.start()
        self.addCleanup(srv.cleanup)
        return srv

    def test_copy_succeeds_and_reports_counts(self):
        self.assertEqual(self.rc, 0, self.err)
        self.assertIn("3 users", self.out)
        self.assertIn("3 organizations", self.out)
        self.assertIn("3 projects", self.out)
        self.assertIn("6 environments", self.out)

    def test_nothing_secret_in_output(self):
        text = self.out + self.err
        for t in list(self.world["tokens"]) + self.world["dead_tokens"]:
            self.assertNotIn(t, text)
        self.assertNotIn("argon2", text)
        for email in self.world["users"].values():
            self.assertNotIn(email, text)

    def test_everyone_logs_in_and_sees_the_same_lists(self):
        self.assertEqual(self.rc, 0, self.err)
        srv = self.serve(self.dst_url)
        after = everything(srv.url, self.world)
        self.assertEqual(after, self.before)

    def test_tokens_keep_working_and_revoked_stay_revoked(self):
        self.assertEqual(self.rc, 0, self.err)
        srv = self.serve(self.dst_url)
        for t, (kind, owner) in self.world["tokens"].items():
            r = Client(srv.url, token=t).get("/v1/whoami")
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json["principal"], kind)
            if kind == "organization_key":
                self.assertEqual(r.json["organization"]["id"], owner)
            else:
                self.assertEqual(r.json["user"]["email"], owner)
        for t in self.world["dead_tokens"]:
            self.assertEqual(Client(srv.url, token=t).get("/v1/whoami").status, 401)
        r = Client(srv.url).post("/v1/auth/login", {"email": self.world["users"]["alice"],
                                                   "password": "wrong password!"})
        self.assertEqual(r.status, 401, r)

    def test_audit_log_copied(self):
        """Every audit event moves too (ids, times, actors, details); the
        org logs read the same, and so do the personal ones but for the
        sign-in this test itself makes on each side."""
        self.assertEqual(self.rc, 0, self.err)
        self.assertRegex(self.out, r"[1-9][0-9]* audit events")
        logs = []
        for url in (self.src_url, self.dst_url):
            srv = self.serve(url)
            alice = login(srv.url, self.world["users"]["alice"])
            orgs = walk(alice, "/v1/organizations")
            org_logs = {o["id"]: walk(alice, "/v1/organizations/%s/audit-events" % o["id"])
                        for o in orgs}
            mine = walk(alice, "/v1/me/audit-events")
            self.assertEqual(mine[0]["action"], "user.logged_in")
            logs.append((org_logs, mine[1:]))
            srv.stop()
        self.assertTrue(any(logs[0][0].values()))
        self.assertEqual(logs[1], logs[0])

    def test_pages_and_new_rows_sort_newest_first(self):
        self.assertEqual(self.rc, 0, self.err)
        srv = self.serve(self.dst_url)
        alice = login(srv.url, self.world["users"]["alice"])
        org1 = [o for o in self.before["alice"]["orgs"]["data"] if o["name"] == "Acme ✓"][0]["id"]
        base = "/v1/organizations/%s/projects" % org1
        self.assertEqual(walk(alice, base), self.before["alice"]["org"][org1]["projects"]["data"])
        new = ok(alice.post(base, {"name": "after the move"}), 201)
        self.assertEqual(ok(alice.get(base))["data"][0]["id"], new["id"])
        neworg = ok(alice.post("/v1/organizations", {"name": "New"}), 201)
        self.assertEqual(ok(alice.get("/v1/organizations"))["data"][0]["id"], neworg["id"])
        k = ok(alice.post("/v1/me/access-keys", {"name": "fresh"}), 201)
        self.assertEqual(ok(alice.get("/v1/me/access-keys"))["data"][0]["id"], k["id"])
        self.assertEqual(ok(Client(srv.url, token=k["token"]).get("/v1/whoami"))["principal"],
                         "personal_key")
        # a new signup with a copied email (any case) conflicts
        r = Client(srv.url).post("/v1/auth/signup", {"email": self.world["users"]["bob"].upper(),
                                                    "password": PASSWORD, "name": "Bob 2"})
        self.assertEqual(r.status, 409, r)

    def test_non_empty_target_refused_and_left_alone(self):
        self.assertEqual(self.rc, 0, self.err)
        rc, out, err = migrate("--from", self.src_url, "--to", self.dst_url)
        self.assertNotEqual(rc, 0)
        self.assertIn("not empty", err)
        # --force onto the same rows collides and rolls back as a whole
        rc, out, err = migrate("--from", self.src_url, "--to", self.dst_url, "--force")
        self.assertNotEqual(rc, 0, out)
        self.assertIn("nothing was copied", err)
        srv = self.serve(self.dst_url)
        self.assertEqual(everything(srv.url, self.world), self.before)

    def test_force_adds_to_a_target_with_other_data(self):
        url = new_db(self.TARGET, self.tmp, "other")
        self.dbs.append(url)
        srv = self.serve(url)
        email = "other%s@example.com" % secrets.token_hex(3)
        Client(srv.url).signup(email, PASSWORD, "Other")
        other = login(srv.url, email)
        ok(other.post("/v1/organizations", {"name": "Other org"}), 201)
        srv.stop()
        rc, out, err = migrate("--from", self.src_url, "--to", url)
        self.assertNotEqual(rc, 0)
        self.assertIn("not empty", err)
        rc, out, err = migrate("--from", self.src_url, "--to", url, "--force")
        self.assertEqual(rc, 0, err)
        srv.start()
        self.assertEqual(ok(login(srv.url, email).get("/v1/organizations"))["data"][0]["name"],
                         "Other org")
        self.assertEqual(everything(srv.url, self.world), self.before)


for _target in ["sqlite"] + (["pg"] if lkserver.pg_available() else []):
    _name = "MigrateFrom%sTo%s" % (SOURCE.capitalize(), _target.capitalize())
    globals()[_name] = type(_name, (MigrateBase, unittest.TestCase), {"TARGET": _target})
del _target, _name


class Refusals(unittest.TestCase):
    def test_usage_errors_exit_2(self):
        for args in ([], ["--from", "sqlite:/tmp/x.db"], ["--to", "sqlite:/tmp/x.db"],
                     ["--from", "sqlite:/tmp/x.db", "--to", "sqlite:/tmp/x.db"],
                     ["--from", "mysql://x", "--to", "sqlite:/tmp/y.db"], ["--bogus"]):
            rc, out, err = migrate(*args)
            self.assertEqual(rc, 2, (args, out, err))
            self.assertTrue(err.strip(), args)

    def test_help(self):
        rc, out, err = migrate("--help")
        self.assertEqual(rc, 0)
        self.assertIn("--from", out)

    def test_missing_sqlite_source_is_an_error_and_creates_nothing(self):
        tmp = tempfile.mkdtemp(prefix="lk-migrate-")
        self.addCleanup(shutil.rmtree, tmp, True)
        src = os.path.join(tmp, "typo.db")
        rc, out, err = migrate("--from", "sqlite:" + src, "--to", "sqlite:" + os.path.join(tmp, "t.db"))
        self.assertEqual(rc, 1, err)
        self.assertFalse(os.path.exists(src))

    def test_empty_source_is_an_error(self):
        tmp = tempfile.mkdtemp(prefix="lk-migrate-")
        self.addCleanup(shutil.rmtree, tmp, True)
        src = new_db(SOURCE, tmp, "empty")
        self.addCleanup(drop_db, src)
        srv = Server(backend=SOURCE, db_url=src).start()  # creates the schema
        srv.cleanup()
        rc, out, err = migrate("--from", src, "--to", "sqlite:" + os.path.join(tmp, "t.db"))
        self.assertEqual(rc, 1, err)
        self.assertIn("empty", err)
