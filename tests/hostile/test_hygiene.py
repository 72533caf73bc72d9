"""
HTTP/1.1 hygiene (issue 13: "as found by hand probes"), on raw sockets:

- a request without Host, with two Host headers, or with an obsolete
  folded header line is 400 in the API's JSON error shape (on API paths
  and dashboard paths alike) and the connection closes; HTTP/1.0 may
  leave Host out;
- framing errors h2o finds itself (Content-Length: -1 and other broken
  lengths, Content-Length with Transfer-Encoding) are 400 in the JSON
  shape too, never plain text;
- every 204 carries Content-Length: 0.
"""
import lkserver
from hostile import ServerCase, recv_all

JSON = b"Content-Type: application/json\r\n"


class Hygiene(ServerCase):
    def assert_json_400(self, data, msg):
        s = self.connect()
        s.sendall(data)
        buf, closed = recv_all(s, deadline=10)
        s.close()
        self.assertTrue(buf.startswith(b"HTTP/1.1 400"), "%s: %r" % (msg, buf[:300]))
        r = lkserver._parse_raw_response(buf, final=True)
        self.assertTrue((r.header("Content-Type") or "").startswith("application/json"), "%s: %r" % (msg, r))
        self.assertEqual(r.code, "invalid_json", "%s: %r" % (msg, r))
        self.assertTrue(r.json["error"]["message"], msg)
        self.assertTrue(closed, "%s: the connection stayed open" % msg)
        self.assert_serving(msg)
        return r

    def test_host_rules(self):
        for path in (b"/healthz", b"/v1/whoami", b"/", b"/orgs/new"):
            self.assert_json_400(b"GET " + path + b" HTTP/1.1\r\nConnection: close\r\n\r\n", "no Host %s" % path)
            self.assert_json_400(b"GET " + path + b" HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "two Hosts %s" % path)
            self.assert_json_400(b"GET " + path + b" HTTP/1.1\r\nhost: a\r\nX-A: 1\r\nHOST: a\r\n\r\n",
                                 "two Hosts, mixed case %s" % path)
        # HTTP/1.0 may leave it out; one Host is the positive control
        r = self.raw(b"GET /healthz HTTP/1.0\r\n\r\n")
        self.assertEqual(r.status, 200, r)
        r = self.raw(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.assertEqual(r.status, 200, r)
        # a header whose name merely starts like Host is not a second Host
        r = self.raw(b"GET /healthz HTTP/1.1\r\nHost: x\r\nHostname: y\r\nConnection: close\r\n\r\n")
        self.assertEqual(r.status, 200, r)

    def test_obsolete_line_folding(self):
        for fold in (b"X-A: 1\r\n folded\r\n", b"X-A: 1\r\n\tfolded\r\n", b"Host: x\r\n y\r\n"):
            head = b"" if fold.startswith(b"Host") else b"Host: x\r\n"
            self.assert_json_400(b"GET /healthz HTTP/1.1\r\n" + head + fold + b"\r\n", "fold %r" % fold)
            self.assert_json_400(b"POST /v1/auth/login HTTP/1.1\r\n" + head + JSON + fold +
                                 b"Content-Length: 2\r\n\r\n{}", "fold on a POST %r" % fold)

    def test_framing_errors_are_json(self):
        for cl in (b"-1", b"abc", b"1e3", b"99999999999999999999999"):
            self.assert_json_400(b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\n" + JSON +
                                 b"Content-Length: " + cl + b"\r\n\r\n{}", "Content-Length %r" % cl)
        self.assert_json_400(b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\n" + JSON +
                             b"Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
                             "Content-Length and Transfer-Encoding")

    def test_204_content_length_zero(self):
        u = lkserver.new_user(self.url)
        k = u.post("/v1/me/access-keys", {"name": "k"}).json
        sid = [s for s in u.get("/v1/me/sessions").json["data"] if s["current"]][0]["id"]
        other = lkserver.Client(self.url)
        other.login(u.email, u.password)
        oid = [s for s in other.get("/v1/me/sessions").json["data"] if s["current"]][0]["id"]
        self.assertNotEqual(sid, oid)
        checks = [
            ("DELETE key", lambda: u.delete("/v1/me/access-keys/" + k["id"])),
            ("DELETE session", lambda: u.delete("/v1/me/sessions/" + oid)),
            ("PATCH password", lambda: u.patch("/v1/me/password", {"current_password": u.password,
                                                                   "new_password": "another long one"})),
            ("logout", lambda: u.post("/v1/auth/logout")),
        ]
        for what, call in checks:
            r = call()
            self.assertEqual(r.status, 204, "%s: %r" % (what, r))
            self.assertEqual(r.header("Content-Length"), "0", "%s: %r" % (what, r.headers))
            self.assertEqual(r.body, "", what)
