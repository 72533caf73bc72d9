"""
Slow and idle clients, connection floods. The server runs with a short
request timeout (LATCHKEY_REQUEST_TIMEOUT_MS=1500) so waits stay bounded:
a request must arrive whole within it, and an idle keep-alive connection
is closed after it. Bounds below are generous multiples of it (the tests
check that the server closes at all, not how fast).
"""
import os
import resource
import socket
import threading
import time

import lkserver
from hostile import ServerCase, wait_closed

TIMEOUT_S = 1.5
CLOSE_WITHIN = 15.0  # 10x the timeout: "closes", not "closes fast"
# idle connections for test_many_idle_connections: 2,000 in CI; the 10,000
# of docs/security.md is LK_HOSTILE_IDLE=10000 (the server's cap is raised
# above it so the check measures responsiveness, not the cap)
IDLE = int(os.environ.get("LK_HOSTILE_IDLE", "2000"))


def raise_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(n, hard), hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class Slow(ServerCase):
    ENV = {"LATCHKEY_REQUEST_TIMEOUT_MS": str(int(TIMEOUT_S * 1000))}

    def trickle(self, head, body=b"", step=0.2):
        """Send head then body one byte per step; returns (closed, seconds)."""
        s = self.connect(timeout=CLOSE_WITHIN)
        t0 = time.time()
        closed = False
        try:
            s.sendall(head)
            for b in body:
                s.sendall(bytes([b]))
                time.sleep(step)
                if time.time() - t0 > CLOSE_WITHIN:
                    break
            else:
                pass
        except (BrokenPipeError, ConnectionResetError):
            closed = True
        if not closed:
            closed = wait_closed(s, max(0.0, CLOSE_WITHIN - (time.time() - t0)))
        s.close()
        return closed, time.time() - t0

    def test_slowloris_headers(self):
        # the header block never ends: a byte every 0.2 s
        done = {}

        def attack():
            done["closed"], done["secs"] = self.trickle(b"GET /healthz HTTP/1.1\r\nHost: x\r\n",
                                                        b"X-Slow: " + b"a" * 200)
        t = threading.Thread(target=attack)
        t.start()
        time.sleep(0.5)
        self.assert_serving("during a slowloris")
        t.join()
        self.assertTrue(done["closed"], "a trickled header block was never cut off")
        self.assert_serving()

    def test_slow_body(self):
        head = (b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: 1000\r\n\r\n")
        closed, secs = self.trickle(head, b" " * 1000)
        self.assertTrue(closed, "a trickled body was never cut off")
        self.assert_serving()

    def test_slow_chunked_body(self):
        head = (b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n")
        closed, secs = self.trickle(head, b"1\r\n \r\n" * 200)
        self.assertTrue(closed, "a trickled chunked body was never cut off")
        self.assert_serving()

    def test_idle_connection_closed(self):
        s = self.connect()
        self.assertTrue(wait_closed(s, CLOSE_WITHIN), "an idle connection stays open")
        s.close()
        # and after a request, an idle keep-alive connection
        s = self.connect()
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertTrue(wait_closed(s, CLOSE_WITHIN), "an idle keep-alive connection stays open")
        s.close()


class ManyIdle(ServerCase):
    """IDLE connections held open at once (the request timeout is long here,
    so none is cut off while the test runs): the server keeps serving new
    clients, including a signup (argon2id on a worker) and a write."""
    ENV = {"LATCHKEY_REQUEST_TIMEOUT_MS": "60000", "LATCHKEY_MAX_CONNECTIONS": str(IDLE + 500)}

    def test_many_idle_connections(self):
        n = IDLE
        if raise_nofile(n + 200) < n + 200:
            self.skipTest("RLIMIT_NOFILE too low for %d connections" % n)
        socks = []
        try:
            for i in range(n):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.settimeout(10)
                s.connect(("127.0.0.1", self.srv.port))
                socks.append(s)
                if i % 500 == 499:
                    self.assert_serving("with %d idle connections" % (i + 1))
            # a few of them even started a request and stopped
            for s in socks[:200]:
                s.sendall(b"GET /v1/me HTTP/1.1\r\nHost: x\r\n")
            # all of them are still open (the server dropped none)
            still = 0
            for s in socks:
                s.setblocking(False)
                try:
                    still += 0 if s.recv(1) == b"" else 1
                except BlockingIOError:
                    still += 1
                except OSError:
                    pass
                s.setblocking(True)
            self.assertEqual(still, n, "the server dropped idle connections")
            # and the server really holds them (accepted, not in the backlog)
            time.sleep(0.5)
            held = len(os.listdir("/proc/%d/fd" % self.srv.proc.pid))
            self.assertGreaterEqual(held, n, "latchkeyd holds only %d descriptors" % held)
            c = lkserver.new_user(self.url)  # argon2id and a write, with 2000 idle sockets
            self.assertEqual(c.get("/v1/me").status, 200)
            self.assert_serving("with %d idle connections" % n)
        finally:
            for s in socks:
                s.close()
        self.assert_serving()


class ConnectionCap(ServerCase):
    """With LATCHKEY_MAX_CONNECTIONS=50: the 51st connection is closed at
    once (not queued, not answered), the server keeps serving the 50, and
    once they go, new clients are served again."""
    CAP = 50
    ENV = {"LATCHKEY_MAX_CONNECTIONS": str(CAP), "LATCHKEY_REQUEST_TIMEOUT_MS": "60000"}

    def test_cap(self):
        socks = [self.connect() for _ in range(self.CAP)]
        try:
            # each of them answered once: all accepted (none left in the backlog)
            for s in socks:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            for s in socks:
                self.assertTrue(s.recv(4096).startswith(b"HTTP/1.1 200"))
            extra = self.connect()
            extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertTrue(wait_closed(extra, 10), "a connection over the cap was kept open")
            extra.close()
            # the ones inside the cap are still served
            for s in socks[:5]:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                s.settimeout(10)
                self.assertTrue(s.recv(4096).startswith(b"HTTP/1.1 200"))
        finally:
            for s in socks:
                s.close()
        # the slots come back once the connections are gone
        deadline = time.time() + 15
        while True:
            try:
                r = lkserver.Client(self.url, timeout=5).get("/healthz")
                if r.status == 200:
                    break
            except OSError:
                pass
            self.assertLess(time.time(), deadline, "connection slots were not given back")
            time.sleep(0.2)
