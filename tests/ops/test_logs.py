"""
--log-format json and X-Request-Id.

  - JSON access log: after a session of every kind of request (signup,
    login, cookie and Bearer calls, a key created, tokens and secrets in
    query strings, invitation links, odd bytes in the path, h2o's own 413),
    every access-log line parses as one JSON object with the documented
    fields and types, there is one line per response, its request_id is the
    X-Request-Id the client got, the principal and key id are right, and no
    password, token, cookie, CSRF token, query string or invitation secret
    appears anywhere in the log;
  - X-Request-Id: a sane incoming id is echoed, anything else replaced by a
    generated one (table); every kind of response carries one; generated
    ids are unique; the text log ends each line with it.
"""
import json
import re
import secrets
import time
import unittest

from opsutil import BACKEND, Client, Server
import lkserver

GEN_ID = re.compile(r"^[a-z0-9]{20}$")
FIELDS = {"time": str, "request_id": str, "method": str, "path": str, "route": str,
          "status": int, "duration_ms": float, "client": str, "principal": str, "key_id": str}
TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def access_lines(log):
    """The access-log lines of a server log (the rest start with 'latchkeyd:'). Under a
    sanitizer build, LeakSanitizer's closing "Suppressions used:" block (framed by dashed
    lines, printed at exit by the runtime, not by latchkeyd) is left out too."""
    lines = log.splitlines()
    for i in range(len(lines) - 1):
        if set(lines[i]) == {"-"} and lines[i + 1] == "Suppressions used:":
            lines = lines[:i]
            break
    return [ln for ln in lines if ln and not ln.startswith("latchkeyd:")]


class TestJsonLog(unittest.TestCase):
    def test_every_line_is_json_and_holds_no_secret(self):
        srv = Server(backend=BACKEND, args=["--log-format", "json"])
        secrets_seen, ids = [], []  # what must never be logged; X-Request-Ids the client got
        try:
            srv.start()  # its readiness probes are GET /healthz: left out below
            email = "log-%s@example.com" % secrets.token_hex(4)
            password = "pw-" + secrets.token_hex(8)
            secrets_seen.append(password)
            c = Client(srv.url)

            def note(r):
                ids.append(r.header("X-Request-Id"))
                return r

            note(c.post("/v1/auth/signup", {"email": email, "password": password, "name": "L"}))
            r = note(c.post("/v1/auth/login", {"email": email, "password": password}))
            self.assertEqual(r.status, 200, r)
            c.csrf = r.json["csrf_token"]
            secrets_seen += [c.csrf] + list(c.cookies.values())
            note(c.get("/v1/me"))
            note(c.patch("/v1/me", {"name": "L2"}))
            r = note(c.post("/v1/me/access-keys", {"name": "logged"}))
            self.assertEqual(r.status, 201, r)
            key_id, token = r.json["id"], r.json["token"]
            secrets_seen.append(token)
            b = Client(srv.url, token=token)
            r = note(b.get("/v1/whoami"))
            self.assertEqual(r.status, 200, r)
            whoami_id = r.header("X-Request-Id")
            qsecret = "q" + secrets.token_hex(12)
            secrets_seen.append(qsecret)
            note(b.get("/v1/whoami?token=%s&access_token=%s" % (token, qsecret)))
            inv = "inv" + secrets.token_hex(12)
            secrets_seen.append(inv)
            note(Client(srv.url).get("/v1/invitations/%s" % inv))
            note(Client(srv.url).post("/v1/invitations/%s/accept" % inv, {}))
            note(Client(srv.url).get("/invite/%s" % inv))
            note(lkserver.raw_http(srv.url, b'GET /v1/"quoted\\back\xc3\xa9 HTTP/1.1\r\nHost: a\r\n'
                                            b"Connection: close\r\n\r\n"))
            note(Client(srv.url, token=lkserver.forge_token("o")).get("/v1/whoami"))
            raw = lkserver.raw_http(srv.url, b"GET /v1/\xff\xfe\"x HTTP/1.1\r\nHost: a\r\n"
                                             b"Connection: close\r\n\r\n")
            self.assertIsNotNone(raw)
            note(raw)
            raw = lkserver.raw_http(srv.url, b"POST /v1/auth/login HTTP/1.1\r\nHost: a\r\n"
                                             b"Content-Length: 999999999\r\nConnection: close\r\n"
                                             b"Content-Type: application/json\r\n\r\n")
            self.assertEqual(raw.status, 413)
            note(raw)
            for cl in (c, b):
                cl.close()
            made = len(ids)
        finally:
            srv.stop()
            log = srv.log_text()
            srv.cleanup()
        lines = access_lines(log)
        entries = []
        for ln in lines:
            try:
                e = json.loads(ln)  # every line parses
            except ValueError:
                self.fail("not JSON: %r" % ln)
            self.assertIsInstance(e, dict)
            self.assertEqual(set(e), set(FIELDS), ln)
            for k, t in FIELDS.items():
                self.assertIsInstance(e[k], t, (k, ln))
            self.assertRegex(e["time"], TIME_RE)
            self.assertNotIn("?", e["path"])
            self.assertIn(e["principal"], ("none", "session", "personal_key", "org_key"))
            if e["path"] != "/healthz":
                entries.append(e)
        self.assertEqual([e["request_id"] for e in entries], ids, "\n".join(lines))
        self.assertEqual(len(entries), made)
        for s in secrets_seen:
            self.assertNotIn(s, log)
        by_id = {e["request_id"]: e for e in entries}
        w = by_id[whoami_id]
        self.assertEqual((w["principal"], w["key_id"], w["route"], w["status"]),
                         ("personal_key", key_id, "/v1/whoami", 200))
        self.assertEqual(w["client"], "127.0.0.1")
        self.assertEqual(by_id[ids[2]]["principal"], "session")  # GET /v1/me with the cookie
        self.assertEqual(by_id[ids[2]]["key_id"], "")
        paths = [e["path"] for e in entries]
        self.assertIn("/v1/invitations/{token}", paths)
        self.assertIn("/v1/invitations/{token}/accept", paths)
        self.assertIn("/invite/{token}", paths)
        self.assertIn('/v1/"quoted\\back\u00c3\u00a9', paths)  # bytes escaped, not dropped
        self.assertIn('/v1/\u00ff\u00fe"x', paths)
        self.assertEqual(entries[-1]["status"], 413)  # h2o's own 413 is logged too


class TestRequestId(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server(backend=BACKEND).start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def test_incoming_ids(self):
        cases = [
            ("abc", True),
            ("0f8fad5b-d9cb-469f-a165-70867728950e", True),
            ("Req_1.2-3", True),
            ("a" * 64, True),
            ("a" * 65, False),
            ("has space", False),
            ('q"uote', False),
            ("semi;colon", False),
            ("slash/x", False),
            ("caf\u00e9".encode("utf-8").decode("latin-1"), False),
        ]
        for value, kept in cases:
            with self.subTest(value=value):
                r = Client(self.srv.url).get("/healthz", headers={"X-Request-Id": value})
                got = r.header("X-Request-Id")
                if kept:
                    self.assertEqual(got, value)
                else:
                    self.assertRegex(got, GEN_ID)

    def test_every_response_has_one(self):
        srv = self.srv
        c = lkserver.new_user(srv.url)
        etag = Client(srv.url).get("/").header("ETag")
        big = b"{" + b" " * (70 * 1024) + b"}"
        cases = [
            ("200", lambda: c.get("/v1/me")),
            ("201", lambda: c.post("/v1/organizations", {"name": "rid"})),
            ("204", lambda: Client(srv.url).post("/v1/auth/logout", {})),
            ("401", lambda: Client(srv.url).get("/v1/me")),
            ("403", lambda: c.patch("/v1/me", {"name": "x"}, csrf=False)),
            ("404", lambda: Client(srv.url).get("/v1/nothing")),
            ("405", lambda: Client(srv.url).request("PUT", "/v1/me")),
            ("413", lambda: c.post("/v1/organizations", body=big)),
            ("415", lambda: c.post("/v1/organizations", body=b"{}", content_type="text/plain")),
            ("login (deferred)", lambda: Client(srv.url).post(
                "/v1/auth/login", {"email": c.email, "password": "wrong password!"})),
            ("dashboard", lambda: Client(srv.url).get("/")),
            ("dashboard 304", lambda: Client(srv.url).get("/", headers={"If-None-Match": etag})),
            ("HEAD", lambda: Client(srv.url).request("HEAD", "/healthz")),
            ("h2o's 413", lambda: lkserver.raw_http(
                srv.url, b"POST /v1/orgs HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999\r\n"
                         b"Connection: close\r\n\r\n")),
        ]
        for what, do in cases:
            with self.subTest(what):
                r = do()
                self.assertRegex(r.header("X-Request-Id") or "", GEN_ID, r)

    def test_generated_ids_are_unique_and_logged(self):
        c = Client(self.srv.url)
        got = [c.get("/healthz").header("X-Request-Id") for _ in range(300)]
        self.assertEqual(len(set(got)), len(got))
        mine = "text-log-" + secrets.token_hex(4)
        c.get("/v1/whoami", headers={"X-Request-Id": mine})
        deadline = time.time() + 10
        pat = re.compile(r"^GET /v1/whoami 401 \d+\.\d{3}ms %s$" % re.escape(mine), re.M)
        while not pat.search(self.srv.log_text()) and time.time() < deadline:
            time.sleep(0.05)
        self.assertRegex(self.srv.log_text(), pat)
        for g in got[-5:]:
            self.assertIn(" " + g + "\n", self.srv.log_text())


class TestLogFormatSetting(unittest.TestCase):
    def last_access_line(self, srv):
        Client(srv.url).get("/v1/whoami", headers={"X-Request-Id": "fmt-check"})
        deadline = time.time() + 10
        while time.time() < deadline:
            hits = [ln for ln in access_lines(srv.log_text()) if "fmt-check" in ln]
            if hits:
                return hits[-1]
            time.sleep(0.05)
        self.fail("no access line for the request:\n" + srv.log_text())

    def test_env_and_flag(self):
        cases = [
            ({"LATCHKEY_LOG_FORMAT": "json"}, [], "json"),
            ({"LATCHKEY_LOG_FORMAT": "json"}, ["--log-format", "text"], "text"),  # flag wins
            ({"LATCHKEY_LOG_FORMAT": ""}, [], "text"),
            ({}, ["--log-format", "json"], "json"),
        ]
        for env, args, want in cases:
            with self.subTest(env=env, args=args):
                srv = Server(backend=BACKEND, args=args, env=env)
                try:
                    srv.start()
                    line = self.last_access_line(srv)
                finally:
                    srv.cleanup()
                if want == "json":
                    self.assertEqual(json.loads(line)["request_id"], "fmt-check")
                else:
                    self.assertRegex(line, r"^GET /v1/whoami 401 \d+\.\d{3}ms fmt-check$")
