"""
test_http.py — the HTTP surface itself: /healthz and /readyz, unknown routes
(404 in the error shape), wrong methods (405), path tricks, raw protocol
abuse (chunked bodies, lying Content-Length, garbage bytes), and the
success-side conventions (JSON Content-Type, empty 204s).
"""
import json
import socket
import time

from support import ServerCase, BACKEND, uname
import lkserver


class Health(ServerCase):
    def test_healthz(self):
        r = self.anon().get("/healthz")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, {"status": "ok"})
        self.assertTrue((r.header("Content-Type") or "").startswith("application/json"))

    def test_readyz(self):
        r = self.anon().get("/readyz")
        self.assertEqual(r.status, 200, r)

    def test_health_needs_no_credential_and_ignores_bad_ones(self):
        for h in ({"Authorization": "Bearer junk"}, {"Cookie": "latchkey_session=junk"}):
            self.assertEqual(self.anon().get("/healthz", headers=h).status, 200)
            self.assertEqual(self.anon().get("/readyz", headers=h).status, 200)


class Routes(ServerCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        tc = cls("run")
        cls.c = tc.user()
        cls.org = tc.make_org(cls.c)["id"]
        cls.prj = tc.make_project(cls.c, cls.org)["id"]
        cls.env = tc.make_env(cls.c, cls.org, cls.prj)["id"]
        cls.pk = tc.make_pkey(cls.c)
        cls.okey = tc.make_okey(cls.c, cls.org)
        cls.b = lkserver.Client(cls.srv.url, token=cls.pk["token"])
        cls.other = other = tc.user()
        cls.other_org = tc.make_org(other, "secret-org-name")["id"]
        cls.other_prj = tc.make_project(other, cls.other_org, "secret-project-name")["id"]

    def fmt(self, p):
        return p.format(org=self.org, prj=self.prj, env=self.env, pk=self.pk["id"], ok=self.okey["id"],
                        usr=self.c.user["id"], other=self.other_org, oprj=self.other_prj)

    def test_unknown_routes_404(self):
        for p in ("/v1/nope", "/v1/organizations/{org}/nope", "/v1/organizations/{org}/projects/{prj}/nope",
                  "/v1/me/nope", "/v1/auth/nope", "/v1/auth", "/v1", "/v1/", "/v1/me/access-keys/{pk}/nope",
                  "/v1/organizations/{org}/projects/{prj}/environments/{env}/nope", "/v1/users",
                  "/v1/organizations/{org}/billing/nope", "/v1/organizations/{org}/members/{usr}/nope",
                  "/v2/me", "/v1/ME", "/V1/me", "/v1/whoami/x"):
            p = self.fmt(p)
            for who in (self.c, self.b):
                with self.subTest(path=p):
                    r = who.get(p)
                    if not p.startswith("/v1"):
                        # outside /v1 the dashboard may answer; never a 5xx
                        self.assertLess(r.status, 500, r)
                        continue
                    self.assert_error(r, 404, "not_found", msg="GET " + p)

    # (method, path): the path exists, the method does not
    WRONG_METHODS = [
        ("PUT", "/v1/me"), ("DELETE", "/v1/me"), ("POST", "/v1/me"),
        ("GET", "/v1/auth/login"), ("GET", "/v1/auth/signup"), ("GET", "/v1/auth/logout"),
        ("DELETE", "/v1/auth/session"), ("POST", "/v1/whoami"), ("PATCH", "/v1/whoami"),
        ("PUT", "/v1/organizations"), ("DELETE", "/v1/organizations"), ("PATCH", "/v1/organizations"),
        ("POST", "/v1/organizations/{org}"), ("PUT", "/v1/organizations/{org}"),
        ("PATCH", "/v1/organizations/{org}/members"), ("DELETE", "/v1/organizations/{org}/members"),
        ("PUT", "/v1/organizations/{org}/members/{usr}"), ("POST", "/v1/organizations/{org}/members/{usr}"),
        ("PUT", "/v1/organizations/{org}/projects"), ("DELETE", "/v1/organizations/{org}/projects"),
        ("POST", "/v1/organizations/{org}/projects/{prj}"), ("PUT", "/v1/organizations/{org}/projects/{prj}"),
        ("DELETE", "/v1/organizations/{org}/projects/{prj}/environments"),
        ("POST", "/v1/organizations/{org}/projects/{prj}/environments/{env}"),
        ("POST", "/v1/organizations/{org}/billing"), ("DELETE", "/v1/organizations/{org}/billing"),
        ("PUT", "/v1/organizations/{org}/billing"),
        ("DELETE", "/v1/organizations/{org}/access-keys"), ("PATCH", "/v1/organizations/{org}/access-keys"),
        ("GET", "/v1/organizations/{org}/access-keys/{ok}"), ("POST", "/v1/organizations/{org}/access-keys/{ok}"),
        ("DELETE", "/v1/me/access-keys"), ("PATCH", "/v1/me/access-keys"),
        ("GET", "/v1/me/access-keys/{pk}"), ("POST", "/v1/me/access-keys/{pk}"), ("PUT", "/v1/me/access-keys/{pk}"),
        ("POST", "/healthz"), ("DELETE", "/healthz"), ("POST", "/readyz"),
    ]

    def test_wrong_method_405(self):
        for method, p in self.WRONG_METHODS:
            p = self.fmt(p)
            with self.subTest(method=method, path=p):
                r = self.c.request(method, p, json={"name": "x"} if method in ("POST", "PUT", "PATCH") else None)
                self.assert_error(r, 405, "method_not_allowed", msg="%s %s" % (method, p))
        # nothing was harmed
        self.ok(self.c.get(self.fmt("/v1/organizations/{org}/projects/{prj}")))
        self.ok(self.b.get("/v1/me"))

    def test_wrong_method_405_has_allow(self):
        # RFC 9110 15.5.6: a 405 MUST carry Allow
        for method, p, must in (("PUT", "/v1/me", {"GET", "PATCH"}),
                                ("DELETE", "/v1/organizations", {"GET", "POST"}),
                                ("POST", "/v1/me/access-keys/{pk}", {"PATCH", "DELETE"})):
            r = self.c.request(method, self.fmt(p), json={} if method != "DELETE" else None)
            self.assertEqual(r.status, 405, r)
            allow = {m.strip().upper() for m in (r.header("Allow") or "").split(",") if m.strip()}
            self.assertTrue(must <= allow, "%s %s: Allow %r" % (method, p, r.header("Allow")))

    def test_success_bodies_are_json(self):
        for p in ("/v1/me", "/v1/whoami", "/v1/organizations", "/v1/organizations/{org}",
                  "/v1/organizations/{org}/projects", "/v1/me/access-keys"):
            r = self.c.get(self.fmt(p))
            self.assertEqual(r.status, 200, r)
            self.assertTrue((r.header("Content-Type") or "").startswith("application/json"), r.headers)
            self.assertIsNotNone(r.json)

    def test_204_has_no_body(self):
        p = self.make_project(self.c, self.org)["id"]
        r = self.c.delete("/v1/organizations/%s/projects/%s" % (self.org, p))
        self.assertEqual(r.status, 204)
        self.assertEqual(r.body, "")
        self.assertIn(r.header("Content-Length"), (None, "0"))

    def test_query_strings_are_harmless(self):
        for q in ("?", "?x=1", "?x=1&&=&%zz", "?limit=5&limit=6", "?cursor=&limit=", "?%00=%00"):
            with self.subTest(q=q):
                r = self.c.get("/v1/me" + q)
                self.assertEqual(r.status, 200, r)

    def _no_leak(self, r, what):
        self.assert_no_500(r, what)
        self.assertNotIn("secret-org-name", r.body, what)
        self.assertNotIn("secret-project-name", r.body, what)
        self.assertNotIn(self.other_prj, r.body, what)

    def test_path_tricks_never_reach_other_orgs(self):
        tricks = [
            "/v1/organizations/{org}/../{other}",
            "/v1/organizations/{org}/%2e%2e/{other}",
            "/v1/organizations/{org}/%2E%2E/{other}",
            "/v1/organizations/{org}/projects/../../{other}/projects",
            "/v1/organizations/{org}/projects/%2e%2e/%2e%2e/{other}/projects/{oprj}",
            "/v1/organizations/{org}/projects/..%2f..%2f{other}%2fprojects",
            "/v1/organizations/{org}%2f..%2f{other}",
            "/v1/organizations/{other}%00",
            "/v1/organizations/{other}%00/projects",
            "/v1/organizations/{org}%00{other}",
            "/v1/organizations/{other}/projects/{oprj}",
            "/v1/organizations/{org}/projects/{oprj}",
            "/v1/organizations//{other}",
            "//v1/organizations/{other}",
            "/v1/organizations/{other}/",
            "/v1/organizations/./{other}",
            "/v1/organizations/{org};/{other}",
            "/v1/organizations/{other}%20",
            "/v1/organizations/%20{other}",
            "/v1/organizations/{other}?x=/../{org}",
            "/v1/organizations/{other}#frag",
        ]
        for t in tricks:
            p = self.fmt(t)
            for who in (self.c, self.b, lkserver.Client(self.url, token=self.okey["token"])):
                with self.subTest(path=p):
                    for method in ("GET", "PATCH", "DELETE"):
                        r = who.request(method, p, json={"name": "hijack"} if method == "PATCH" else None)
                        self._no_leak(r, "%s %s" % (method, p))
                        self.assertFalse(200 <= r.status < 300 and method != "GET",
                                         "%s %s changed something: %r" % (method, p, r))
        # the other org is untouched
        self.assertEqual(self.ok(self.other.get("/v1/organizations/" + self.other_org))["name"], "secret-org-name")
        self.assertEqual(self.ok(self.other.get("/v1/organizations/%s/projects/%s" % (
            self.other_org, self.other_prj)))["name"], "secret-project-name")

    def test_path_tricks_are_clean_errors(self):
        for t in ("/v1/organizations/{org}%00", "/v1/organizations/%00", "/v1/me/access-keys/%00",
                  "/v1/organizations/{org}/projects/%2e%2e", "/v1/organizations/%2e%2e",
                  "/v1/organizations/%ff%fe", "/v1/organizations/%", "/v1/organizations/%zz",
                  "/v1/organizations/" + "A" * 8000, "/v1/me//", "/v1/me/", "//v1//me",
                  "/v1/organizations/{org}/projects/", "/v1/./me", "/v1/me/.", "/v1/%6de"):
            p = self.fmt(t)
            with self.subTest(path=p):
                r = self.c.get(p)
                self.assert_no_500(r, "GET " + p)
                self.assertIn(r.status, (200, 400, 404, 414), r)

    def test_id_with_trailing_junk_is_404(self):
        for t in ("/v1/organizations/{org}%00", "/v1/organizations/{org}x", "/v1/organizations/{org}%20",
                  "/v1/organizations/{org}/projects/{prj}%00", "/v1/organizations/{org}/projects/{prj}Z"):
            p = self.fmt(t)
            with self.subTest(path=p):
                self.assert_error(self.c.get(p), 404, "not_found")


class RawProtocol(ServerCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        tc = cls("run")
        c = tc.user()
        cls.token = tc.make_pkey(c)["token"]

    def req(self, method, path, extra=b"", body=b"", headers=()):
        h = "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n" % (method, path, self.token)
        for k, v in headers:
            h += "%s: %s\r\n" % (k, v)
        return h.encode() + extra + b"\r\n" + body

    def healthy(self):
        self.ok(lkserver.Client(self.url, token=self.token).get("/v1/me"))

    def test_chunked_small_body_works(self):
        body = json.dumps({"name": "chunked"}).encode()
        chunks = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
        r = lkserver.raw_http(self.url, self.req("POST", "/v1/organizations", body=chunks, headers=(
            ("Content-Type", "application/json"), ("Transfer-Encoding", "chunked"), ("Connection", "close"))))
        self.assertIsNotNone(r)
        self.assertEqual(r.status, 201, r)

    def test_chunked_oversized_body_413(self):
        part = b"p" * 8192
        chunks = b'1a\r\n{"name": "big", "pad": "xx\r\n'
        for _ in range(10):
            chunks += b"%x\r\n%s\r\n" % (len(part), part)
        chunks += b'2\r\n"}\r\n0\r\n\r\n'
        r = lkserver.raw_http(self.url, self.req("POST", "/v1/organizations", body=chunks, headers=(
            ("Content-Type", "application/json"), ("Transfer-Encoding", "chunked"), ("Connection", "close"))),
            timeout=20)
        self.assertIsNotNone(r, "the connection was dropped: no 413 for an 80 KiB chunked body")
        self.assert_error(r, 413, "payload_too_large")
        self.healthy()

    def test_lying_content_length_413_without_waiting(self):
        r = lkserver.raw_http(self.url, self.req("POST", "/v1/organizations", headers=(
            ("Content-Type", "application/json"), ("Content-Length", "100000000"), ("Connection", "close"))),
            timeout=15)
        self.assertIsNotNone(r, "no answer to a 100 MB Content-Length: the server waited for the body")
        self.assert_error(r, 413, "payload_too_large")
        self.healthy()

    def test_short_body_then_close(self):
        lkserver.raw_http(self.url, self.req("POST", "/v1/organizations", body=b'{"na', headers=(
            ("Content-Type", "application/json"), ("Content-Length", "500"))), timeout=2, half_close=True)
        self.healthy()

    def test_garbage_bytes_do_not_hurt(self):
        for junk in (b"GARBAGE\r\n\r\n", b"\x00\x01\x02\xff" * 100, b"GET / HTTP/9.9\r\n\r\n",
                     b"GET /v1/me HTTP/1.1\r\nHost: x\r\nBad Header Without Colon\r\n\r\n",
                     b"GET /v1/me HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 100000 + b"\r\n\r\n",
                     b"GET " + b"/v1/me" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
                     b"POST /v1/organizations HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
                     b"POST /v1/organizations HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 50\r\n\r\n{}",
                     b"POST /v1/organizations HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                     b"GET /v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\r\nAuthorization: Bearer b\r\n\r\n",
                     b"GET /v1/me HTTP/1.1\r\nHost: x\r\nCookie: latchkey_session=a\r\nCookie: latchkey_session=b\r\n\r\n",
                     b"GET /v1/me HTTP/1.0\r\n\r\n", b"\r\n\r\n\r\n"):
            with self.subTest(junk=junk[:40]):
                r = lkserver.raw_http(self.url, junk, timeout=5, half_close=True)
                if r is not None:
                    self.assertLess(r.status, 500, r)
                self.healthy()

    def test_many_requests_on_one_connection(self):
        c = lkserver.Client(self.url, token=self.token)
        for i in range(200):
            self.assertEqual(c.get("/v1/me").status, 200)

    def test_slow_client_does_not_block_others(self):
        s = socket.create_connection(("127.0.0.1", self.srv.port))
        try:
            s.sendall(b"POST /v1/organizations HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
            t0 = time.time()
            self.healthy()
            self.assertLess(time.time() - t0, 5, "one stalled client held up another")
        finally:
            s.close()


class ReadyWhenStoreGone(ServerCase):
    """/readyz says 503 when the store does not answer (PostgreSQL: the
    database is dropped under the running server); requests then fail
    with 503 `unavailable`, never a stack or a query."""

    def test_readyz_503_when_store_gone(self):
        if BACKEND != "pg":
            self.skipTest("needs a store that can vanish under a running server (pg)")
        c = self.user()
        pk = self.make_pkey(c)["token"]
        lkserver.pg_drop_database(self.srv.db_url)
        deadline = time.time() + 20
        r = None
        while time.time() < deadline:
            r = self.anon().get("/readyz")
            if r.status == 503:
                break
            time.sleep(0.2)
        self.assertEqual(r.status, 503, r)
        r = self.bearer(pk).get("/v1/me")
        self.assert_error(r, 503, "unavailable")
        for bad in ("SELECT", "select", "pq", "postgres", "FATAL", "ERROR:"):
            self.assertNotIn(bad, r.json["error"]["message"])
        self.assertEqual(self.anon().get("/healthz").status, 200)
