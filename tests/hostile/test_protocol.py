"""
Malformed, oversized and unusual HTTP/1.x: each answered with a 4xx (or the
connection closed), never a 5xx or a hang, and the server keeps serving.
"""
import re
import os
import socket

import lkserver
from hostile import ServerCase, recv_all

JSON = b"Content-Type: application/json\r\n"


class Protocol(ServerCase):
    def check(self, data, msg, allow_2xx=False):
        r = self.raw(data)
        if allow_2xx and r is not None and 200 <= r.status < 300:
            pass
        else:
            self.assert_4xx_or_closed(r, msg)
        self.assert_serving(msg)
        return r

    # --- sizes ------------------------------------------------------------
    def test_long_request_line(self):
        r = self.check(b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", "20 KB path")
        self.assertIsNotNone(r)

    def test_huge_request_line(self):
        self.check(b"GET /v1/" + b"a" * 600000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", "600 KB path")

    def test_long_api_path_and_query(self):
        r = self.check(b"GET /v1/organizations?" + b"limit=1&" * 2000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
                       "16 KB query")
        self.assertIsNotNone(r)

    def test_huge_header(self):
        self.check(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 600000 + b"\r\n\r\n",
                   "600 KB header")

    def test_too_many_headers(self):
        hs = b"".join(b"X-H%d: v\r\n" % i for i in range(500))
        self.check(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + hs + b"\r\n", "500 headers")

    def test_long_authorization(self):
        r = self.check(b"GET /v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + b"a" * 100000 + b"\r\n\r\n",
                       "100 KB Authorization")
        self.assertEqual(r.status, 401)

    def test_long_cookie(self):
        r = self.check(b"GET /v1/me HTTP/1.1\r\nHost: x\r\nCookie: latchkey_session=" + b"a" * 100000 + b"\r\n\r\n",
                       "100 KB cookie")
        self.assertEqual(r.status, 401)

    # --- body framing -------------------------------------------------------
    def test_content_length_and_transfer_encoding(self):
        s = self.connect()
        s.sendall(b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\n" + JSON +
                  b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"
                  b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        buf, closed = recv_all(s)
        s.close()
        self.assertTrue(buf.startswith(b"HTTP/1.1 400"), buf[:200])
        self.assertTrue(closed, "the connection must be closed after ambiguous framing")
        self.assertEqual(buf.count(b"HTTP/1.1 "), 1, "nothing after it may be served: %r" % buf[:500])
        r = lkserver._parse_raw_response(buf, final=True)
        self.assertEqual(r.header("content-type"), "application/json", r.headers)
        self.assertEqual(r.json, {"error": {"code": "invalid_json",
                                            "message": "malformed HTTP request body framing"}}, r.body)
        self.assert_serving()

    def test_two_content_lengths(self):
        s = self.connect()
        s.sendall(b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\n" + JSON +
                  b"Content-Length: 2\r\nContent-Length: 40\r\n\r\n{}"
                  b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        buf, closed = recv_all(s)
        s.close()
        self.assertEqual(buf.count(b"HTTP/1.1 "), 1, buf[:500])
        self.assertTrue(buf.startswith(b"HTTP/1.1 400"), buf[:200])
        self.assertTrue(closed)
        r = lkserver._parse_raw_response(buf, final=True)
        self.assertEqual((r.json or {}).get("error", {}).get("code"), "invalid_json", r.body)
        self.assert_serving()

    def test_negative_and_garbage_content_length(self):
        for cl in (b"-1", b"abc", b"1e3", b" ", b"99999999999999999999999"):
            r = self.check(b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\n" + JSON +
                           b"Content-Length: " + cl + b"\r\n\r\n{}", "Content-Length %r" % cl)
            self.assertIsNotNone(r)

    def test_lying_content_length(self):
        # announces 100 MB, sends 2 bytes: refused without waiting for the rest
        r = self.check(b"POST /v1/organizations HTTP/1.1\r\nHost: x\r\n" + JSON +
                       b"Content-Length: 100000000\r\n\r\n{}", "lying Content-Length")
        self.assertEqual(r.status, 413)

    def test_chunked_over_limit(self):
        chunk = b"1000\r\n" + b"a" * 4096 + b"\r\n"
        for n, what in ((20, "80 KiB"), (256, "1 MiB")):
            r = self.check(b"POST /v1/auth/signup HTTP/1.1\r\nHost: x\r\n" + JSON +
                           b"Transfer-Encoding: chunked\r\n\r\n" + chunk * n + b"0\r\n\r\n",
                           "chunked " + what)
            self.assertIsNotNone(r)
            self.assertEqual(r.status, 413, what)

    def test_chunked_endless(self):
        # chunks keep coming past the limit: the server must stop reading
        s = self.connect()
        s.sendall(b"POST /v1/auth/signup HTTP/1.1\r\nHost: x\r\n" + JSON +
                  b"Transfer-Encoding: chunked\r\n\r\n")
        chunk = b"4000\r\n" + b"a" * 0x4000 + b"\r\n"
        sent = 0
        try:
            for _ in range(64 * 4):  # up to 4 MiB
                s.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass
        buf, _ = recv_all(s, deadline=10)
        s.close()
        self.assertTrue(buf == b"" or buf.startswith(b"HTTP/1.1 413"), buf[:200])
        self.assert_serving()

    def test_bad_chunk_sizes(self):
        for body in (b"zz\r\n{}\r\n0\r\n\r\n", b"-2\r\n{}\r\n0\r\n\r\n",
                     b"ffffffffffffffffffff\r\n{}\r\n0\r\n\r\n", b"2\r\n{}XX0\r\n\r\n"):
            self.check(b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\n" + JSON +
                       b"Transfer-Encoding: chunked\r\n\r\n" + body, "chunk %r" % body[:10])

    def test_unknown_transfer_encoding(self):
        self.check(b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\n" + JSON +
                   b"Transfer-Encoding: gzip\r\n\r\n{}", "Transfer-Encoding: gzip")

    # --- versions, pipelining ------------------------------------------------
    def test_http10(self):
        s = self.connect()
        s.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
        buf, closed = recv_all(s)
        s.close()
        self.assertRegex(buf[:20], rb"^HTTP/1\.[01] 200")
        self.assertTrue(closed, "HTTP/1.0 without keep-alive: closed after the answer")

    def test_http09_and_bad_versions(self):
        for line in (b"GET /healthz\r\n\r\n", b"GET /healthz HTTP/2.0\r\n\r\n",
                     b"GET /healthz HTTP/1.1x\r\nHost: x\r\n\r\n", b"GET /healthz FOO/1.1\r\n\r\n"):
            r = self.check(line, "version %r" % line[:30], allow_2xx=line.endswith(b"HTTP/2.0\r\n\r\n"))
            if r is not None and r.status == 200:
                # tolerated only for a well-formed request line
                self.assertIn(b"HTTP/2.0", line)

    def test_pipelined(self):
        s = self.connect()
        reqs = [b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
                b"GET /v1/nope HTTP/1.1\r\nHost: x\r\n\r\n",
                b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\n" + JSON + b"Content-Length: 2\r\n\r\n{}",
                b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"]
        s.sendall(b"".join(reqs))
        buf, closed = recv_all(s)
        s.close()
        statuses = [int(x) for x in re.findall(rb"HTTP/1\.1 (\d{3}) ", buf)]
        self.assertEqual(statuses, [200, 404, 400, 200], buf[:800])
        self.assertTrue(closed)

    def test_pipelined_many(self):
        s = self.connect()
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" * 200 +
                  b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        buf, closed = recv_all(s, deadline=20)
        s.close()
        self.assertEqual(buf.count(b"HTTP/1.1 200"), 201)

    def test_pipelined_flood_without_reading(self):
        # up to 100,000 requests sent, no answer read: the server must not buffer
        # answers without bound (it reads the next request only after the
        # previous answer is written)
        def rss():
            with open("/proc/%d/status" % self.srv.proc.pid) as f:
                return next(int(x.split()[1]) for x in f if x.startswith("VmRSS:"))
        before = rss()
        s = self.connect(timeout=2)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sent = 0
        try:
            for _ in range(1000):
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" * 100)
                sent += 100
        except (socket.timeout, OSError):
            pass  # the server stopped reading: that is the point
        self.assert_serving("while a client refuses to read")
        grown = rss() - before
        s.close()
        self.assertGreater(sent, 1000)
        if not os.environ.get("SANITIZE"):  # ASan's quarantine makes RSS meaningless
            self.assertLess(grown, 64 * 1024, "RSS grew by %d kB for %d unread answers" % (grown, sent))
        self.assert_serving()

    def test_expect_continue_too_large(self):
        s = self.connect()
        s.sendall(b"POST /v1/auth/signup HTTP/1.1\r\nHost: x\r\n" + JSON +
                  b"Content-Length: 100000000\r\nExpect: 100-continue\r\n\r\n")
        buf, _ = recv_all(s, deadline=10)
        s.close()
        self.assertTrue(buf.startswith(b"HTTP/1.1 413"), buf[:200])
        self.assert_serving()

    # --- methods, paths, headers --------------------------------------------
    def test_invalid_methods(self):
        for m in (b"FOO", b"get", b"G\x00T", b"GET\x7f", b"A" * 10000, b"CONNECT", b"TRACE",
                  b"PUT", b"OPTIONS"):
            self.check(m + b" /v1/me HTTP/1.1\r\nHost: x\r\n\r\n", "method %r" % m[:20])

    def test_nul_and_control_bytes_in_path(self):
        for p in (b"/v1/me\x00", b"/v1/\x00/x", b"/\x01", b"/v1/me\x7f", b"/v1/me\r/x"):
            self.check(b"GET " + p + b" HTTP/1.1\r\nHost: x\r\n\r\n", "path %r" % p)

    def test_bad_percent_encoding(self):
        for p in (b"/v1/%", b"/v1/%zz", b"/v1/me%0", b"/v1/me%00", b"/v1/%2e%2e/me", b"/%2e%2e/%2e%2e/etc/passwd",
                  b"/v1/organizations/org_%00AAAAAAAAAAAAAAAAAAA", b"/v1/me%2faccess-keys", b"/..%2f..%2fetc%2fpasswd",
                  b"/v1/me/access-keys/key_%ff%fe", b"/%c0%ae%c0%ae/"):
            r = self.raw(b"GET " + p + b" HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertIsNotNone(r, p)
            if p.startswith(b"/v1/"):
                self.assert_4xx_or_closed(r, "path %r" % p)
            elif r.status == 200:
                # outside the API only the embedded dashboard exists: at most
                # its shell, never a file from the disk
                self.assertIn("<!doctype html>", r.body.lower(), p)
            else:
                self.assert_4xx_or_closed(r, "path %r" % p)
            self.assertNotIn("root:", r.body)
            self.assert_serving()

    def test_duplicate_authorization(self):
        c = lkserver.new_user(self.url)
        r = c.post("/v1/me/access-keys", {"name": "dup"})
        self.assertEqual(r.status, 201, r)
        tok = r.json["token"].encode()
        r = self.raw(b"GET /v1/whoami HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + tok +
                     b"\r\nAuthorization: Bearer " + tok + b"\r\n\r\n")
        self.assertEqual(r.status, 401, r)
        r = self.raw(b"GET /v1/whoami HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + tok + b"\r\n\r\n")
        self.assertEqual(r.status, 200, r)  # the positive control

    def test_malformed_headers(self):
        for h in (b"NoColon\r\n", b"X-A: a\r\n folded\r\n", b": empty-name\r\n", b"X A: space\r\n",
                  b"X-A: \x00nul\r\n", b"Host: a\r\nHost: b\r\n", b"Content-Type: application/json\r\n" * 3):
            self.check(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + h + b"\r\n", "header %r" % h[:20],
                       allow_2xx=True)

    def test_not_http(self):
        for data in (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(200),
                     b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes(50),
                     bytes(range(256)) * 4, b"\r\n" * 1000):
            self.check(data, "not HTTP %r" % data[:8])

    def test_half_close_mid_request(self):
        for data in (b"GET /heal", b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\n" + JSON + b"Content-Length: 10\r\n\r\n{"):
            r = lkserver.raw_http(self.url, data, timeout=10, half_close=True)
            self.assert_4xx_or_closed(r, "half close %r" % data[:20])
            self.assert_serving()

    def test_reset_mid_request(self):
        for _ in range(50):
            s = self.connect()
            s.sendall(b"POST /v1/auth/signup HTTP/1.1\r\nHost: x\r\n" + JSON + b"Content-Length: 100\r\n\r\n{\"em")
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.close()  # RST
        self.assert_serving()
