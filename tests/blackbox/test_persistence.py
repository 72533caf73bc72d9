"""
test_persistence.py — what must survive the process: SIGTERM (exit 0, data
and keys kept, last_used_at flushed), SIGKILL (acknowledged creates survive,
acknowledged deletes stay deleted), and what must never be kept: no token or
password in the store's bytes or in the server's output (api.md "The
server", "Tokens"). Each test owns its server, since each stops it.
"""
import secrets
import signal
import threading
import time
import unittest

from support import BACKEND, PASSWORD, Server, ServerCase, parse_time, uemail, uname, fmt_time
import lkserver


class OwnServer(unittest.TestCase):
    """A fresh server per test (these tests stop and start it)."""

    def setUp(self):
        self.srv = Server(backend=BACKEND).start()
        self.addCleanup(self.srv.cleanup)
        self.h = ServerCase("run")     # borrow the asserts and builders
        self.h.srv = self.srv

    def restart(self, sig=signal.SIGTERM):
        rc = self.srv.restart_on_new_port(sig)
        self.h.srv = self.srv
        return rc


class Restart(OwnServer):
    def test_sigterm_exits_0_and_everything_survives(self):
        h = self.h
        c = h.user(name="Persistent")
        m = h.user()
        org = h.make_org(c, "Durable Org")
        prj = h.make_project(c, org["id"], "Durable Project")
        env = h.make_env(c, org["id"], prj["id"], "Durable Env")
        h.add_member(c, org["id"], m.email)
        h.ok(c.patch("/v1/organizations/%s/billing" % org["id"], {"plan": "pro", "billing_email": "b@example.com"}))
        pk = h.make_pkey(c, "durable pk")
        ok = h.make_okey(c, org["id"], "durable ok", expires_at="2099-01-01T00:00:00Z")
        before = {p: h.ok(c.get(p)) for p in (
            "/v1/me", "/v1/organizations/" + org["id"], "/v1/organizations/%s/billing" % org["id"],
            "/v1/organizations/%s/projects/%s" % (org["id"], prj["id"]),
            "/v1/organizations/%s/projects/%s/environments/%s" % (org["id"], prj["id"], env["id"]))}
        members_before = h.list_all(c, "/v1/organizations/%s/members" % org["id"])
        self.assertEqual(self.restart(), 0, "SIGTERM must exit 0:\n" + self.srv.log_text()[-2000:])
        c2 = lkserver.Client(self.srv.url)
        c2.login(c.email, PASSWORD)
        for p, body in before.items():
            self.assertEqual(h.ok(c2.get(p)), body, p)
        self.assertEqual(h.list_all(c2, "/v1/organizations/%s/members" % org["id"]), members_before)
        self.assertEqual(h.ok(lkserver.Client(self.srv.url, token=pk["token"]).get("/v1/me"))["id"], c.user["id"])
        self.assertEqual(h.ok(lkserver.Client(self.srv.url, token=ok["token"]).get(
            "/v1/organizations/" + org["id"]))["name"], "Durable Org")
        keys = h.list_all(c2, "/v1/organizations/%s/access-keys" % org["id"])
        k = [x for x in keys if x["id"] == ok["id"]][0]
        self.assertEqual((k["name"], k["redacted"], k["created_at"]), ("durable ok", ok["redacted"], ok["created_at"]))
        self.assertEqual(parse_time(k["expires_at"]), parse_time("2099-01-01T00:00:00Z"))

    def test_sigint_exits_0(self):
        h = self.h
        h.user()
        self.assertEqual(self.srv.stop(signal.SIGINT), 0, self.srv.log_text()[-2000:])

    def test_last_used_at_set_after_use_and_flush(self):
        h = self.h
        c = h.user()
        org = h.make_org(c)["id"]
        pk, ok, idle = h.make_pkey(c), h.make_okey(c, org), h.make_pkey(c)
        t0 = time.time()
        h.ok(lkserver.Client(self.srv.url, token=pk["token"]).get("/v1/me"))
        h.ok(lkserver.Client(self.srv.url, token=ok["token"]).get("/v1/organizations/" + org))
        self.assertEqual(self.restart(), 0)       # SIGTERM flushes usage
        c2 = lkserver.Client(self.srv.url)
        c2.login(c.email, PASSWORD)
        pks = {x["id"]: x for x in h.list_all(c2, "/v1/me/access-keys")}
        oks = {x["id"]: x for x in h.list_all(c2, "/v1/organizations/%s/access-keys" % org)}
        for k in (pks[pk["id"]], oks[ok["id"]]):
            self.assertIsNotNone(k["last_used_at"], "last_used_at not kept across SIGTERM: %r" % k)
            t = h.assert_time(k["last_used_at"])
            self.assertGreaterEqual(t, int(t0) - 1)
            self.assertLessEqual(t, time.time() + 1)
            self.assertGreaterEqual(t, parse_time(k["created_at"]))
        self.assertIsNone(pks[idle["id"]]["last_used_at"], "an unused key got a last_used_at")

    def test_last_used_at_eventually_set_without_restart(self):
        # the contract allows up to 60 s of lag; poll, don't assume
        h = self.h
        c = h.user()
        pk = h.make_pkey(c)
        h.ok(lkserver.Client(self.srv.url, token=pk["token"]).get("/v1/me"))
        deadline = time.time() + 75
        while time.time() < deadline:
            k = [x for x in h.list_all(c, "/v1/me/access-keys") if x["id"] == pk["id"]][0]
            if k["last_used_at"]:
                h.assert_time(k["last_used_at"], near=time.time())
                return
            time.sleep(1)
        self.fail("last_used_at still null 75 s after use")

    def test_sigkill_keeps_acknowledged_writes(self):
        h = self.h
        c = h.user()
        org = h.make_org(c)["id"]
        path = "/v1/organizations/%s/projects" % org
        made = [h.make_project(c, org, "k%02d" % i)["id"] for i in range(20)]
        gone = made[::4]
        for g in gone:
            self.assertEqual(c.delete("%s/%s" % (path, g)).status, 204)
        keep_key, dead_key = h.make_pkey(c), h.make_pkey(c)
        self.assertEqual(c.delete("/v1/me/access-keys/" + dead_key["id"]).status, 204)
        okey = h.make_okey(c, org)
        renamed = h.ok(c.patch("%s/%s" % (path, made[1]), {"name": "renamed before kill"}))
        self.restart(signal.SIGKILL)
        b = lkserver.Client(self.srv.url, token=keep_key["token"])
        ids = [x["id"] for x in h.list_all(b, path)]
        self.assertEqual(set(ids), set(made) - set(gone))
        self.assertEqual(h.ok(b.get("%s/%s" % (path, made[1])))["name"], renamed["name"])
        h.assert_error(lkserver.Client(self.srv.url, token=dead_key["token"]).get("/v1/me"), 401, "unauthenticated")
        h.ok(lkserver.Client(self.srv.url, token=okey["token"]).get("/v1/organizations/" + org))
        c2 = lkserver.Client(self.srv.url)
        c2.login(c.email, PASSWORD)

    def test_sigkill_during_writes(self):
        """Writers run while the server is killed: every create that was
        answered 201 is there afterwards."""
        h = self.h
        c = h.user()
        org = h.make_org(c)["id"]
        token = h.make_pkey(c)["token"]
        path = "/v1/organizations/%s/projects" % org
        acked, stop = [], threading.Event()
        lock = threading.Lock()

        def writer(n):
            cl = lkserver.Client(self.srv.url, token=token, timeout=5)
            i = 0
            while not stop.is_set():
                try:
                    r = cl.post(path, {"name": "w%d-%d" % (n, i)})
                except OSError:
                    return
                if r.status == 201:
                    with lock:
                        acked.append(r.json["id"])
                i += 1

        ts = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for t in ts:
            t.start()
        deadline = time.time() + 30
        while len(acked) < 40 and time.time() < deadline:
            time.sleep(0.01)
        if len(acked) < 40:
            stop.set()
            self.fail("writers stalled: %d creates acknowledged in 30 s" % len(acked))
        self.srv.proc.send_signal(signal.SIGKILL)
        stop.set()
        for t in ts:
            t.join(10)
        self.srv.stop()
        with lock:
            acked_now = list(acked)
        self.srv.port = lkserver.free_port()
        self.srv.start()
        ids = {x["id"] for x in h.list_all(lkserver.Client(self.srv.url, token=token), path)}
        missing = [a for a in acked_now if a not in ids]
        self.assertEqual(missing, [], "acknowledged creates lost by SIGKILL")

    def test_sigterm_under_load_exits_0(self):
        h = self.h
        c = h.user()
        org = h.make_org(c)["id"]
        token = h.make_pkey(c)["token"]
        path = "/v1/organizations/%s/projects" % org
        acked, bad, stop = [], [], threading.Event()
        lock = threading.Lock()

        def writer(n):
            cl = lkserver.Client(self.srv.url, token=token, timeout=10)
            i = 0
            while not stop.is_set():
                try:
                    r = cl.post(path, {"name": "t%d-%d" % (n, i)})
                except OSError:
                    return
                with lock:
                    (acked.append(r.json["id"]) if r.status == 201 else bad.append(r))
                i += 1

        ts = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for t in ts:
            t.start()
        deadline = time.time() + 30
        while len(acked) < 20 and time.time() < deadline:
            time.sleep(0.01)
        if len(acked) < 20:
            stop.set()
            self.fail("writers stalled: %d creates acknowledged in 30 s" % len(acked))
        rc = self.srv.stop(signal.SIGTERM)
        stop.set()
        for t in ts:
            t.join(10)
        self.assertEqual(rc, 0, self.srv.log_text()[-2000:])
        for r in bad:
            self.assertLess(r.status, 500, r)
        self.srv.port = lkserver.free_port()
        self.srv.start()
        ids = {x["id"] for x in h.list_all(lkserver.Client(self.srv.url, token=token), path)}
        self.assertEqual([a for a in acked if a not in ids], [])


class Shutdown(OwnServer):
    def test_sigterm_finishes_request_whose_body_is_arriving(self):
        """Headers and half the body are in when SIGTERM arrives: the
        request still gets its answer, then the process exits 0."""
        import socket
        h = self.h
        c = h.user()
        org = h.make_org(c)["id"]
        token = h.make_pkey(c)["token"]
        body = b'{"name": "in flight"}'
        head = ("POST /v1/organizations/%s/projects HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                "Content-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                % (org, token, len(body))).encode()
        s = socket.create_connection(("127.0.0.1", self.srv.port), timeout=10)
        try:
            s.sendall(head + body[:8])
            time.sleep(0.2)
            self.srv.proc.send_signal(signal.SIGTERM)
            time.sleep(0.2)
            s.sendall(body[8:])
            buf = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
        finally:
            s.close()
        r = lkserver._parse_raw_response(buf, final=True)
        self.assertIsNotNone(r, "no answer to the request in flight: %r" % buf[:200])
        self.assertEqual(r.status, 201, r)
        self.assertEqual(self.srv.proc.wait(20), 0)
        self.srv.stop()
        self.srv.port = lkserver.free_port()
        self.srv.start()
        names = [p["name"] for p in h.list_all(lkserver.Client(self.srv.url, token=token),
                                               "/v1/organizations/%s/projects" % org)]
        self.assertIn("in flight", names)

    def test_sigterm_closes_idle_connection_while_request_arrives(self):
        """While a request is still arriving after SIGTERM, an idle
        keep-alive connection is closed (EOF) instead of being held open
        until the drain ends; the arriving request still gets its answer."""
        import socket
        h = self.h
        c = h.user()
        org = h.make_org(c)["id"]
        token = h.make_pkey(c)["token"]
        idle = socket.create_connection(("127.0.0.1", self.srv.port), timeout=10)
        busy = socket.create_connection(("127.0.0.1", self.srv.port), timeout=10)
        try:
            idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            first = b""
            while lkserver._parse_raw_response(first, final=False) is None:
                chunk = idle.recv(65536)
                self.assertTrue(chunk, "connection closed before the first answer")
                first += chunk
            body = b'{"name": "while idle closes"}'
            busy.sendall(("POST /v1/organizations/%s/projects HTTP/1.1\r\nHost: x\r\n"
                          "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
                          "Content-Length: %d\r\n\r\n" % (org, token, len(body))).encode()
                         + body[:5])
            time.sleep(0.2)
            self.srv.proc.send_signal(signal.SIGTERM)
            self.assertEqual(idle.recv(65536), b"", "idle connection was not closed")
            busy.sendall(body[5:])
            buf = b""
            while True:
                chunk = busy.recv(65536)
                if not chunk:
                    break
                buf += chunk
        finally:
            idle.close()
            busy.close()
        r = lkserver._parse_raw_response(buf, final=True)
        self.assertIsNotNone(r, "no answer to the request in flight: %r" % buf[:200])
        self.assertEqual(r.status, 201, r)
        self.assertEqual(self.srv.proc.wait(20), 0)

    def test_sigterm_finishes_running_handlers(self):
        """Logins (argon2id, tens of ms each) sent just before SIGTERM all
        get their answer."""
        import socket
        e = uemail("drain")
        lkserver.Client(self.srv.url).signup(e, PASSWORD, "Drain")
        body = ('{"email": "%s", "password": "%s"}' % (e, PASSWORD)).encode()
        req = ("POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               "Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)).encode() + body
        socks = [socket.create_connection(("127.0.0.1", self.srv.port), timeout=20) for _ in range(4)]
        try:
            for s in socks:
                s.sendall(req)
            time.sleep(0.005)
            self.srv.proc.send_signal(signal.SIGTERM)
            for s in socks:
                buf = b""
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    buf += chunk
                r = lkserver._parse_raw_response(buf, final=True)
                self.assertIsNotNone(r, "a login in flight got no answer")
                self.assertEqual(r.status, 200, r)
        finally:
            for s in socks:
                s.close()
        self.assertEqual(self.srv.proc.wait(20), 0)

    def test_idle_keepalive_does_not_hold_shutdown(self):
        import socket
        idle = [socket.create_connection(("127.0.0.1", self.srv.port)) for _ in range(5)]
        c = lkserver.Client(self.srv.url)
        self.assertEqual(c.get("/healthz").status, 200)      # an idle keep-alive connection too
        try:
            t0 = time.time()
            self.srv.proc.send_signal(signal.SIGTERM)
            rc = self.srv.proc.wait(30)
            self.assertEqual(rc, 0)
            self.assertLess(time.time() - t0, 30)
        finally:
            for s in idle:
                s.close()
            c.close()

    def test_stops_accepting_after_sigterm(self):
        self.assertEqual(self.srv.stop(), 0)
        import socket
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", self.srv.port), timeout=2).close()


class NoSecretsKept(OwnServer):
    def _secrets_scenario(self):
        h = self.h
        pw = "pw-" + secrets.token_hex(12)
        wrong = "wrong-" + secrets.token_hex(12)
        email = uemail("sec")
        c = lkserver.Client(self.srv.url)
        c.signup(email, pw, "Secret Keeper")
        c.login(email, pw)
        self.assertEqual(lkserver.Client(self.srv.url).post(
            "/v1/auth/login", {"email": email, "password": wrong}).status, 401)
        org = h.make_org(c)["id"]
        tokens = []
        for _ in range(3):
            tokens.append(h.make_pkey(c)["token"])
            tokens.append(h.make_okey(c, org)["token"])
        dead = h.make_pkey(c)
        tokens.append(dead["token"])
        self.assertEqual(c.delete("/v1/me/access-keys/" + dead["id"]).status, 204)
        new_pw = "pw2-" + secrets.token_hex(12)
        c2 = lkserver.Client(self.srv.url)
        c2.signup(uemail("sec2"), new_pw, "Another")
        forged = lkserver.forge_token("o")
        for t in tokens + [forged]:
            lkserver.Client(self.srv.url, token=t).get("/v1/me")
            lkserver.Client(self.srv.url, token=t).get("/v1/organizations/" + org)
        sessions = [c.cookies["latchkey_session"]]
        self.marker = email
        return [pw, wrong, new_pw] + tokens + [t[4:36] for t in tokens] + [forged], sessions

    def _check(self, blob, secrets_, where):
        self.assertTrue(blob, "nothing to inspect in " + where)
        # the control: what we read does hold this scenario's data
        self.assertIn(self.marker.encode(), blob, "the user's email is not in %s: wrong file?" % where)
        for s in secrets_:
            self.assertNotIn(s.encode(), blob, "a secret (%s…) is in %s" % (s[:6], where))

    def test_no_token_or_password_in_store(self):
        secrets_, _ = self._secrets_scenario()
        live = self.srv.dump_database()
        self.assertIsNotNone(live, "pg_dump is not installed (apt-get install postgresql)")
        self._check(live, secrets_, "the store (live)")
        self.assertEqual(self.srv.stop(), 0)
        self._check(self.srv.dump_database(), secrets_, "the store (after shutdown)")

    def test_no_secret_in_server_output(self):
        secrets_, sessions = self._secrets_scenario()
        self.assertEqual(self.srv.stop(), 0)
        log = self.srv.log_text().encode()
        for s in secrets_ + sessions:
            self.assertNotIn(s.encode(), log, "a secret (%s…) is in the server's output" % s[:6])
