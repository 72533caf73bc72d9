"""
Account security (api.md: "Account security"): the person's own sessions
and password, the per-user session cap, signup throttling, database file
modes, and Strict-Transport-Security never over plain HTTP.

- GET /v1/me/sessions: {id: ses_…, created_at, last_seen_at, ip,
  user_agent, current}; `current` only for the session the request came
  with (never for a key); the User-Agent kept printable and capped; org
  keys 403, nobody 401.
- DELETE /v1/me/sessions/{id}: 204 with Content-Length 0; that cookie is
  refused on the very next request; another user's session, a malformed
  and an unknown id are all 404; a cookie write needs X-CSRF-Token.
- last_seen_at: written in batches (at the latest at shutdown), so after a
  restart it is later than the login.
- PATCH /v1/me/password: wrong current password 400 (field
  current_password), a new password that breaks the signup rules 400
  (field new_password); success 204, every other session ends, this one
  stays, the old password stops working, access keys keep working; by a
  personal key every session ends; an org key 403.
- At most 50 sessions per user: the 51st login ends the oldest.
- Signups per client address (--signup-limit): past the limit 429 with
  Retry-After, while another address still signs up and logins from the
  flooding address and others keep answering. A flood of parallel signups
  from one address never makes a login wait behind it; nor does one from
  200 addresses of one IPv6 /64 (a private network namespace, root only),
  which gets the limit of one client.
- The SQLite database, -wal and -shm are created mode 0600 (pg: n/a).
"""
import concurrent.futures
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import unittest

from support import BACKEND, PASSWORD, Client, ServerCase, lkserver, uemail

SESSION_CAP = 50
UA_CAP = 255


class Sessions(ServerCase):
    def login_as(self, email, ua=None, source=None):
        c = Client(self.url, source_address=(source, 0) if source else None)
        r = c.post("/v1/auth/login", {"email": email, "password": PASSWORD},
                   headers={"User-Agent": ua} if ua is not None else None)
        self.assertEqual(r.status, 200, r)
        c.csrf = r.json["csrf_token"]
        return c

    def sessions(self, c):
        body = self.ok(c.get("/v1/me/sessions"))
        self.assert_list_shape(body)
        return body["data"]

    def test_list_shape_and_current(self):
        u = self.user()
        other = self.login_as(u.email, ua="Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0",
                              source="127.0.0.2")
        mine = self.sessions(u)
        self.assertEqual(len(mine), 2, mine)
        for s in mine:
            self.assertEqual(set(s), {"id", "created_at", "last_seen_at", "ip", "user_agent", "current"}, s)
            self.assert_id(s["id"], "ses")
            self.assert_time(s["created_at"], near=time.time())
            self.assert_time(s["last_seen_at"], near=time.time())
            self.assertIsInstance(s["current"], bool)
        self.assertEqual([s["current"] for s in mine].count(True), 1, mine)
        theirs = self.sessions(other)
        cur_u = next(s for s in mine if s["current"])
        cur_o = next(s for s in theirs if s["current"])
        self.assertNotEqual(cur_u["id"], cur_o["id"])
        self.assertEqual(cur_o["ip"], "127.0.0.2")
        self.assertEqual(cur_o["user_agent"], "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0")
        self.assertEqual(cur_u["ip"], "127.0.0.1")
        # newest first
        self.assertGreaterEqual(mine[0]["created_at"], mine[1]["created_at"])

    def test_user_agent_kept_printable_and_capped(self):
        u = self.user()
        c = self.login_as(u.email, ua="x" * 1000)
        cur = next(s for s in self.sessions(c) if s["current"])
        self.assertLessEqual(len(cur["user_agent"]), UA_CAP)
        self.assertTrue(cur["user_agent"].startswith("xxxx"))
        # a tab and a latin-1 byte (picohttpparser refuses other control bytes itself)
        c2 = self.login_as(u.email, ua="evil\tagent\u00e9")
        cur = next(s for s in self.sessions(c2) if s["current"])
        self.assertTrue(all(0x20 <= ord(ch) < 0x7f for ch in cur["user_agent"]), cur)

    def test_by_keys(self):
        u = self.user()
        pk = self.make_pkey(u)["token"]
        listed = self.sessions(self.bearer(pk))
        self.assertTrue(listed and not any(s["current"] for s in listed), listed)
        org = self.make_org(u)
        ok = self.make_okey(u, org["id"])["token"]
        self.assert_error(self.bearer(ok).get("/v1/me/sessions"), 403, "forbidden")
        self.assert_error(self.bearer(ok).delete("/v1/me/sessions/" + listed[0]["id"]), 403, "forbidden")
        self.assert_error(self.anon().get("/v1/me/sessions"), 401, "unauthenticated")

    def test_revoke_one(self):
        u = self.user()
        victim = self.login_as(u.email, source="127.0.0.3")
        vid = next(s for s in self.sessions(victim) if s["current"])["id"]
        self.assertEqual(victim.get("/v1/me").status, 200)
        # a cookie write without the CSRF token is refused
        self.assert_error(u.delete("/v1/me/sessions/" + vid, csrf=False), 403, "forbidden")
        r = u.delete("/v1/me/sessions/" + vid)
        self.ok(r, 204)
        self.assertEqual(r.header("Content-Length"), "0", r)
        self.assert_error(victim.get("/v1/me"), 401, "unauthenticated")
        self.assertNotIn(vid, [s["id"] for s in self.sessions(u)])
        self.assert_error(u.delete("/v1/me/sessions/" + vid), 404, "not_found")

    def test_revoke_not_yours_or_malformed(self):
        a, b = self.user(), self.user()
        bid = next(s for s in self.sessions(b) if s["current"])["id"]
        for path in ("/v1/me/sessions/" + bid, "/v1/me/sessions/ses_notanid",
                     "/v1/me/sessions/key_AAAAAAAAAAAAAAAAAAAA", "/v1/me/sessions/ses_AAAAAAAAAAAAAAAAAAAA"):
            self.assert_error(a.delete(path), 404, "not_found", msg=path)
        self.assertEqual(b.get("/v1/me").status, 200, "another user's session was ended")

    def test_revoke_own_current(self):
        u = self.user()
        me = next(s for s in self.sessions(u) if s["current"])["id"]
        self.ok(u.delete("/v1/me/sessions/" + me), 204)
        self.assert_error(u.get("/v1/me"), 401, "unauthenticated")

    def test_pagination(self):
        u = self.user()
        for _ in range(4):
            self.login_as(u.email)
        everything = self.sessions(u)
        self.assertEqual(len(everything), 5)
        walked = self.list_all(u, "/v1/me/sessions", limit=2)
        self.assertEqual([s["id"] for s in walked], [s["id"] for s in everything])
        self.assert_error(u.get("/v1/me/sessions?limit=0"), 400, "validation_failed", field="limit")
        self.assert_error(u.get("/v1/me/sessions?cursor=zz"), 400, "validation_failed", field="cursor")

    def test_cap_50_oldest_end(self):
        u = self.user()  # session 1
        clients = [u] + [self.login_as(u.email) for _ in range(SESSION_CAP + 4)]
        listed = self.sessions(clients[-1])
        self.assertEqual(len(listed), SESSION_CAP, "more than %d sessions kept" % SESSION_CAP)
        for c in clients[:5]:
            self.assert_error(c.get("/v1/me"), 401, "unauthenticated", msg="an oldest session survived")
        for c in clients[5:]:
            self.assertEqual(c.get("/v1/me").status, 200, "a newer session was ended")


class Password(ServerCase):
    NEW = "a brand new passphrase"

    def test_change(self):
        u = self.user()
        second = Client(self.url)
        second.login(u.email, PASSWORD)
        pk = self.make_pkey(u)["token"]
        e = self.assert_error(u.patch("/v1/me/password", {"current_password": "wrong one!", "new_password": self.NEW}),
                              400, "validation_failed", field="current_password")
        self.assertNotIn("wrong one", e["message"])
        self.assert_error(u.patch("/v1/me/password", {"current_password": PASSWORD, "new_password": "short"}),
                          400, "validation_failed", field="new_password")
        self.assert_error(u.patch("/v1/me/password", {"current_password": PASSWORD}), 400, "validation_failed",
                          field="new_password")
        self.assert_error(u.patch("/v1/me/password", {"new_password": self.NEW}), 400, "validation_failed",
                          field="current_password")
        self.assert_error(u.patch("/v1/me/password", {"current_password": PASSWORD, "new_password": self.NEW},
                                  csrf=False), 403, "forbidden")
        self.assertEqual(second.get("/v1/me").status, 200, "a refused change ended a session")
        r = u.patch("/v1/me/password", {"current_password": PASSWORD, "new_password": self.NEW})
        self.ok(r, 204)
        self.assertEqual(r.header("Content-Length"), "0", r)
        self.assertEqual(u.get("/v1/me").status, 200, "the session that changed the password ended")
        self.assert_error(second.get("/v1/me"), 401, "unauthenticated", msg="another session survived")
        self.assertEqual(self.bearer(pk).get("/v1/me").status, 200, "a personal key stopped working")
        self.assert_error(Client(self.url).post("/v1/auth/login", {"email": u.email, "password": PASSWORD}),
                          401, "unauthenticated")
        Client(self.url).login(u.email, self.NEW)

    def test_by_keys(self):
        u = self.user()
        pk = self.make_pkey(u)["token"]
        org = self.make_org(u)
        ok = self.make_okey(u, org["id"])["token"]
        body = {"current_password": PASSWORD, "new_password": self.NEW}
        self.assert_error(self.bearer(ok).patch("/v1/me/password", body), 403, "forbidden")
        self.ok(self.bearer(pk).patch("/v1/me/password", body), 204)
        self.assert_error(u.get("/v1/me"), 401, "unauthenticated", msg="by a key, every session ends")
        Client(self.url).login(u.email, self.NEW)

    def test_wrong_current_is_throttled(self):
        u = self.user()
        got = None
        for _ in range(40):
            r = u.patch("/v1/me/password", {"current_password": "not it at all", "new_password": self.NEW})
            if r.status == 429:
                got = r
                break
            self.assertEqual(r.status, 400, r)
        self.assertIsNotNone(got, "guessing the current password is never throttled")
        self.assert_error(got, 429, "rate_limited")


class SignupThrottle(ServerCase):
    LIMIT = 5
    server_args = ("--signup-limit", str(LIMIT))

    def signup_from(self, source, email=None):
        c = Client(self.url, source_address=(source, 0))
        return c.post("/v1/auth/signup", {"email": email or uemail("s"), "password": PASSWORD, "name": "S"})

    def test_per_address(self):
        existing = self.user()
        for i in range(self.LIMIT):
            self.assertEqual(self.signup_from("127.0.0.20").status, 201, i)
        r = self.signup_from("127.0.0.20")
        self.assert_error(r, 429, "rate_limited")
        self.assertLessEqual(int(r.header("Retry-After")), 3600)
        # another address is not affected, and logins from the flooding address still answer
        self.assertEqual(self.signup_from("127.0.0.21").status, 201)
        c = Client(self.url, source_address=("127.0.0.20", 0))
        c.login(existing.email, PASSWORD)

    def test_flood_leaves_logins_answering(self):
        existing = self.user()
        src = "127.0.0.22"

        def one(i):
            return self.signup_from(src).status

        with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
            futs = [pool.submit(one, i) for i in range(200)]
            t0 = time.time()
            c = Client(self.url, source_address=("127.0.0.23", 0))
            c.login(existing.email, PASSWORD)
            login_secs = time.time() - t0
            statuses = [f.result() for f in futs]
        self.assertEqual(statuses.count(201), self.LIMIT, "signups past the limit were served")
        self.assertEqual(statuses.count(429), 200 - self.LIMIT, sorted(set(statuses)))
        self.assertLess(login_secs, 10, "a login waited behind the signup flood")

    def test_bad_flag(self):
        for bad in ("-1", "x", "99999999999"):
            p = lkserver.subprocess.run([lkserver.LATCHKEYD, "--signup-limit", bad], capture_output=True,
                                        timeout=10)
            self.assertEqual(p.returncode, 2, (bad, p))
            self.assertIn(b"--signup-limit", p.stderr)


@unittest.skipUnless(BACKEND == "sqlite" and os.geteuid() == 0 and shutil.which("unshare") and shutil.which("ip"),
                     "needs root, unshare and ip for a private network namespace (its own IPv6 /64); "
                     "the rule is the same on both backends (tests/unit/test_service.c covers it on pg)")
class SignupFloodIPv6(unittest.TestCase):
    """A signup flood from 200 distinct addresses of one IPv6 /64 (a private
    network namespace: tests/blackbox/v6flood.py) gets LIMIT signups in all,
    while logins from inside and outside that /64 answer at once and another
    /64 still signs up."""
    LIMIT = 5
    FLOOD = 200

    def test_one_64_is_one_client(self):
        tmp = tempfile.mkdtemp(prefix="lk-v6-")
        try:
            p = subprocess.run(["unshare", "-n", sys.executable, os.path.join(os.path.dirname(__file__), "v6flood.py"),
                                lkserver.LATCHKEYD, os.path.join(tmp, "latchkey.db"), str(self.LIMIT), str(self.FLOOD)],
                               capture_output=True, timeout=300)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self.assertEqual(p.returncode, 0, p.stderr.decode(errors="replace")[-2000:])
        out = json.loads(p.stdout.decode().strip().splitlines()[-1])
        self.assertEqual(out["setup"], 201, out)
        flood = out["flood"]
        self.assertEqual(flood.count(201), self.LIMIT, "one /64 got more than its signups: %r" % sorted(set(flood)))
        self.assertEqual(flood.count(429), self.FLOOD - self.LIMIT, sorted(set(flood)))
        for where in ("login_inside", "login_outside"):
            status, secs = out[where]
            self.assertEqual(status, 200, (where, out[where]))
            self.assertLess(secs, 10, "%s waited behind the flood" % where)
        self.assertEqual(out["other_64"], 201, "another /64 was refused")


class Transport(ServerCase):
    def test_no_hsts_over_plain_http(self):
        for path in ("/healthz", "/", "/v1/nothing"):
            r = self.anon().get(path)
            self.assertIsNone(r.header("Strict-Transport-Security"), "%s over plain HTTP: %r" % (path, r))

    @unittest.skipUnless(BACKEND == "sqlite", "file modes: SQLite only (PostgreSQL keeps no files here)")
    def test_database_files_owner_only(self):
        u = self.user()  # writes, so -wal holds pages
        self.make_org(u)
        path = self.srv.sqlite_path()
        for suffix in ("", "-wal", "-shm"):
            f = path + suffix
            self.assertTrue(os.path.exists(f), f)
            mode = stat.S_IMODE(os.stat(f).st_mode)
            self.assertEqual(mode & 0o077, 0, "%s is mode %o" % (f, mode))


class LastSeen(ServerCase):
    def test_written_by_shutdown_at_the_latest(self):
        u = self.user()
        first = next(s for s in self.ok(u.get("/v1/me/sessions"))["data"] if s["current"])
        time.sleep(1.2)
        self.assertEqual(u.get("/v1/me").status, 200)
        self.srv.restart()
        u.close()
        after = next(s for s in self.ok(u.get("/v1/me/sessions"))["data"] if s["current"])
        self.assertEqual(after["id"], first["id"])
        self.assertGreater(after["last_seen_at"], first["created_at"], after)


if __name__ == "__main__":
    unittest.main()
