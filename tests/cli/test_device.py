"""`latchkey login` through the browser (api.md 1.1, "Sign-in from the CLI
through the browser"): the real CLI on a pseudo-terminal against the real
server; a person's approval is made through the HTTP API here (the browser
suite does it in Chromium). The browser is a stand-in script named by
$BROWSER that records the URL it was asked to open."""
import json
import os
import re
import select
import stat
import subprocess
import time

from clitest import BACKEND, LATCHKEY, PtyResult, CliTestCase, lkserver

CODE_RE = re.compile(r"\b([BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4})\b")
FLOW_TIMEOUT = 60


class DeviceLoginCase(CliTestCase):
    def setUp(self):
        super().setUp()
        self.browser_log = os.path.join(self.home, "browser.log")
        self.browser = os.path.join(self.home, "fake-browser")
        with open(self.browser, "w") as f:
            f.write('#!/bin/sh\nprintf "%s\\n" "$1" >> "' + self.browser_log + '"\n')
        os.chmod(self.browser, 0o755)

    def denv(self, **extra):
        extra.setdefault("BROWSER", self.browser)
        return self.env(**extra)

    def login_flow(self, *args, env=None, on_code=None, timeout=FLOW_TIMEOUT):
        """Run `latchkey login ARGS` on a pty; when the user code appears,
        call on_code(code) (the person in the browser). Returns the
        PtyResult (all terminal text in .out)."""
        master, slave = os.openpty()
        p = subprocess.Popen([LATCHKEY, "login"] + list(args), env=env or self.denv(),
                             stdin=slave, stdout=slave, stderr=slave, close_fds=True,
                             start_new_session=True)
        os.close(slave)
        seen, called, deadline = b"", False, time.time() + timeout
        try:
            while True:
                m = CODE_RE.search(seen.decode("utf-8", "replace"))
                if m and not called and b"\n" in seen[seen.find(m.group(1).encode()):]:
                    called = True
                    if on_code:
                        on_code(m.group(1))
                r, _, _ = select.select([master], [], [], 0.2)
                if r:
                    try:
                        chunk = os.read(master, 65536)
                    except OSError:
                        chunk = b""
                    if not chunk:
                        break
                    seen += chunk
                elif p.poll() is not None:
                    break
                if time.time() > deadline:
                    p.kill()
                    raise AssertionError("latchkey login did not finish: %r" % seen)
            rc = p.wait(10)
        finally:
            os.close(master)
            if p.poll() is None:
                p.kill()
                p.wait()
        text = seen.decode("utf-8", "replace").replace("\r\n", "\n")
        return PtyResult(rc, text, text)

    def approve(self, person, code, what="approve"):
        r = person.post("/v1/auth/device/" + what, {"user_code": code})
        self.assertEqual(r.status, 204, r)

    def stored(self):
        path = self.cred_path()
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        with open(path) as f:
            return f.read()


class DeviceLogin(DeviceLoginCase):
    def test_login_through_the_browser(self):
        u = self.new_user("Device Person")
        r = self.login_flow(on_code=lambda code: self.approve(u, code))
        self.assertRc(r, 0)
        code = CODE_RE.search(r.out).group(1)
        # what the person is told: the code, the page, that it was opened
        self.assertIn(self.url + "/device?code=" + code, r.out)
        self.assertIn("Opened it in your browser", r.out)
        self.assertIn("Waiting for the approval of " + code, r.out)  # the spinner
        self.assertIn("Logged in as Device Person <%s>" % u.email, r.out)
        with open(self.browser_log) as f:
            self.assertEqual(f.read().split(), [self.url + "/device?code=" + code])
        # the key works and is the approver's
        who = json.loads(self.cli("whoami", "--json").out)
        self.assertEqual(who["user"]["id"], u.user["id"])
        self.assertEqual(who["principal"], "personal_key")
        self.assertTrue(who["key"]["name"].startswith("latchkey CLI on "))
        # the token never reached the terminal
        tok = [line for line in self.stored().splitlines() if "lkp_" in line][0]
        token = re.search(r"lkp_[0-9A-Za-z]{38}", tok).group(0)
        self.assertNoToken(r.out, token)
        # logout revokes the key the browser approved
        self.assertRc(self.cli("logout"), 0)
        self.assertEqual(lkserver.Client(self.url, token=token).get("/v1/whoami").status, 401)

    def test_no_browser_prints_the_url_only(self):
        u = self.new_user()
        r = self.login_flow("--no-browser", on_code=lambda code: self.approve(u, code))
        self.assertRc(r, 0)
        self.assertIn("/device?code=", r.out)
        self.assertNotIn("Opened it in your browser", r.out)
        self.assertFalse(os.path.exists(self.browser_log))

    def test_no_browser_available(self):
        u = self.new_user()
        env = self.denv(BROWSER=os.path.join(self.home, "no-such-browser"), PATH="/nonexistent")
        r = self.login_flow(env=env, on_code=lambda code: self.approve(u, code))
        self.assertRc(r, 0)
        self.assertIn("Could not open a browser", r.out)

    def test_denied(self):
        u = self.new_user()
        r = self.login_flow(on_code=lambda code: self.approve(u, code, "deny"))
        self.assertRc(r, 1)
        self.assertIn("denied", r.out)
        self.assertFalse(os.path.exists(self.cred_path()))
        keys = u.get("/v1/me/access-keys").json["data"]
        self.assertEqual(keys, [])

    def test_login_again_revokes_the_previous_device_key(self):
        u = self.new_user()
        self.assertRc(self.login_flow(on_code=lambda code: self.approve(u, code)), 0)
        first = json.loads(self.cli("whoami", "--json").out)["key"]["id"]
        r = self.login_flow(on_code=lambda code: self.approve(u, code))
        self.assertRc(r, 0)
        self.assertIn("Revoked the key of the previous login", r.out)
        ids = [k["id"] for k in u.get("/v1/me/access-keys").json["data"]]
        self.assertNotIn(first, ids)
        self.assertEqual(len(ids), 1)

    def test_scope_is_asked_for(self):
        u = self.new_user()
        seen = {}

        def look_then_approve(code):
            seen.update(u.get("/v1/auth/device?user_code=" + code).json)
            self.approve(u, code)

        r = self.login_flow("--scope", "projects:read", "--scope", "keys:write",
                            on_code=look_then_approve)
        self.assertRc(r, 0)
        self.assertEqual(seen["scopes"], ["keys:read", "keys:write", "org:read", "projects:read"])
        # an unknown scope: refused before anything is sent (as keys create
        # does), exit 2, nothing stored
        r = self.login_flow("--scope", "keys:everything", timeout=20)
        self.assertRc(r, 2)
        self.assertIn("unknown scope 'keys:everything'", r.out)
        self.assertNotIn("out of memory", r.out)

    def test_without_a_terminal_exits_3(self):
        for args in ((), ("--no-browser",), ("--password",)):
            with self.subTest(args=args):
                r = self.cli("login", *args, env=self.denv())
                self.assertRc(r, 3)
                self.assertIn("LATCHKEY_TOKEN", r.err)
                self.assertFalse(os.path.exists(self.browser_log))

    def test_usage(self):
        r = self.cli("login", "--help")
        self.assertRc(r, 0)
        for opt in ("--password", "--no-browser", "--scope S"):
            self.assertIn(opt, r.out)
        self.assertRc(self.cli("whoami", "--no-browser"), 2)
        self.assertRc(self.cli("login", "--scope"), 2)
        r = self.cli("login", *(["--scope", "keys:read"] * 33))
        self.assertRc(r, 2)

    def test_server_without_device_flow(self):
        # a v1 server answers 404 at /v1/auth/device: say so, suggest --password
        import http.server
        import threading

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = b'{"error":{"code":"not_found","message":"not found"}}'
                self.send_response(404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        srv = http.server.HTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        try:
            url = "http://127.0.0.1:%d" % srv.server_address[1]
            r = self.login_flow(env=self.denv(LATCHKEY_URL=url), timeout=20)
        finally:
            srv.shutdown()
        self.assertRc(r, 1)
        self.assertIn("not found", r.out)
        self.assertFalse(os.path.exists(self.browser_log))


class DeviceExpiry(DeviceLoginCase):
    @classmethod
    def setUpClass(cls):
        cls.server = lkserver.Server(backend=BACKEND, args=("--device-code-ttl", "3")).start()
        cls.url = cls.server.url

    def test_expired_before_approval(self):
        r = self.login_flow("--no-browser")
        self.assertRc(r, 1)
        self.assertIn("expired", r.out)
        self.assertFalse(os.path.exists(self.cred_path()))
