"""
lkserver.py — start the real latchkeyd for black-box tests and talk to it.

Shared by every Python suite (blackbox, cli, multinode, ...). Nothing here is
a mock: Server runs build/latchkeyd on a free loopback port with a fresh
database (a temporary SQLite file, or a freshly created PostgreSQL database on
the server that tests/pg.sh started: LK_PG_HOST/LK_PG_PORT/LK_PG_USER), and
Client speaks HTTP/1.1 to it with http.client.

    srv = Server(backend="sqlite").start()
    c = Client(srv.url)
    r = c.post("/v1/auth/signup", {"email": "a@x.io", "password": "pw123456", "name": "A"})
    assert r.status == 201, r
    srv.stop()

Also here, for every suite: token helpers that follow the published format
(forge_token, token_checksum, token_well_formed, redact), raw_http() for
requests http.client cannot express (chunked bodies, lying Content-Length,
bytes that are not HTTP), and Server.dump_database() for "no secret in the
store" checks (raw SQLite bytes including -wal/-journal, or pg_dump output).
"""
import http.client
import json as _json
import os
import secrets
import select
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.parse
import zlib

ROOT = os.environ.get("LK_ROOT") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(ROOT, os.environ.get("LK_BUILD", "build"))
LATCHKEYD = os.path.join(BUILD, "latchkeyd")
LATCHKEY = os.path.join(BUILD, "latchkey")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_available():
    return bool(os.environ.get("LK_PG_PORT"))


def pg_env():
    env = dict(os.environ)
    env["PGHOST"] = os.environ.get("LK_PG_HOST", "127.0.0.1")
    env["PGPORT"] = os.environ["LK_PG_PORT"]
    env["PGUSER"] = os.environ.get("LK_PG_USER", "postgres")
    return env


def pg_bin(name):
    for d in sorted(os.listdir("/usr/lib/postgresql"), reverse=True) if os.path.isdir("/usr/lib/postgresql") else []:
        p = os.path.join("/usr/lib/postgresql", d, "bin", name)
        if os.path.exists(p):
            return p
    return name


def pg_create_database():
    """Create a fresh, empty PostgreSQL database; return its libpq URL."""
    name = "lk_" + secrets.token_hex(6)
    subprocess.run([pg_bin("createdb"), name], env=pg_env(), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    e = pg_env()
    return "postgresql://%s@%s:%s/%s" % (e["PGUSER"], e["PGHOST"], e["PGPORT"], name)


def pg_drop_database(url):
    name = urllib.parse.urlparse(url).path.lstrip("/")
    subprocess.run([pg_bin("dropdb"), "--if-exists", "--force", name], env=pg_env(),
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def fresh_database_url(backend, tmpdir):
    if backend == "pg":
        return pg_create_database()
    return "sqlite:" + os.path.join(tmpdir, "latchkey.db")

# --- tokens, as the contract describes them (api.md "Tokens", src/common/token.h) ---
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
TOKEN_LEN = 42


def token_checksum(random_part):
    """6 base62 digits, big-endian, zero-padded, of the IEEE CRC32 of the
    random part (as ASCII)."""
    v = zlib.crc32(random_part.encode("ascii")) & 0xFFFFFFFF
    out = []
    for _ in range(6):
        v, d = divmod(v, 62)
        out.append(BASE62[d])
    return "".join(reversed(out))


def forge_token(kind="o", random_part=None, checksum=True):
    """A well-formed token the server never issued ("o" org, "p" personal).
    checksum=False gives one whose check digits are wrong."""
    r = random_part or "".join(secrets.choice(BASE62) for _ in range(32))
    c = token_checksum(r)
    if not checksum:
        c = c[:-1] + ("0" if c[-1] != "0" else "1")
    return "lk%s_%s%s" % (kind, r, c)


def token_well_formed(tok):
    """Is tok a syntactically valid token whose checksum holds?"""
    if not isinstance(tok, str) or len(tok) != TOKEN_LEN or tok[:4] not in ("lko_", "lkp_"):
        return False
    body = tok[4:]
    if any(ch not in BASE62 for ch in body):
        return False
    return token_checksum(body[:32]) == body[32:]


def redact(tok):
    """The redacted preview the API shows: prefix, 4 characters, "…", last 4."""
    return tok[:8] + "\u2026" + tok[-4:]


class Server:
    """One latchkeyd process. db_url=None makes a fresh database."""

    def __init__(self, backend="sqlite", db_url=None, args=(), env=None, port=None, tls=None):
        self.backend = backend
        self.tmpdir = tempfile.mkdtemp(prefix="lk-test-")
        self.own_db = db_url is None
        self.db_url = db_url or fresh_database_url(backend, self.tmpdir)
        self.args = list(args)
        self.env = dict(os.environ)
        # the suites sign up hundreds of users from one loopback address:
        # no per-address signup limit unless a test sets one (--signup-limit
        # wins over this; tests/blackbox/test_account.py does)
        self.env.setdefault("LATCHKEY_SIGNUP_LIMIT", "0")
        self.env.update(env or {})
        self.port = port or free_port()
        self.tls = tls  # (cert_file, key_file): serve HTTPS with --tls-cert/--tls-key
        if tls:
            self.args += ["--tls-cert", tls[0], "--tls-key", tls[1]]
        self.proc = None
        self.log_path = os.path.join(self.tmpdir, "server.log")
        self._log = None

    @property
    def url(self):
        return "%s://127.0.0.1:%d" % ("https" if self.tls else "http", self.port)

    def start(self, wait=True, timeout=15.0):
        self._log = open(self.log_path, "ab")
        cmd = [LATCHKEYD, "--listen", "127.0.0.1:%d" % self.port, "--database", self.db_url] + self.args
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, env=self.env,
                                     stdin=subprocess.DEVNULL)
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=15.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("latchkeyd exited with %s:\n%s" % (self.proc.returncode, self.log_text()))
            try:
                r = Client(self.url, timeout=2, cafile=self.tls[0] if self.tls else None).get("/healthz")
                if r.status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError("latchkeyd did not become healthy:\n" + self.log_text())

    def stop(self, sig=signal.SIGTERM, timeout=20.0):
        """Signal the server and wait; returns its exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode
        self.proc = None
        if self._log:
            self._log.close()
            self._log = None
        return rc

    def kill(self):
        return self.stop(signal.SIGKILL)

    def restart(self):
        self.stop()
        return self.start()

    def restart_on_new_port(self, sig=signal.SIGTERM):
        """Stop with sig, then start again on the same database but a fresh
        port (so a lingering TIME_WAIT socket cannot get in the way).
        Returns the stop's exit status."""
        rc = self.stop(sig)
        self.port = free_port()
        self.start()
        return rc

    def sqlite_path(self):
        if not self.db_url.startswith("sqlite:"):
            return None
        p = self.db_url[len("sqlite:"):]
        if p.startswith("//"):
            p = urllib.parse.urlparse(self.db_url).path
        return p

    def dump_database(self):
        """Everything the store holds, as bytes: the raw SQLite files (main,
        -wal, -journal, -shm) or `pg_dump` of the database. None if pg_dump
        is not installed."""
        if self.backend == "pg" or self.db_url.startswith("postgres"):
            try:
                out = subprocess.run([pg_bin("pg_dump"), "--no-owner", "-d", self.db_url],
                                     env=pg_env(), check=True, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, timeout=60)
            except FileNotFoundError:
                return None
            return out.stdout
        data = b""
        p = self.sqlite_path()
        for suffix in ("", "-wal", "-journal", "-shm"):
            try:
                with open(p + suffix, "rb") as f:
                    data += f.read()
            except OSError:
                pass
        return data

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def cleanup(self):
        self.stop()
        if self.own_db and self.backend == "pg":
            pg_drop_database(self.db_url)
        shutil.rmtree(self.tmpdir, ignore_errors=True)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # list of (name, value)
        self.body = body
        try:
            self.json = _json.loads(body) if body else None
        except ValueError:
            self.json = None

    def header(self, name):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    def headers_all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    @property
    def code(self):
        """The error code of an error body, or None."""
        try:
            return self.json["error"]["code"]
        except (TypeError, KeyError):
            return None

    def __repr__(self):
        return "<Response %d %s>" % (self.status, self.body[:500])


class Client:
    """HTTP/1.1 client with an optional bearer token and a session cookie jar.
    After login(), state-changing requests carry X-CSRF-Token automatically
    (pass csrf=False to leave it out)."""

    def __init__(self, base_url, token=None, timeout=30, source_address=None, cafile=None):
        u = urllib.parse.urlparse(base_url)
        self.host, self.port = u.hostname, u.port
        self.https = u.scheme == "https"
        self.cafile = cafile  # the CA (or self-signed certificate) to trust for https
        self.token = token
        self.timeout = timeout
        self.source_address = source_address  # e.g. ("127.0.0.2", 0): another client address
        self.cookies = {}
        self.csrf = None
        self._conn = None

    def _connection(self):
        if self._conn is None:
            if self.https:
                ctx = ssl.create_default_context(cafile=self.cafile)
                self._conn = http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout,
                                                         source_address=self.source_address,
                                                         context=ctx)
            else:
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout,
                                                        source_address=self.source_address)
        return self._conn

    def close(self):
        if self._conn:
            self._conn.close()
            self._conn = None

    def request(self, method, path, json=None, body=None, headers=None, token=None,
                content_type="application/json", csrf=True, cookies=True):
        h = {}
        if json is not None:
            body = _json.dumps(json).encode()
        if body is not None and content_type:
            h["Content-Type"] = content_type
        tok = token if token is not None else self.token
        if tok:
            h["Authorization"] = "Bearer " + tok
        if cookies and self.cookies:
            h["Cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
        if csrf and self.csrf and method in ("POST", "PATCH", "DELETE", "PUT"):
            h["X-CSRF-Token"] = self.csrf
        h.update(headers or {})
        for attempt in (0, 1):
            conn = self._connection()
            try:
                conn.request(method, path, body=body, headers=h)
                r = conn.getresponse()
                data = r.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt:
                    raise
        resp = Response(r.status, r.getheaders(), data.decode("utf-8", "replace"))
        if r.getheader("Connection", "").lower() == "close":
            self.close()
        for v in resp.headers_all("Set-Cookie"):
            name, _, rest = v.partition("=")
            value = rest.split(";", 1)[0]
            if value == "" or "max-age=0" in v.lower() or "expires=thu, 01 jan 1970" in v.lower():
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value
        return resp

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, json=None, **kw):
        return self.request("POST", path, json=json, **kw)

    def patch(self, path, json=None, **kw):
        return self.request("PATCH", path, json=json, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    # conveniences for setting up a scenario
    def signup(self, email, password="correct horse battery", name="Test User"):
        r = self.post("/v1/auth/signup", {"email": email, "password": password, "name": name})
        if r.status != 201:
            raise AssertionError("signup failed: %r" % r)
        return r.json

    def login(self, email, password="correct horse battery"):
        r = self.post("/v1/auth/login", {"email": email, "password": password})
        if r.status != 200:
            raise AssertionError("login failed: %r" % r)
        self.csrf = r.json["csrf_token"]
        return r.json


def raw_http(base_url, data, timeout=10, half_close=False):
    """Send raw bytes to the server and return the first Response (or None
    if the server closed without answering). For requests http.client
    cannot express. Sending and reading interleave: a server that answers
    early (a 413 before the whole body arrived) and closes is read before
    the rest of the body is pushed into a connection it has reset, so a
    None here really means "closed without an answer"."""
    u = urllib.parse.urlparse(base_url)
    with socket.create_connection((u.hostname, u.port), timeout=timeout) as s:
        s.setblocking(False)
        buf, sent, sending = b"", 0, True
        deadline = time.time() + timeout
        while True:
            if sending and sent >= len(data):
                sending = False
                if half_close:
                    try:
                        s.shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
            left = deadline - time.time()
            if left <= 0:
                break
            readable, writable, _ = select.select([s], [s] if sending else [], [], left)
            if readable:
                try:
                    chunk = s.recv(65536)
                except BlockingIOError:
                    continue
                except ConnectionResetError:
                    break
                if not chunk:
                    break
                buf += chunk
                r = _parse_raw_response(buf)
                if r is not None:
                    return r
            elif writable:
                try:
                    sent += s.send(data[sent:sent + 65536])
                except BlockingIOError:
                    pass
                except (BrokenPipeError, ConnectionResetError):
                    sending = False
            else:
                break  # nothing more within the timeout
    return _parse_raw_response(buf, final=True)


def _parse_raw_response(buf, final=False):
    head, sep, rest = buf.partition(b"\r\n\r\n")
    if not sep:
        return None
    lines = head.decode("latin-1").split("\r\n")
    try:
        status = int(lines[0].split(" ")[1])
    except (IndexError, ValueError):
        return None
    headers = []
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        headers.append((k.strip(), v.strip()))
    hd = {k.lower(): v for k, v in headers}
    if "content-length" in hd:
        n = int(hd["content-length"])
        if len(rest) < n:
            return None if not final else Response(status, headers, rest.decode("utf-8", "replace"))
        return Response(status, headers, rest[:n].decode("utf-8", "replace"))
    if hd.get("transfer-encoding", "").lower() == "chunked":
        body, pos = b"", 0
        while True:
            eol = rest.find(b"\r\n", pos)
            if eol < 0:
                return None if not final else Response(status, headers, body.decode("utf-8", "replace"))
            n = int(rest[pos:eol].split(b";")[0] or b"0", 16)
            if n == 0:
                return Response(status, headers, body.decode("utf-8", "replace"))
            if len(rest) < eol + 2 + n + 2:
                return None if not final else Response(status, headers, body.decode("utf-8", "replace"))
            body += rest[eol + 2:eol + 2 + n]
            pos = eol + 2 + n + 2
    if status in (204, 304) or 100 <= status < 200:
        return Response(status, headers, "")
    return None if not final else Response(status, headers, rest.decode("utf-8", "replace"))


def new_user(base_url, email=None, password="correct horse battery", name="Test User"):
    """Sign up and log in a fresh user; returns a logged-in Client."""
    email = email or ("u%s@example.com" % secrets.token_hex(5))
    c = Client(base_url)
    c.signup(email, password, name)
    c.user = c.login(email, password)["user"]
    c.email = email
    c.password = password
    return c
