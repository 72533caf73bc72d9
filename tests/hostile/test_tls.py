"""
HTTPS: `latchkeyd --tls-cert FILE --tls-key FILE`, with a self-signed
certificate made here by the openssl CLI (CN and subjectAltName 127.0.0.1).
The openssl and curl commands are required (tests/hostile/run.py refuses to
run without them), never skipped.

- The API answers over TLS, verified against that certificate; HTTP/1.1 and
  HTTP/2 (ALPN "h2", checked with curl --http2) both work.
- The session cookie carries `Secure` over TLS (and not over plain HTTP,
  where a browser would drop it).
- Hostile TLS clients: plain HTTP to the TLS port, garbage instead of a
  ClientHello, a handshake that never finishes, a TLS 1.0-only client —
  each refused or closed while other clients are served.
- Account security (issue 13): Strict-Transport-Security on every answer
  (errors included); TLS 1.2 offers only ECDHE with AEAD (Mozilla
  "intermediate": no static RSA, no CBC, no DHE), the server's order wins;
  TLS 1.3 works.
- Start-up: a missing or mismatched certificate/key, or only one of the two
  flags: one line on stderr and a non-zero exit.
"""
import os
import shutil
import socket
import ssl
import struct
import subprocess
import tempfile
import time
import unittest

import lkserver
from hostile import BACKEND, wait_closed


def make_cert(d, name="srv"):
    cert, key = os.path.join(d, name + ".crt"), os.path.join(d, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return cert, key


class TLS(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="lk-tls-")
        cls.cert, cls.key = make_cert(cls.dir)
        cls.srv = lkserver.Server(backend=BACKEND, tls=(cls.cert, cls.key),
                                  env={"LATCHKEY_REQUEST_TIMEOUT_MS": "1500"}).start()

    @classmethod
    def tearDownClass(cls):
        rc = cls.srv.stop()
        log = cls.srv.log_text()
        cls.srv.cleanup()
        shutil.rmtree(cls.dir, ignore_errors=True)
        if "Sanitizer" in log or "runtime error" in log or rc != 0:
            raise AssertionError("latchkeyd exited %s; log tail:\n%s" % (rc, log[-4000:]))

    def client(self, **kw):
        return lkserver.Client(self.srv.url, cafile=self.cert, **kw)

    def assert_serving(self):
        self.assertEqual(self.client(timeout=10).get("/healthz").status, 200)

    def tls_socket(self, alpn=None):
        ctx = ssl.create_default_context(cafile=self.cert)
        if alpn:
            ctx.set_alpn_protocols(alpn)
        raw = socket.create_connection(("127.0.0.1", self.srv.port), timeout=10)
        return ctx.wrap_socket(raw, server_hostname="127.0.0.1")

    def test_https_api(self):
        self.assertTrue(self.srv.url.startswith("https://"))
        c = self.client()
        email = "tls%s@example.com" % os.getpid()
        c.signup(email)
        r = c.post("/v1/auth/login", {"email": email, "password": "correct horse battery"})
        self.assertEqual(r.status, 200, r)
        cookie = r.header("Set-Cookie")
        self.assertIn("latchkey_session=", cookie)
        attrs = [a.strip().lower() for a in cookie.split(";")]
        self.assertIn("secure", attrs, cookie)
        self.assertIn("httponly", attrs, cookie)
        self.assertIn("samesite=strict", attrs, cookie)
        c.csrf = r.json["csrf_token"]
        r = c.post("/v1/me/access-keys", {"name": "over tls"})
        self.assertEqual(r.status, 201, r)
        b = lkserver.Client(self.srv.url, token=r.json["token"], cafile=self.cert)
        self.assertEqual(b.get("/v1/whoami").status, 200)
        # logout's clearing cookie is Secure too
        r = c.post("/v1/auth/logout")
        self.assertEqual(r.status, 204, r)

    def test_plain_http_cookie_not_secure(self):
        srv = lkserver.Server(backend=BACKEND).start()
        try:
            c = lkserver.Client(srv.url)
            c.signup("plain@example.com")
            r = c.post("/v1/auth/login", {"email": "plain@example.com", "password": "correct horse battery"})
            attrs = [a.strip().lower() for a in r.header("Set-Cookie").split(";")]
            self.assertNotIn("secure", attrs)
        finally:
            srv.cleanup()

    def test_alpn_h2(self):
        s = self.tls_socket(alpn=["h2", "http/1.1"])
        self.assertEqual(s.selected_alpn_protocol(), "h2")
        s.close()
        s = self.tls_socket(alpn=["http/1.1"])
        self.assertEqual(s.selected_alpn_protocol(), "http/1.1")
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            c = s.recv(4096)
            if not c:
                break
            data += c
        s.close()
        self.assertTrue(data.startswith(b"HTTP/1.1 200"), data[:100])

    def test_ambiguous_framing_over_tls(self):
        s = self.tls_socket(alpn=["http/1.1"])
        s.sendall(b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"
                  b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        try:
            while True:
                c = s.recv(4096)
                if not c:
                    break
                data += c
        except (ssl.SSLError, OSError):
            pass
        s.close()
        self.assertTrue(data.startswith(b"HTTP/1.1 400"), data[:200])
        self.assertEqual(data.count(b"HTTP/1.1 "), 1, data[:400])
        self.assert_serving()

    def test_http2_request(self):
        out = subprocess.run(["curl", "-s", "--http2", "--cacert", self.cert, "-o", "/dev/null",
                              "-w", "%{http_code} %{http_version}", self.srv.url + "/healthz"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        self.assertFalse(out.returncode != 0 and b"not support" in out.stderr,
                         "this curl cannot speak HTTP/2: %r" % out.stderr)
        self.assertEqual(out.stdout.decode(), "200 2", out)
        out = subprocess.run(["curl", "-s", "--http2", "--cacert", self.cert, "-o", "/dev/null",
                              "-w", "%{http_code} %{http_version}", self.srv.url + "/v1/me"],
                             stdout=subprocess.PIPE, timeout=30)
        self.assertEqual(out.stdout.decode(), "401 2", out)

    # --- HTTP/2 floods (hand-made frames: no h2 library needed) --------------
    @staticmethod
    def frame(ftype, flags, stream, payload):
        return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", stream) + payload

    def h2_socket(self):
        s = self.tls_socket(alpn=["h2"])
        self.assertEqual(s.selected_alpn_protocol(), "h2")
        s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + self.frame(4, 0, 0, b""))
        return s

    def rss(self):
        with open("/proc/%d/status" % self.srv.proc.pid) as f:
            return next(int(x.split()[1]) for x in f if x.startswith("VmRSS:"))

    def test_h2_rapid_reset_and_ping_flood(self):
        before = self.rss()
        # rapid reset: 20,000 streams opened (GET /healthz, HPACK: :method GET,
        # :scheme https, :path and :authority as literals) and cancelled at once
        get = b"\x82\x87\x04\x08/healthz\x01\x09127.0.0.1"
        s = self.h2_socket()
        buf = b""
        try:
            for i in range(20000):
                sid = 1 + 2 * i
                buf += self.frame(1, 0x5, sid, get) + self.frame(3, 0, sid, struct.pack(">I", 8))
                if len(buf) > 65536:
                    s.sendall(buf)
                    buf = b""
            s.sendall(buf)
        except (OSError, ssl.SSLError):
            pass  # the server may hang up (GOAWAY): fine
        self.assert_serving()
        s.close()
        # PING flood, never reading the ACKs: the server must stop reading
        # rather than queue answers without bound
        s = self.h2_socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(5)
        pings = self.frame(6, 0, 0, b"12345678") * 1000
        try:
            for _ in range(500):
                s.sendall(pings)
        except (OSError, ssl.SSLError):
            pass
        self.assert_serving()
        grown = self.rss() - before
        s.close()
        # Under ASan the allocator's quarantine holds freed memory, so RSS
        # says nothing about queueing there (as in test_soak); the normal
        # run judges it.
        if not os.environ.get("SANITIZE"):
            self.assertLess(grown, 64 * 1024, "RSS grew by %d kB under HTTP/2 floods" % grown)
        self.assert_serving()

    def test_plain_http_to_tls_port(self):
        r = lkserver.raw_http("http://127.0.0.1:%d" % self.srv.port,
                              b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", timeout=10)
        self.assertTrue(r is None or 400 <= r.status < 500, r)
        self.assert_serving()

    def test_garbage_handshake(self):
        for data in (b"\x16\x03\x01\x00\x05hello" + bytes(500), bytes(range(256)) * 8, b"\x16" * 5):
            s = socket.create_connection(("127.0.0.1", self.srv.port), timeout=10)
            try:
                s.sendall(data)
            except OSError:
                pass
            self.assertTrue(wait_closed(s, 15), "garbage handshake %r kept open" % data[:8])
            s.close()
        self.assert_serving()

    def test_stalled_handshake(self):
        # a client that connects and never says hello is dropped (handshake timeout)
        s = socket.create_connection(("127.0.0.1", self.srv.port), timeout=10)
        t0 = time.time()
        self.assert_serving()
        self.assertTrue(wait_closed(s, 20), "a silent TLS client was never dropped")
        s.close()
        self.assertLess(time.time() - t0, 20)

    def test_old_protocol_refused(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(self.cert)
        try:
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = ssl.TLSVersion.TLSv1_1
            ctx.set_ciphers("ALL:@SECLEVEL=0")
        except (ValueError, ssl.SSLError):
            self.skipTest("this Python/OpenSSL cannot offer TLS 1.0/1.1")
        raw = socket.create_connection(("127.0.0.1", self.srv.port), timeout=10)
        with self.assertRaises((ssl.SSLError, OSError)):
            s = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
            s.close()
        raw.close()
        self.assert_serving()


    # --- account (issue 13): HSTS and the cipher list ---------------------------

    def test_hsts_on_every_answer(self):
        c = self.client()
        for path in ("/healthz", "/v1/whoami", "/", "/orgs/new", "/v1/nothing"):
            r = c.get(path)
            self.assertEqual(r.header("Strict-Transport-Security"), "max-age=63072000", "%s: %r" % (path, r))
        # an error h2o answers itself (a broken Content-Length) carries it too
        s = self.tls_socket()
        s.sendall(b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: -1\r\n\r\n{}")
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        s.close()
        self.assertTrue(buf.startswith(b"HTTP/1.1 400"), buf[:200])
        self.assertIn(b"\r\nstrict-transport-security: max-age=63072000\r\n", buf.lower(), buf[:600])

    def s_client(self, *args):
        p = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % self.srv.port,
                            "-servername", "127.0.0.1"] + list(args),
                           input=b"", stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
        out = p.stdout.decode("utf-8", "replace")
        m = [l for l in out.splitlines() if "Cipher is" in l]
        return m[0].split("Cipher is", 1)[1].strip() if m else "(NONE)", out

    def test_tls12_ciphers_modern_only(self):
        # no static RSA, no CBC, no DHE: each offered alone, the handshake fails
        for bad in ("AES128-SHA", "AES256-SHA", "AES128-GCM-SHA256", "AES256-GCM-SHA384",
                    "ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA384", "DHE-RSA-AES128-GCM-SHA256"):
            got, out = self.s_client("-tls1_2", "-cipher", bad)
            self.assertEqual(got, "(NONE)", "%s was accepted:\n%s" % (bad, out[-800:]))
        for good in ("ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
                     "ECDHE-ECDSA-CHACHA20-POLY1305"):
            got, out = self.s_client("-tls1_2", "-cipher", good)
            self.assertEqual(got, good, out[-800:])
        # TLS 1.3 keeps working
        got, out = self.s_client("-tls1_3")
        self.assertTrue(got.startswith("TLS_"), out[-800:])
        self.assert_serving()

    def test_server_order_preferred(self):
        # the client lists CHACHA20 first; the server's order (AES-128-GCM first) wins
        got, out = self.s_client("-tls1_2", "-cipher",
                                 "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256")
        self.assertEqual(got, "ECDHE-ECDSA-AES128-GCM-SHA256", out[-800:])


class TLSStartup(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="lk-tls-")
        self.cert, self.key = make_cert(self.dir)
        self.cert2, self.key2 = make_cert(self.dir, "other")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def fails(self, args):
        db = "sqlite:" + os.path.join(self.dir, "x.db")
        p = subprocess.run([lkserver.LATCHKEYD, "--listen", "127.0.0.1:%d" % lkserver.free_port(),
                            "--database", db] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=30)
        self.assertNotEqual(p.returncode, 0, args)
        err = p.stderr.decode()
        self.assertEqual(len(err.strip().splitlines()), 1, "want one line: %r" % err)
        self.assertNotIn("BEGIN", err)  # never key material
        return err

    def test_bad_tls_config(self):
        self.fails(["--tls-cert", self.cert])                         # key missing
        self.fails(["--tls-key", self.key])                           # cert missing
        self.fails(["--tls-cert", self.cert, "--tls-key", os.path.join(self.dir, "nope.key")])
        self.fails(["--tls-cert", os.path.join(self.dir, "nope.crt"), "--tls-key", self.key])
        self.fails(["--tls-cert", self.cert, "--tls-key", self.key2])  # a key of another cert
        self.fails(["--tls-cert", self.key, "--tls-key", self.cert])   # swapped
