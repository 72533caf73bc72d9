"""
hostile.py — shared pieces of the hostile suite: a server per test class
(with the environment the class needs), raw sockets, and the "still
serving others" check every test ends with.
"""
import os
import socket
import time
import unittest
import urllib.parse

import lkserver

BACKEND = os.environ.get("LK_BACKEND", "sqlite")


class ServerCase(unittest.TestCase):
    """One latchkeyd for the whole class; ENV adds to its environment."""
    ENV = {}

    @classmethod
    def setUpClass(cls):
        cls.srv = lkserver.Server(backend=BACKEND, env=cls.ENV).start()

    @classmethod
    def tearDownClass(cls):
        rc = cls.srv.stop()
        log = cls.srv.log_text()
        cls.srv.cleanup()
        # a sanitizer report or a crash anywhere in the class fails the class
        if "Sanitizer" in log or "runtime error" in log or rc != 0:
            raise AssertionError("latchkeyd exited %s; log tail:\n%s" % (rc, log[-4000:]))

    @property
    def url(self):
        return self.srv.url

    def connect(self, timeout=10, source=None):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(timeout)
        if source:
            s.bind((source, 0))
        s.connect(("127.0.0.1", self.srv.port))
        return s

    def raw(self, data, timeout=10):
        return lkserver.raw_http(self.url, data, timeout=timeout)

    def assert_serving(self, msg=""):
        """A fresh connection gets /healthz answered."""
        r = lkserver.Client(self.url, timeout=10).get("/healthz")
        self.assertEqual(r.status, 200, "server stopped serving others %s: %r" % (msg, r))
        self.assertIsNone(self.srv.proc.poll(), "latchkeyd exited")

    def assert_4xx_or_closed(self, r, msg=""):
        if r is None:
            return  # closed without an answer
        self.assertTrue(400 <= r.status < 500, "%s: expected 4xx or close, got %r" % (msg, r))


def recv_all(s, limit=1 << 20, deadline=10.0):
    """Read until EOF (or limit/deadline). Returns (bytes, closed)."""
    buf = b""
    end = time.time() + deadline
    while time.time() < end and len(buf) < limit:
        try:
            c = s.recv(65536)
        except socket.timeout:
            return buf, False
        except (ConnectionResetError, BrokenPipeError):
            return buf, True
        if not c:
            return buf, True
        buf += c
    return buf, False


def wait_closed(s, within):
    """True if the peer closes s within `within` seconds (bytes it sends
    before that are read and dropped)."""
    end = time.time() + within
    s.settimeout(0.5)
    while time.time() < end:
        try:
            c = s.recv(65536)
            if not c:
                return True
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return True
    return False


def host_port(url):
    u = urllib.parse.urlparse(url)
    return u.hostname, u.port
