"""
Two (or more) latchkeyd processes on one database: what one node writes, the
other sees on its very next request. Both backends: two processes on one
SQLite file, or on one PostgreSQL database.

The revocation loops run LK_MULTINODE_ROUNDS (default 200) rounds and count
every miss; a single miss fails the test. Failed bearer attempts are
throttled per client address (100 a minute, per process), so the loops
spread their refused requests over several loopback source addresses
(127.0.0.0/8 is all loopback) — as many distinct clients would.
"""
import http.client
import os
import secrets
import math
import time
import unittest

import lkserver
from lkserver import Client, Server

BACKEND = os.environ.get("LK_BACKEND", "sqlite")
ROUNDS = int(os.environ.get("LK_MULTINODE_ROUNDS", "200"))


class SourceClient(Client):
    """A Client whose connections come from a chosen loopback address."""

    def __init__(self, base_url, source="127.0.0.1", **kw):
        super().__init__(base_url, **kw)
        self.source = source

    def _connection(self):
        if self._conn is None:
            self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout,
                                                    source_address=(self.source, 0))
        return self._conn


def source_for(i):
    """A loopback source address for round i: a new one every 40 rounds."""
    return "127.0.0.%d" % (10 + i // 40)


def logged_in(url, email, password="correct horse battery"):
    c = Client(url)
    c.login(email, password)
    return c


class TwoNodes(unittest.TestCase):
    """Node a and node b share one database."""

    @classmethod
    def setUpClass(cls):
        cls.a = Server(backend=BACKEND)
        cls.b = None
        try:
            cls.a.start()
            cls.b = Server(backend=BACKEND, db_url=cls.a.db_url).start()
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.b:
            cls.b.cleanup()
        cls.a.cleanup()

    def user(self, node):
        email = "mn%s@example.com" % secrets.token_hex(5)
        c = Client(node.url)
        c.signup(email)
        c.login(email)
        c.email = email
        return c

    def org(self, client, name="Shared org"):
        r = client.post("/v1/organizations", {"name": name})
        self.assertEqual(r.status, 201, r)
        return r.json["id"]

    def test_both_nodes_ready(self):
        for n in (self.a, self.b):
            r = Client(n.url).get("/readyz")
            self.assertEqual(r.status, 200, r)

    def test_user_signed_up_on_one_logs_in_on_other(self):
        email = "x%s@example.com" % secrets.token_hex(5)
        Client(self.a.url).signup(email, name="Cross")
        cb = logged_in(self.b.url, email)
        r = cb.get("/v1/me")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["email"], email)

    def test_session_from_one_node_works_on_other_and_logout_ends_it(self):
        ua = self.user(self.a)
        cb = Client(self.b.url)
        cb.cookies = dict(ua.cookies)
        cb.csrf = ua.csrf
        self.assertEqual(cb.get("/v1/auth/session").status, 200)
        r = ua.post("/v1/auth/logout")
        self.assertEqual(r.status, 204, r)
        r = cb.get("/v1/auth/session")
        self.assertEqual(r.status, 401, r)

    def test_org_key_created_on_one_works_on_other_at_once(self):
        ua = self.user(self.a)
        org = self.org(ua)
        r = ua.post("/v1/organizations/%s/access-keys" % org, {"name": "ci"})
        self.assertEqual(r.status, 201, r)
        r = Client(self.b.url, token=r.json["token"]).get("/v1/whoami")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["principal"], "organization_key")
        self.assertEqual(r.json["organization"]["id"], org)

    def test_personal_key_created_on_one_works_on_other_at_once(self):
        ub = self.user(self.b)
        r = ub.post("/v1/me/access-keys", {"name": "laptop"})
        self.assertEqual(r.status, 201, r)
        r = Client(self.a.url, token=r.json["token"]).get("/v1/whoami")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["principal"], "personal_key")

    def test_renames_and_lists_agree_across_nodes(self):
        ua = self.user(self.a)
        org = self.org(ua, "Before")
        cb = logged_in(self.b.url, ua.email)
        r = cb.patch("/v1/organizations/%s" % org, {"name": "After"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(ua.get("/v1/organizations/%s" % org).json["name"], "After")
        for i in range(3):
            self.assertEqual(
                (cb if i % 2 else ua).post("/v1/organizations/%s/projects" % org,
                                           {"name": "p%d" % i}).status, 201)
        la = ua.get("/v1/organizations/%s/projects" % org).json
        lb = cb.get("/v1/organizations/%s/projects" % org).json
        self.assertEqual(la, lb)
        self.assertEqual([p["name"] for p in la["data"]], ["p2", "p1", "p0"])

    def test_deleted_key_refused_by_other_node_on_next_request(self):
        """ROUNDS rounds of create on X → use on Y → delete on X → refused on Y,
        alternating X and Y, personal and organization keys; zero misses."""
        ua = self.user(self.a)
        ub = logged_in(self.b.url, ua.email)
        org = self.org(ua)
        nodes = [(ua, self.b), (ub, self.a)]
        misses = []
        for i in range(ROUNDS):
            creator, other = nodes[i % 2]
            user = SourceClient(other.url, source=source_for(i))
            if (i // 2) % 2 == 0:
                base = "/v1/me/access-keys"
                probe = "/v1/whoami"
            else:
                base = "/v1/organizations/%s/access-keys" % org
                probe = "/v1/organizations/%s" % org
            r = creator.post(base, {"name": "round %d" % i})
            if r.status != 201:
                misses.append((i, "create", r.status))
                continue
            token, kid = r.json["token"], r.json["id"]
            r = user.get(probe, token=token)
            if r.status != 200:
                misses.append((i, "use before delete", r.status))
            r = creator.delete("%s/%s" % (base, kid))
            if r.status != 204:
                misses.append((i, "delete", r.status))
            r = user.get(probe, token=token)
            if r.status != 401:
                misses.append((i, "use after delete", r.status))
            user.close()
        self.assertEqual(misses, [], "%d misses in %d rounds" % (len(misses), ROUNDS))

    def test_removed_member_personal_key_loses_org_on_other_node(self):
        """ROUNDS rounds of add member on X → member's personal key reaches the
        org on Y → remove on X → the key gets 404 on Y at once; zero misses."""
        owner_a = self.user(self.a)
        owner_b = logged_in(self.b.url, owner_a.email)
        org = self.org(owner_a)
        member = self.user(self.b)
        r = member.get("/v1/me")
        member_id = r.json["id"]
        r = member.post("/v1/me/access-keys", {"name": "member key"})
        self.assertEqual(r.status, 201, r)
        token = r.json["token"]
        users = {self.a.url: Client(self.a.url, token=token),
                 self.b.url: Client(self.b.url, token=token)}
        nodes = [(owner_a, self.b), (owner_b, self.a)]
        path = "/v1/organizations/%s" % org
        misses = []
        for i in range(ROUNDS):
            owner, other = nodes[i % 2]
            key = users[other.url]
            r = owner.post(path + "/members", {"email": member.email})
            if r.status != 201:
                misses.append((i, "add", r.status))
            r = key.get(path)
            if r.status != 200:
                misses.append((i, "reach as member", r.status))
            r = owner.delete(path + "/members/" + member_id)
            if r.status != 204:
                misses.append((i, "remove", r.status))
            r = key.get(path)
            if r.status != 404:
                misses.append((i, "reach after removal", r.status))
        self.assertEqual(misses, [], "%d misses in %d rounds" % (len(misses), ROUNDS))

    def test_deleted_org_revokes_its_keys_on_other_node(self):
        ua = self.user(self.a)
        org = self.org(ua)
        r = ua.post("/v1/organizations/%s/access-keys" % org, {"name": "doomed"})
        self.assertEqual(r.status, 201, r)
        key = SourceClient(self.b.url, source="127.0.0.200", token=r.json["token"])
        self.assertEqual(key.get("/v1/whoami").status, 200)
        self.assertEqual(ua.delete("/v1/organizations/%s" % org).status, 204)
        self.assertEqual(key.get("/v1/whoami").status, 401)

    def test_email_taken_on_one_node_conflicts_on_other(self):
        email = "dup%s@example.com" % secrets.token_hex(5)
        Client(self.a.url).signup(email)
        r = Client(self.b.url).post("/v1/auth/signup", {
            "email": email.upper(), "password": "correct horse battery", "name": "Dup"})
        self.assertEqual(r.status, 409, r)
        self.assertEqual(r.code, "conflict")

    # --- rotate (issue 15): a previous token on the other node -------------------
    def rotate(self, client, base, kid, grace):
        r = client.post("%s/%s/rotate" % (base, kid), {"grace_period_seconds": grace})
        self.assertEqual(r.status, 200, r)
        return r.json["token"]

    def test_previous_token_refused_on_other_node_when_grace_ends_or_key_deleted(self):
        """Rotate on X with a grace period: the old and new tokens work on Y;
        the old one is refused on Y the moment the grace ends (1 s), or the
        moment the key is deleted on X, or the moment X rotates again — both
        kinds of key, alternating the nodes."""
        ua = self.user(self.a)
        ub = logged_in(self.b.url, ua.email)
        org = self.org(ua)
        misses = []
        rounds = max(4, ROUNDS // 25)
        for i in range(rounds):
            creator, other = [(ua, self.b), (ub, self.a)][i % 2]
            user = SourceClient(other.url, source="127.0.1.%d" % (10 + i))
            base = "/v1/me/access-keys" if i % 4 < 2 else "/v1/organizations/%s/access-keys" % org
            r = creator.post(base, {"name": "rotating %d" % i})
            self.assertEqual(r.status, 201, r)
            old, kid = r.json["token"], r.json["id"]
            # grace ends: 1 s, then refused on the other node
            # the database keeps whole seconds: a 1 s grace started at t ends at
            # floor(t) + 1 at the earliest (it may be only a moment)
            t_start = time.time()
            new = self.rotate(creator, base, kid, 1)
            t_end = math.floor(t_start) + 1
            for t, what in ((old, "previous in grace"), (new, "new")):
                r = user.get("/v1/whoami", token=t)
                if r.status != 200 and time.time() < t_end - 0.05:
                    misses.append((i, what, r.status))
            time.sleep(max(0.0, t_end - time.time()) + 1.05)  # past floor(t_after) + 1 too
            r = user.get("/v1/whoami", token=old)
            if r.status != 401:
                misses.append((i, "previous after its grace", r.status))
            # rotating again ends the earlier previous token at once
            newer = self.rotate(creator, base, kid, 3600)
            newest = self.rotate(creator, base, kid, 3600)
            for t, want, what in ((new, 401, "earlier previous"), (newer, 200, "previous"),
                                  (newest, 200, "newest")):
                r = user.get("/v1/whoami", token=t)
                if r.status != want:
                    misses.append((i, what, r.status))
            # deleting the key ends both at once
            r = creator.delete("%s/%s" % (base, kid))
            self.assertEqual(r.status, 204, r)
            for t, what in ((newer, "previous after delete"), (newest, "current after delete")):
                r = user.get("/v1/whoami", token=t)
                if r.status != 401:
                    misses.append((i, what, r.status))
            user.close()
        self.assertEqual(misses, [], "%d misses in %d rounds" % (len(misses), rounds))

    def test_leaked_report_on_one_node_revokes_on_the_other(self):
        ua = self.user(self.a)
        r = ua.post("/v1/me/access-keys", {"name": "leaks"})
        self.assertEqual(r.status, 201, r)
        token = r.json["token"]
        self.assertEqual(Client(self.b.url).get("/v1/whoami", token=token).status, 200)
        r = Client(self.a.url).post("/v1/leaked-tokens", {"tokens": [token], "source": "test"})
        self.assertEqual(r.status, 202, r)
        self.assertEqual(Client(self.b.url).get("/v1/whoami", token=token).status, 401)


class ConcurrentStartup(unittest.TestCase):
    """Several latchkeyd started at once on one empty database: every one
    comes up, and each schema version is applied exactly once."""

    N = 5

    def test_concurrent_start_on_empty_database_migrates_once(self):
        first = Server(backend=BACKEND)
        servers = [first] + [Server(backend=BACKEND, db_url=first.db_url)
                             for _ in range(self.N - 1)]
        try:
            for s in servers:
                s.start(wait=False)
            for s in servers:
                s.wait_ready(30)
            for s in servers:
                log = s.log_text().lower()
                for bad in ("error", "failed", "cannot", "duplicate"):
                    self.assertNotIn(bad, log, "server log of a concurrent start:\n" + log)
            versions = schema_versions(first.db_url)
            self.assertTrue(versions, "no schema version recorded")
            self.assertEqual(len(versions), len(set(versions)), versions)
            self.assertEqual(sorted(versions), list(range(1, len(versions) + 1)), versions)
            # and they all work on the same data
            email = "c%s@example.com" % secrets.token_hex(5)
            Client(servers[0].url).signup(email)
            for s in servers:
                self.assertEqual(logged_in(s.url, email).get("/v1/me").status, 200)
        finally:
            for s in reversed(servers):
                s.cleanup()


def schema_versions(db_url):
    """The schema versions recorded in the database, one entry per row."""
    if db_url.startswith("sqlite:"):
        import sqlite3
        con = sqlite3.connect(db_url[len("sqlite:"):])
        try:
            names = [r[0] for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name LIKE '%schema%'")]
            table = names[0]
            return [r[0] for r in con.execute("SELECT version FROM %s" % table)]
        finally:
            con.close()
    out = psql(db_url, "SELECT version FROM lk_schema_version")
    return [int(x) for x in out.split()]


def psql(db_url, sql):
    import subprocess
    r = subprocess.run([lkserver.pg_bin("psql"), "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1",
                        "-d", db_url, "-c", sql],
                       env=lkserver.pg_env(), capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise AssertionError("psql failed: %s" % r.stderr)
    return r.stdout


@unittest.skipUnless(BACKEND == "pg", "PostgreSQL only")
class DroppedConnection(unittest.TestCase):
    """The database drops latchkeyd's connections (pg_terminate_backend: a
    restart, a failover, an idle-connection reaper). Each client sees at most
    one 503 and then success again, without restarting latchkeyd."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(backend=BACKEND).start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def terminate_backends(self):
        dbname = self.srv.db_url.rsplit("/", 1)[1]
        out = psql(self.srv.db_url,
                   "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                   "WHERE datname = '%s' AND pid <> pg_backend_pid()" % dbname)
        return int(out.strip())

    def test_terminated_backends_cost_at_most_one_503_then_success(self):
        owner = lkserver.new_user(self.srv.url)
        org = self.org_of(owner)
        r = owner.post("/v1/organizations/%s/access-keys" % org, {"name": "k"})
        self.assertEqual(r.status, 201, r)
        key = Client(self.srv.url, token=r.json["token"])
        self.assertGreater(self.terminate_backends(), 0, "latchkeyd held no connection")
        # The same keep-alive connections as before (same event loop):
        # reads, then writes, then a login (worker thread).
        seq = [
            lambda: key.get("/v1/whoami"),
            lambda: owner.get("/v1/organizations/%s/projects" % org),
            lambda: owner.post("/v1/organizations/%s/projects" % org, {"name": "after"}),
            lambda: key.patch("/v1/organizations/%s" % org, {"name": "renamed"}),
            lambda: Client(self.srv.url).post("/v1/auth/login",
                                              {"email": owner.email,
                                               "password": "correct horse battery"}),
            lambda: Client(self.srv.url).get("/readyz"),
        ]
        statuses = [f().status for f in seq]
        self.assertLessEqual(statuses.count(503), 1, statuses)
        again = [f().status for f in seq]
        self.assertEqual(again, [200, 200, 201, 200, 200, 200], (statuses, again))

    def test_writes_after_each_termination(self):
        """Ten times: terminate, then write through one keep-alive client:
        at most one 503 per termination, and the request after it succeeds."""
        owner = lkserver.new_user(self.srv.url)
        org = self.org_of(owner)
        failures = []
        for i in range(10):
            self.terminate_backends()
            r = owner.post("/v1/organizations/%s/projects" % org, {"name": "p%d" % i})
            if r.status == 503:
                self.assertEqual(r.code, "unavailable", r)
                r = owner.post("/v1/organizations/%s/projects" % org, {"name": "p%d" % i})
            if r.status != 201:
                failures.append((i, r.status))
        self.assertEqual(failures, [])
        names = [p["name"] for p in owner.get("/v1/organizations/%s/projects" % org).json["data"]]
        self.assertEqual(names, ["p%d" % i for i in reversed(range(10))])

    def test_stuck_database_answers_503_within_the_timeout(self):
        """A table locked by someone else (a stuck migration, a long admin
        transaction): the request waits at most the statement/lock timeout
        (5 s), answers 503, and works again once the lock is gone."""
        import threading
        owner = lkserver.new_user(self.srv.url)
        r = owner.post("/v1/me/access-keys", {"name": "stuck"})
        self.assertEqual(r.status, 201, r)
        key = Client(self.srv.url, token=r.json["token"])
        self.assertEqual(key.get("/v1/whoami").status, 200)
        locked, release = threading.Event(), threading.Event()
        errors = []

        def hold_lock():
            import subprocess
            p = subprocess.Popen([lkserver.pg_bin("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
                                  "-d", self.srv.db_url], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 env=lkserver.pg_env(), text=True)
            p.stdin.write("BEGIN;\nLOCK TABLE access_keys IN ACCESS EXCLUSIVE MODE;\n"
                          "\\echo locked\n")
            p.stdin.flush()
            line = p.stdout.readline()
            if "locked" not in line:
                errors.append(line + p.stderr.read())
            locked.set()
            release.wait(60)
            p.stdin.write("ROLLBACK;\n")
            p.stdin.close()
            p.wait(30)

        t = threading.Thread(target=hold_lock)
        t.start()
        try:
            self.assertTrue(locked.wait(30))
            self.assertEqual(errors, [])
            t0 = time.time()
            r = key.get("/v1/whoami")
            waited = time.time() - t0
            self.assertEqual(r.status, 503, r)
            self.assertEqual(r.code, "unavailable")
            self.assertLess(waited, 15)
        finally:
            release.set()
            t.join(60)
        self.assertEqual(key.get("/v1/whoami").status, 200)

    def org_of(self, client):
        r = client.post("/v1/organizations", {"name": "Conn org"})
        self.assertEqual(r.status, 201, r)
        return r.json["id"]
