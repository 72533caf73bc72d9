"""
clitest.py — shared pieces of the CLI suite: run the real build/latchkey
against a real build/latchkeyd (tests/lib/lkserver.py), with or without a
terminal.

Every test runs the CLI with a clean environment: its own HOME (so its own
credentials file), no LATCHKEY_TOKEN unless the test sets one, LATCHKEY_URL
pointing at the class's server, no NO_COLOR.
"""
import binascii
import os
import pty
import re
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import lkserver  # noqa: E402

LATCHKEY = lkserver.LATCHKEY
BACKEND = os.environ.get("LK_BACKEND", "sqlite")  # set by run.py --backend (lktestrun)
PASSWORD = "correct horse battery"
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
TOKEN_RE = re.compile(r"lk[op]_[0-9A-Za-z]{38}")


def make_token(prefix="lko_", random_part=None):
    """A well-formed token built here, independently of the C code: 32 base62
    characters and the CRC32 of them as 6 big-endian base62 digits."""
    r = random_part or "".join(secrets.choice(ALPHABET) for _ in range(32))
    v = binascii.crc32(r.encode())
    check = ""
    for _ in range(6):
        check = ALPHABET[v % 62] + check
        v //= 62
    return prefix + r + check


class Result:
    def __init__(self, rc, out, err):
        self.rc, self.out, self.err = rc, out, err

    def __repr__(self):
        return "<rc=%s out=%r err=%r>" % (self.rc, self.out[:800], self.err[:800])


class PtyResult(Result):
    """stdin, stdout and stderr all on one terminal: `out` is everything."""


class CliTestCase(unittest.TestCase):
    server = None

    @classmethod
    def setUpClass(cls):
        cls.server = lkserver.Server(backend=BACKEND).start()
        cls.url = cls.server.url

    @classmethod
    def tearDownClass(cls):
        if cls.server:
            cls.server.cleanup()
            cls.server = None

    def setUp(self):
        self.home = tempfile.mkdtemp(prefix="lk-cli-home-")
        self.addCleanup(shutil.rmtree, self.home, True)

    # ---- environment and running

    def env(self, **extra):
        e = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": self.home,
            "LATCHKEY_URL": self.url,
            "LANG": "C.UTF-8",
            "TZ": "UTC",
        }
        for k, v in extra.items():
            if v is None:
                e.pop(k, None)
            else:
                e[k] = v
        return e

    def cli(self, *args, env=None, input=None, timeout=60):
        """Run latchkey with no terminal (stdin a pipe or /dev/null)."""
        p = subprocess.run([LATCHKEY] + list(args), env=env if env is not None else self.env(),
                           input=(input.encode() if isinstance(input, str) else input),
                           stdin=None if input is not None else subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        return Result(p.returncode, p.stdout.decode("utf-8", "replace"),
                      p.stderr.decode("utf-8", "replace"))

    def cli_pty(self, *args, env=None, script=(), timeout=30, stdout_pipe=False):
        """Run latchkey on a pseudo-terminal. script is a list of
        (expected_text, reply) pairs: when expected_text has appeared in the
        output, reply (plus newline) is typed. With stdout_pipe, stdout is a
        pipe instead (stdin and stderr stay on the terminal); then the result's
        `out` is stdout and `err` the terminal's text."""
        master, slave = os.openpty()
        p = subprocess.Popen([LATCHKEY] + list(args), env=env if env is not None else self.env(),
                             stdin=slave, stdout=subprocess.PIPE if stdout_pipe else slave,
                             stderr=slave, close_fds=True, start_new_session=True)
        os.close(slave)
        seen = b""
        steps = list(script)
        deadline = time.time() + timeout
        try:
            while True:
                if steps and steps[0][0].encode() in seen:
                    os.write(master, steps[0][1].encode() + b"\n")
                    steps.pop(0)
                    continue
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
                    # drain what is left
                    while select.select([master], [], [], 0)[0]:
                        try:
                            chunk = os.read(master, 65536)
                        except OSError:
                            chunk = b""
                        if not chunk:
                            break
                        seen += chunk
                    break
                if time.time() > deadline:
                    p.kill()
                    raise AssertionError("latchkey on a pty did not finish; output so far: %r" % seen)
            out = p.stdout.read() if stdout_pipe else b""
            rc = p.wait(timeout)
        finally:
            os.close(master)
            if p.poll() is None:
                p.kill()
                p.wait()
            if p.stdout:
                p.stdout.close()
        text = seen.decode("utf-8", "replace").replace("\r\n", "\n")
        if stdout_pipe:
            return PtyResult(rc, out.decode("utf-8", "replace"), text)
        return PtyResult(rc, text, text)

    # ---- assertions

    def assertRc(self, res, rc):
        self.assertEqual(res.rc, rc, res)

    def assertNoToken(self, text, token):
        self.assertNotIn(token, text)
        self.assertNotIn(token[4:], text)

    # ---- scenario set-up through the HTTP API (not the CLI)

    def new_user(self, name="Test User"):
        """A fresh user, logged in (lkserver.Client with session)."""
        return lkserver.new_user(self.url, name=name, password=PASSWORD)

    def personal_token(self, client, name="test key"):
        r = client.post("/v1/me/access-keys", {"name": name})
        self.assertEqual(r.status, 201, r)
        return r.json["token"]

    def new_org(self, client, name=None):
        r = client.post("/v1/organizations", {"name": name or ("org " + secrets.token_hex(3))})
        self.assertEqual(r.status, 201, r)
        return r.json

    def org_token(self, client, org_id, name="org key"):
        r = client.post("/v1/organizations/%s/access-keys" % org_id, {"name": name})
        self.assertEqual(r.status, 201, r)
        return r.json["token"]

    def login_pty(self, email, password=PASSWORD, env=None):
        return self.cli_pty("login", "--password", env=env,
                            script=[("Email:", email), ("Password:", password)])

    def cred_path(self, xdg=None):
        base = xdg or os.path.join(self.home, ".config")
        return os.path.join(base, "latchkey", "credentials")

