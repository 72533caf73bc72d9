"""
Black-box mutation fuzzing over the network: valid requests for every kind
of endpoint (with a live Bearer key, a session cookie + CSRF token, bodies,
queries) are mutated — bytes flipped, inserted, deleted, runs duplicated,
header lines dropped or repeated, numbers changed — and sent to the real
server for LK_MUTATE_SECONDS (default 10). This reaches the handlers, the
service and the store with hostile input, which the libFuzzer harnesses
(fuzz/) do not. Every answer must be below 500 (or the connection closed),
and the server must stay up and serving. The random seed is printed; rerun
with LK_MUTATE_SEED to reproduce.
"""
import os
import random
import socket
import time

import lkserver
from hostile import ServerCase

SECONDS = float(os.environ.get("LK_MUTATE_SECONDS", "10"))


class Mutate(ServerCase):
    ENV = {"LATCHKEY_BEARER_FAIL_LIMIT": "100000000"}

    def seeds(self):
        c = lkserver.new_user(self.url)
        org = c.post("/v1/organizations", {"name": "mut"}).json["id"]
        prj = c.post("/v1/organizations/%s/projects" % org, {"name": "p"}).json["id"]
        env = c.post("/v1/organizations/%s/projects/%s/environments" % (org, prj), {"name": "e"}).json["id"]
        k = c.post("/v1/me/access-keys", {"name": "k"}).json
        ok = c.post("/v1/organizations/%s/access-keys" % org, {"name": "ok"}).json
        tok, kid = k["token"], k["id"]
        cookie = "latchkey_session=" + c.cookies["latchkey_session"]
        csrf = c.csrf
        B = "Authorization: Bearer " + tok
        S = "Cookie: %s\r\nX-CSRF-Token: %s" % (cookie, csrf)
        J = "Content-Type: application/json"
        O = "/v1/organizations/" + org

        def req(method, path, hdrs, body=""):
            h = "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n" % (method, path)
            for x in hdrs:
                h += x + "\r\n"
            if body or method in ("POST", "PATCH"):
                h += "Content-Length: %d\r\n" % len(body.encode())
            return (h + "\r\n" + body).encode()

        return [
            req("GET", "/v1/whoami", [B]),
            req("GET", "/v1/me", [S]),
            req("PATCH", "/v1/me", [S, J], '{"name":"New Name"}'),
            req("GET", "/v1/me/access-keys?limit=5&cursor=abc", [B]),
            req("POST", "/v1/me/access-keys", [B, J], '{"name":"m","expires_at":"2031-01-01T00:00:00Z"}'),
            req("PATCH", "/v1/me/access-keys/" + kid, [B, J], '{"name":"renamed"}'),
            req("GET", "/v1/organizations?limit=1000", [B]),
            req("POST", "/v1/organizations", [S, J], '{"name":"o2"}'),
            req("GET", O, [B]),
            req("PATCH", O, [B, J], '{"name":"org renamed"}'),
            req("GET", O + "/members", [S]),
            req("POST", O + "/members", [S, J], '{"email":"nobody@example.com"}'),
            req("GET", O + "/projects?limit=2", [B]),
            req("POST", O + "/projects", [B, J], '{"name":"p2"}'),
            req("PATCH", O + "/projects/" + prj, [B, J], '{"name":"p3"}'),
            req("GET", O + "/projects/%s/environments" % prj, [B]),
            req("PATCH", O + "/projects/%s/environments/%s" % (prj, env), [B, J], '{"name":"e2"}'),
            req("GET", O + "/billing", [B]),
            req("PATCH", O + "/billing", [B, J], '{"plan":"pro","billing_email":"b@example.com"}'),
            req("GET", O + "/access-keys", [B]),
            req("POST", O + "/access-keys", [B, J], '{"name":"k2"}'),
            req("PATCH", O + "/access-keys/" + ok["id"], [B, J], '{"name":"k3"}'),
            req("POST", "/v1/auth/login", [J], '{"email":"%s","password":"wrong password"}' % c.email),
            req("GET", "/v1/auth/session", [S]),
            req("POST", "/v1/organizations", [B, "Transfer-Encoding: chunked", J], "")[:-4]
            + b"Transfer-Encoding: chunked\r\n\r\n b\r\n{\"name\":\"c\"}\r\n0\r\n\r\n",
            req("GET", "/", []),
            req("GET", "/js/app.js", []),
        ]

    def mutate(self, rnd, data):
        d = bytearray(data)
        for _ in range(rnd.choice((1, 1, 2, 3, 8))):
            op = rnd.randrange(9)
            i = rnd.randrange(len(d) + 1)
            if op == 0 and d:                          # flip a byte
                d[min(i, len(d) - 1)] = rnd.randrange(256)
            elif op == 1:                              # insert bytes
                d[i:i] = bytes(rnd.choice((b"\x00", b"%", b"\r\n", b"\"", b"\\u0000", b"{", b"..",
                                           b"%00", b"\xff", b"lko_", b"/", b"9" * 20)))
            elif op == 2 and d:                        # delete a run
                del d[i:i + rnd.randrange(1, 16)]
            elif op == 3 and d:                        # duplicate a run
                j = min(len(d), i + rnd.randrange(1, 64))
                d[i:i] = d[i:j] * rnd.randrange(1, 40)
            elif op == 4:                              # repeat or drop a header line
                lines = bytes(d).split(b"\r\n")
                if len(lines) > 3:
                    k = rnd.randrange(1, len(lines) - 2)
                    if rnd.random() < 0.5:
                        lines.insert(k, lines[k])
                    else:
                        del lines[k]
                    d = bytearray(b"\r\n".join(lines))
            elif op == 5 and d:                        # change a digit run
                s = bytes(d)
                pos = [m for m in range(len(s)) if 48 <= s[m] <= 57]
                if pos:
                    p = rnd.choice(pos)
                    d[p:p + 1] = str(rnd.choice((0, -1, 2 ** 31, 2 ** 64, 10 ** 30))).encode()
            elif op == 6 and d:                        # truncate
                del d[i:]
            elif op == 7:                              # a huge string
                d[i:i] = b"A" * rnd.choice((100, 1000, 70000))
            else:                                      # swap case of a run
                d[i:i + 8] = bytes(d[i:i + 8]).swapcase()
        return bytes(d)

    def send(self, data):
        """(status or None, closed)"""
        s = socket.create_connection(("127.0.0.1", self.srv.port), timeout=10)
        try:
            try:
                s.sendall(data)
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            buf = b""
            while True:
                try:
                    c = s.recv(65536)
                except socket.timeout:
                    return None, False
                except OSError:
                    break
                if not c:
                    break
                buf += c
        finally:
            s.close()
        statuses = [int(buf[m + 9:m + 12]) for m in range(len(buf))
                    if buf.startswith(b"HTTP/1.1 ", m) and buf[m + 9:m + 12].isdigit()]
        return statuses, True

    def test_mutated_requests(self):
        seed = int(os.environ.get("LK_MUTATE_SEED", random.randrange(1 << 30)))
        rnd = random.Random(seed)
        seeds = self.seeds()
        # positive control: the unmutated seeds answer below 500 and mostly 2xx
        good = 0
        for sd in seeds:
            st, _ = self.send(sd)
            self.assertTrue(st and st[0] < 500, "seed %r -> %r" % (sd[:60], st))
            good += 200 <= st[0] < 300
        self.assertGreater(good, len(seeds) // 2, "the seeds themselves do not work")
        n, hung, bad = 0, 0, []
        end = time.time() + SECONDS
        while time.time() < end:
            data = self.mutate(rnd, rnd.choice(seeds))
            st, closed = self.send(data)
            n += 1
            if st is None:
                hung += 1
            elif any(x >= 500 for x in st):
                bad.append((st, data[:300]))
            if n % 200 == 0:
                self.assert_serving("after %d mutated requests (seed %d)" % (n, seed))
        print("\nmutate: %d requests, seed %d, %d left waiting (timeout), %d 5xx" % (n, seed, hung, len(bad)))
        self.assertEqual(bad[:3], [], "5xx for mutated requests (LK_MUTATE_SEED=%d)" % seed)
        self.assert_serving()
