#!/usr/bin/env python3
"""
v6flood.py — run by test_account.SignupFloodIPv6 inside a private network
namespace (`unshare -n`, root only): the only place a test can own a whole
IPv6 /64. Sets loopback up with 2001:db8:1:2::1/64 and 2001:db8:1:3::1/64
(documentation prefixes, reachable from nowhere) and makes every address of
both /64s local (a `local` route), starts latchkeyd on
[2001:db8:1:2::1] with --signup-limit LIMIT and a fresh SQLite database,
then:

  1. signs up one user from 2001:db8:1:3::5 (another /64);
  2. floods signups from FLOOD distinct addresses of 2001:db8:1:2::/64
     (IP_FREEBIND lets a socket use any of them), in parallel;
  3. meanwhile logs that user in from 2001:db8:1:2::ffff (inside the
     flooding /64) and from 2001:db8:1:3::6, timing the answers;
  4. signs up once more from 2001:db8:1:3::7.

Prints one JSON object with the statuses and times, for the test to judge.

    unshare -n python3 v6flood.py LATCHKEYD DBPATH LIMIT FLOOD
"""
import concurrent.futures
import http.client
import json
import socket
import subprocess
import sys
import time

IP_FREEBIND = 15
SERVER = "2001:db8:1:2::1"
PASSWORD = "correct horse battery"


def sh(*cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


class FromConnection(http.client.HTTPConnection):
    """An HTTP connection whose socket is bound to a chosen source address."""

    def __init__(self, source, port):
        super().__init__(SERVER, port, timeout=30)
        self.src = source

    def connect(self):
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_IP, IP_FREEBIND, 1)
        s.settimeout(30)
        s.bind((self.src, 0))
        s.connect((SERVER, self.port))
        self.sock = s


def post(source, port, path, body):
    c = FromConnection(source, port)
    try:
        c.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        return r.status
    finally:
        c.close()


def wait_ready(port, proc):
    deadline = time.time() + 15
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit("latchkeyd exited: %s" % proc.returncode)
        try:
            c = FromConnection("2001:db8:1:3::2", port)
            c.request("GET", "/healthz")
            if c.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("latchkeyd did not become healthy")


def main():
    latchkeyd, db, limit, flood = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    sh("ip", "link", "set", "lo", "up")
    sh("ip", "-6", "addr", "add", SERVER + "/64", "dev", "lo", "nodad")
    sh("ip", "-6", "addr", "add", "2001:db8:1:3::1/64", "dev", "lo", "nodad")
    for net in ("2001:db8:1:2::/64", "2001:db8:1:3::/64"):  # every address of both is this host's
        sh("ip", "-6", "route", "add", "local", net, "dev", "lo", "table", "local")
    port = 18080
    proc = subprocess.Popen([latchkeyd, "--listen", "[%s]:%d" % (SERVER, port), "--database", "sqlite:" + db,
                             "--signup-limit", str(limit), "--threads", "2"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    try:
        wait_ready(port, proc)
        out = {"setup": post("2001:db8:1:3::5", port, "/v1/auth/signup",
                             {"email": "owner@example.com", "password": PASSWORD, "name": "Owner"})}

        def signup(i):
            return post("2001:db8:1:2:%x::%x" % (i // 100 + 1, i % 100 + 1), port, "/v1/auth/signup",
                        {"email": "flood%d@example.com" % i, "password": PASSWORD, "name": "F"})

        def login(source):
            t0 = time.time()
            st = post(source, port, "/v1/auth/login", {"email": "owner@example.com", "password": PASSWORD})
            return st, time.time() - t0

        with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
            futs = [pool.submit(signup, i) for i in range(flood)]
            out["login_inside"] = login("2001:db8:1:2::ffff")
            out["login_outside"] = login("2001:db8:1:3::6")
            out["flood"] = [f.result() for f in futs]
        out["other_64"] = post("2001:db8:1:3::7", port, "/v1/auth/signup",
                               {"email": "later@example.com", "password": PASSWORD, "name": "L"})
        print(json.dumps(out))
    finally:
        proc.terminate()
        proc.wait(20)


if __name__ == "__main__":
    main()
