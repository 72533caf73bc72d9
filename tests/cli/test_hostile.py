"""The client's own limits, against a deliberately misbehaving peer.

The real latchkeyd never sends a 5 MiB answer, a redirect, a token inside an
error message or escape sequences in a name, so these cases need a peer that
does. This is not a stand-in for latchkeyd (every functional test runs against
the real server); it is the hostile side of the CLI's invariants: capped
buffers, no redirects, no token in an error, nothing raw to the terminal."""
import http.server
import json
import threading
import unittest

from clitest import CliTestCase, make_token

LEAKED = make_token("lkp_")


class Hostile(http.server.BaseHTTPRequestHandler):
    mode = "big"

    def log_message(self, *a):
        pass

    def send(self, status, body, headers=()):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        try:
            self.wfile.write(data)
        except OSError:  # the client hung up at its cap, as it should
            self.close_connection = True

    def do_GET(self):
        m = self.server.mode
        if m == "big":
            self.send(200, b'{"data": ["' + b"x" * (5 * 1024 * 1024) + b'"]}')
        elif m == "big_chunked":  # no Content-Length: the cap must hold while streaming
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            chunk = b"x" * 65536
            try:
                for _ in range(100):
                    self.wfile.write(chunk)
            except OSError:
                pass
            self.close_connection = True
        elif m == "headers":
            self.send(200, {"data": [], "next_cursor": None},
                      headers=[("X-Junk-%d" % i, "y" * 1000) for i in range(100)])
        elif m == "redirect":
            self.send(302, {}, headers=[("Location", "http://127.0.0.1:9/v1/whoami")])
        elif m == "leak":
            self.send(404, {"error": {"code": "not_found", "message": "no such key " + LEAKED}})
        elif m == "escapes":
            self.send(200, {"data": [{"id": "key_\x1b[2J", "name": "evil\x1b]0;pwned\x07\u009b31m",
                                      "redacted": "lkp_AAAA\u2026AAAA", "created_at": "2026-01-01T00:00:00Z",
                                      "type": "personal"}], "next_cursor": None})
        elif m == "notjson":
            self.send(200, b"<html>hello</html>")
        elif m == "retry":
            self.send(429, {"error": {"code": "rate_limited", "message": "too many requests"}},
                      headers=[("Retry-After", "7")])


class ClientLimits(CliTestCase):
    @classmethod
    def setUpClass(cls):
        # no latchkeyd needed here
        cls.peer = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
        cls.peer.daemon_threads = True
        cls.peer.mode = "big"
        cls.url = "http://127.0.0.1:%d" % cls.peer.server_address[1]
        cls.thread = threading.Thread(target=cls.peer.serve_forever, daemon=True)
        cls.thread.start()

    @classmethod
    def tearDownClass(cls):
        cls.peer.shutdown()
        cls.peer.server_close()

    def run_mode(self, mode, *args):
        self.peer.mode = mode
        return self.cli(*(args or ("keys", "list")), env=self.env(LATCHKEY_TOKEN=make_token("lkp_")))

    def test_body_over_4_mib_is_refused(self):
        for mode in ("big", "big_chunked"):
            r = self.run_mode(mode)
            self.assertRc(r, 1)
            self.assertIn("larger than", r.err)
            self.assertEqual(r.out, "")

    def test_oversized_headers_are_refused(self):
        r = self.run_mode("headers")
        self.assertRc(r, 1)
        self.assertIn("headers", r.err)

    def test_redirect_is_not_followed(self):
        r = self.run_mode("redirect", "whoami")
        self.assertRc(r, 1)  # not 4: it never went to the Location
        self.assertIn("302", r.err)

    def test_token_in_server_message_is_cut(self):
        r = self.run_mode("leak")
        self.assertRc(r, 1)
        self.assertIn("not_found", r.err)
        self.assertNotIn(LEAKED, r.err)
        self.assertNotIn(LEAKED[4:12], r.err)

    def test_escape_sequences_never_reach_the_terminal(self):
        r = self.run_mode("escapes")
        self.assertRc(r, 0)
        self.assertNotIn("\x1b", r.out)
        self.assertNotIn("\x07", r.out)
        self.assertNotIn("\u009b", r.out)
        self.assertIn("evil?]0;pwned?", r.out)
        # --json passes the API's bytes through unchanged (JSON escapes them)
        r = self.run_mode("escapes", "keys", "list", "--json")
        self.assertRc(r, 0)
        self.assertEqual(json.loads(r.out)["data"][0]["name"], "evil\x1b]0;pwned\x07\u009b31m")
        self.assertNotIn("\x1b", r.out)

    def test_answer_that_is_not_json(self):
        r = self.run_mode("notjson", "whoami")
        self.assertRc(r, 1)
        self.assertIn("not JSON", r.err)

    def test_rate_limited_says_when_to_retry(self):
        r = self.run_mode("retry", "whoami")
        self.assertRc(r, 1)
        self.assertIn("rate_limited", r.err)
        self.assertIn("retry after 7s", r.err)


if __name__ == "__main__":
    unittest.main()
