"""
test_process.py — the server as a process (api.md "The server"): flags and
their environment variables, --help/--version, bad flags and unreachable
databases (one line on stderr, non-zero exit), schema creation on start.
"""
import os
import signal
import subprocess
import tempfile
import unittest

from support import BACKEND, Server
import lkserver


def run(args, env=None, timeout=20):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([lkserver.LATCHKEYD] + args, env=e, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)


class Flags(unittest.TestCase):
    def test_help(self):
        p = run(["--help"])
        self.assertEqual(p.returncode, 0, p)
        out = (p.stdout + p.stderr).decode()
        for f in ("--listen", "--database", "--signup"):
            self.assertIn(f, out)

    def test_builtin_parts_are_present(self):
        """The dashboard and migrate-data are always part of latchkeyd."""
        p = run(["migrate-data", "--help"])
        self.assertEqual(p.returncode, 0, p)
        self.assertIn("--from", (p.stdout + p.stderr).decode())
        s = Server(backend=BACKEND).start()
        try:
            r = lkserver.Client(s.url).get("/")
            self.assertEqual(r.status, 200, r)
            self.assertIn("text/html", r.header("Content-Type") or "")
        finally:
            s.cleanup()

    def test_version(self):
        p = run(["--version"])
        self.assertEqual(p.returncode, 0, p)
        self.assertTrue((p.stdout + p.stderr).strip())

    def _fails_one_line(self, args, env=None):
        with tempfile.TemporaryDirectory() as d:
            base = ["--listen", "127.0.0.1:%d" % lkserver.free_port()]
            if not any(a == "--database" for a in args):
                base += ["--database", "sqlite:" + os.path.join(d, "x.db")]
            p = run(base + args, env=env)
        self.assertNotEqual(p.returncode, 0, "%r was accepted" % (args,))
        err = p.stderr.decode().strip()
        self.assertTrue(err, "no message on stderr for %r" % (args,))
        self.assertEqual(len(err.splitlines()), 1, "more than one line on stderr: %r" % err)
        return err

    def test_unknown_flag(self):
        self._fails_one_line(["--bogus"])

    def test_bad_signup_value(self):
        self._fails_one_line(["--signup", "maybe"])

    def test_bad_listen(self):
        for v in ("notaport", "127.0.0.1:99999", "127.0.0.1:", "999.1.1.1:80"):
            with self.subTest(v=v):
                self._fails_one_line(["--listen", v])

    def test_bad_bearer_fail_limit(self):
        for v in ("0", "-1", "abc", "99999999999"):
            with self.subTest(v=v):
                err = self._fails_one_line(["--bearer-fail-limit", v])
                self.assertTrue(err.startswith("latchkeyd: --bearer-fail-limit"), err)
                err = self._fails_one_line([], env={"LATCHKEY_BEARER_FAIL_LIMIT": v})
                self.assertIn("LATCHKEY_BEARER_FAIL_LIMIT", err)

    def test_missing_flag_value(self):
        self._fails_one_line(["--database"])

    def test_unreachable_sqlite(self):
        url = "sqlite:/nonexistent-dir-%d/x.db" % os.getpid()
        err = self._fails_one_line(["--database", url])
        self.assertTrue(err.startswith("latchkeyd: cannot open database " + url + ": "), err)
        self.assertIn("unable to open database file", err)

    def test_database_password_is_not_printed(self):
        err = self._fails_one_line(
            ["--database", "postgresql://nobody:Hunter2Secret@127.0.0.1:1/none?password=Qz9Secret"])
        self.assertTrue(err.startswith("latchkeyd: cannot open database postgresql://nobody@"), err)
        self.assertNotIn("Hunter2Secret", err)
        self.assertNotIn("Qz9Secret", err)

    def test_unreachable_postgres(self):
        err = self._fails_one_line(["--database", "postgresql://nobody@127.0.0.1:1/none"])
        self.assertNotIn("password", err.lower().replace("password authentication", ""))

    def test_unknown_database_scheme(self):
        self._fails_one_line(["--database", "mysql://x@127.0.0.1/db"])

    def test_listen_port_in_use(self):
        s = Server(backend=BACKEND).start()
        try:
            self._fails_one_line(["--listen", "127.0.0.1:%d" % s.port])
        finally:
            s.cleanup()


class Environment(unittest.TestCase):
    def test_env_vars_configure_the_server(self):
        with tempfile.TemporaryDirectory() as d:
            port = lkserver.free_port()
            db = lkserver.fresh_database_url(BACKEND, d)
            e = dict(os.environ, LATCHKEY_LISTEN="127.0.0.1:%d" % port, LATCHKEY_DATABASE_URL=db,
                     LATCHKEY_SIGNUP="closed")
            p = subprocess.Popen([lkserver.LATCHKEYD], env=e, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
            try:
                s = Server(backend=BACKEND, db_url=db, port=port)
                s.proc = p
                s.wait_ready()
                r = lkserver.Client(s.url).post("/v1/auth/signup",
                                                {"email": "e@example.com", "password": "12345678", "name": "x"})
                self.assertEqual(r.status, 403, r)
                if BACKEND == "sqlite":
                    self.assertTrue(os.path.exists(db[len("sqlite:"):]), "database file not created")
            finally:
                p.send_signal(signal.SIGTERM)
                self.assertEqual(p.wait(20), 0)
                if BACKEND == "pg":
                    lkserver.pg_drop_database(db)

    def test_flag_beats_env(self):
        with tempfile.TemporaryDirectory() as d:
            s = Server(backend=BACKEND, env={"LATCHKEY_SIGNUP": "closed"}, args=["--signup", "open"]).start()
            try:
                r = lkserver.Client(s.url).post("/v1/auth/signup",
                                                {"email": "f@example.com", "password": "12345678", "name": "x"})
                self.assertEqual(r.status, 201, r)
            finally:
                s.cleanup()

    def _bearer_failures_until_429(self, **server_kw):
        s = Server(backend=BACKEND, **server_kw).start()
        try:
            c = lkserver.Client(s.url, token="lkp_" + "x" * 40)
            for n in range(1, 10):
                r = c.get("/v1/whoami")
                if r.status == 429:
                    self.assertTrue(r.header("Retry-After"), r.headers)
                    return n
                self.assertEqual(r.status, 401, r)
            return None
        finally:
            s.cleanup()

    def test_bearer_fail_limit_flag_and_env(self):
        self.assertEqual(self._bearer_failures_until_429(args=["--bearer-fail-limit", "3"]), 4)
        self.assertEqual(self._bearer_failures_until_429(env={"LATCHKEY_BEARER_FAIL_LIMIT": "2"}), 3)
        self.assertEqual(self._bearer_failures_until_429(env={"LATCHKEY_BEARER_FAIL_LIMIT": "2"},
                                                         args=["--bearer-fail-limit=5"]), 6)
        self.assertIsNone(self._bearer_failures_until_429())  # the default (1000)

    def test_schema_created_then_reused(self):
        s = Server(backend=BACKEND).start()
        try:
            c = lkserver.Client(s.url)
            c.signup("schema@example.com", "12345678", "S")
            for _ in range(2):
                self.assertEqual(s.restart_on_new_port(), 0)
                c = lkserver.Client(s.url)
                c.login("schema@example.com", "12345678")
        finally:
            s.cleanup()
