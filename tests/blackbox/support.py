"""
support.py — what every black-box test module shares: one latchkeyd per test
class (ServerCase), unique users, quick ways to build a scenario (orgs,
projects, keys) and asserts that encode the contract's shapes (error body,
IDs, times, keys).

Everything is checked against /work/shared/spec/api.md. A helper never
hides a failure: scenario helpers assert the status they need and show the
whole response when it is not.
"""
import calendar
import datetime
import os
import re
import secrets
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import lkserver  # noqa: E402
from lkserver import Client, Server, forge_token, redact, token_well_formed  # noqa: E402,F401

BACKEND = os.environ.get("LK_BACKEND", "sqlite")

ERROR_STATUS = {
    "invalid_json": 400, "validation_failed": 400, "unauthenticated": 401, "forbidden": 403,
    "not_found": 404, "method_not_allowed": 405, "conflict": 409, "payload_too_large": 413,
    "unsupported_media_type": 415, "rate_limited": 429, "internal": 500, "unavailable": 503,
    # the device flow's token endpoint (RFC 8628 3.5): all 400
    "authorization_pending": 400, "slow_down": 400, "expired_token": 400, "access_denied": 400,
}
TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$")
ID_RE = re.compile(r"^(usr|org|prj|env|key|ses|inv|evt)_[0-9A-Za-z]+$")
TOKEN_RE = re.compile(r"^lk[op]_[0-9A-Za-z]{38}$")
PASSWORD = "correct horse battery"


def uemail(tag="u"):
    return "%s-%s@example.com" % (tag, secrets.token_hex(6))


def uname(tag="n"):
    return "%s %s" % (tag, secrets.token_hex(4))


def parse_time(s):
    """RFC 3339 UTC string -> epoch seconds (float)."""
    m = TIME_RE.match(s)
    if not m:
        raise ValueError("not an RFC 3339 UTC time: %r" % (s,))
    base = datetime.datetime.strptime(s[:19], "%Y-%m-%dT%H:%M:%S")
    frac = float("0" + m.group(1)) if m.group(1) else 0.0
    return calendar.timegm(base.timetuple()) + frac


def fmt_time(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


class ServerCase(unittest.TestCase):
    """One server per test class. Subclasses may set server_args / server_env."""

    server_args = ()
    server_env = None
    srv = None

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(backend=BACKEND, args=cls.server_args, env=cls.server_env)
        try:
            cls.srv.start()
        except Exception:
            cls.srv.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.srv:
            cls.srv.cleanup()

    # ---- clients -------------------------------------------------------
    @property
    def url(self):
        return self.srv.url

    def anon(self):
        return Client(self.url)

    def bearer(self, token):
        return Client(self.url, token=token)

    def user(self, email=None, name="Test User"):
        """A fresh signed-up, logged-in user (cookie + CSRF)."""
        return lkserver.new_user(self.url, email=email or uemail(), password=PASSWORD, name=name)

    # ---- scenario builders (assert what they need) -----------------------
    def ok(self, r, status=200):
        self.assertEqual(r.status, status, "expected %d, got %r" % (status, r))
        if status == 204:
            self.assertEqual(r.body, "", "a 204 with a body: %r" % r)
            return None
        if (r.header("Content-Type") or "").startswith("application/json"):
            # a JSON body that does not parse must fail here, not pass unchecked
            self.assertIsNotNone(r.json, "the body is not JSON: %r" % r)
        if r.json is not None:
            self.assert_conventions(r.json)
        return r.json

    def assert_conventions(self, body, where="$"):
        """Every success body, recursively: *_at is null or RFC 3339 UTC;
        id / *_id / created_by carry a type prefix; no token except in the
        `token` field of a create."""
        if isinstance(body, dict):
            for k, v in body.items():
                w = "%s.%s" % (where, k)
                if k.endswith("_at") and v is not None:
                    self.assertIsInstance(v, str, w)
                    self.assertRegex(v, TIME_RE, "%s is not RFC 3339 UTC: %r" % (w, v))
                elif (k == "id" or k.endswith("_id") or k == "created_by") and v is not None:
                    self.assertIsInstance(v, str, w)
                    self.assertRegex(v, ID_RE, "%s is not a typed ID: %r" % (w, v))
                elif k != "token" and isinstance(v, str):
                    self.assertIsNone(TOKEN_RE.match(v), "%s holds a token: %r" % (w, v))
                else:
                    self.assert_conventions(v, w)
        elif isinstance(body, list):
            for i, v in enumerate(body):
                self.assert_conventions(v, "%s[%d]" % (where, i))

    def make_org(self, c, name=None):
        return self.ok(c.post("/v1/organizations", {"name": name or uname("org")}), 201)

    def make_project(self, c, org_id, name=None):
        return self.ok(c.post("/v1/organizations/%s/projects" % org_id, {"name": name or uname("prj")}), 201)

    def make_env(self, c, org_id, prj_id, name=None):
        return self.ok(c.post("/v1/organizations/%s/projects/%s/environments" % (org_id, prj_id),
                              {"name": name or uname("env")}), 201)

    def make_pkey(self, c, name=None, **extra):
        body = {"name": name or uname("pk")}
        body.update(extra)
        return self.ok(c.post("/v1/me/access-keys", body), 201)

    def make_okey(self, c, org_id, name=None, **extra):
        body = {"name": name or uname("ok")}
        body.update(extra)
        return self.ok(c.post("/v1/organizations/%s/access-keys" % org_id, body), 201)

    def add_member(self, c, org_id, email):
        return self.ok(c.post("/v1/organizations/%s/members" % org_id, {"email": email}), 201)

    def list_all(self, c, path, limit=None):
        """Walk a list through its cursors; returns every item."""
        items, cursor, pages = [], None, 0
        while True:
            q = []
            if limit:
                q.append("limit=%d" % limit)
            if cursor:
                q.append("cursor=" + cursor)
            r = c.get(path + ("?" + "&".join(q) if q else ""))
            body = self.ok(r)
            self.assert_list_shape(body)
            items.extend(body["data"])
            cursor = body["next_cursor"]
            pages += 1
            self.assertLess(pages, 10000, "cursor walk does not end")
            if not cursor:
                return items

    # ---- contract asserts ----------------------------------------------
    def assert_error(self, r, status, code=None, field=None, msg=""):
        """The exact error shape: {"error": {"code", "message"[, "field"]}}."""
        ctx = "%s -> %r" % (msg, r)
        self.assertEqual(r.status, status, ctx)
        self.assertIsInstance(r.json, dict, "error body is not JSON: " + ctx)
        self.assertEqual(set(r.json.keys()), {"error"}, ctx)
        e = r.json["error"]
        self.assertIsInstance(e, dict, ctx)
        self.assertIsInstance(e.get("code"), str, ctx)
        self.assertIsInstance(e.get("message"), str, ctx)
        self.assertTrue(e["message"], "empty message: " + ctx)
        self.assertEqual(ERROR_STATUS.get(e["code"]), status, "code does not fit status: " + ctx)
        low = e["message"].lower()
        for leak in ("select ", "insert ", "update ", "delete from", "sqlite", "sqlstate", "constraint",
                     "syntax error", "pq_", "libpq", "argon", "$argon2", "stack", ".c:"):
            self.assertNotIn(leak, low, "internal detail in error message: " + ctx)
        if code is not None:
            if isinstance(code, (tuple, list, set)):
                self.assertIn(e["code"], code, ctx)
            else:
                self.assertEqual(e["code"], code, ctx)
        allowed = {"code", "message"}
        if e["code"] == "validation_failed":
            allowed.add("field")
            self.assertIsInstance(e.get("field"), str, "validation_failed without field: " + ctx)
        if e["code"] == "forbidden":
            allowed.add("required_scope")  # a key used outside its scopes (api.md "Scoped keys")
        self.assertLessEqual(set(e.keys()), allowed, "extra keys in error: " + ctx)
        if field is not None:
            self.assertEqual(e.get("field"), field, ctx)
        ct = (r.header("Content-Type") or "").lower()
        self.assertTrue(ct.startswith("application/json"), "error Content-Type %r: %s" % (ct, ctx))
        if status == 401:
            wa = r.header("WWW-Authenticate") or ""
            self.assertTrue(wa.lower().startswith("bearer"), "401 without WWW-Authenticate: Bearer: " + ctx)
        if status == 429:
            ra = r.header("Retry-After")
            self.assertIsNotNone(ra, "429 without Retry-After: " + ctx)
            self.assertTrue(ra.strip().isdigit() and int(ra) >= 1, "bad Retry-After %r" % ra)
        return e

    def assert_no_500(self, r, msg=""):
        self.assertLess(r.status, 500, "%s -> %r" % (msg, r))
        if r.status >= 400:
            self.assert_error(r, r.status, msg=msg)

    def assert_time(self, s, near=None, msg=""):
        self.assertIsInstance(s, str, msg)
        self.assertRegex(s, TIME_RE, msg)
        t = parse_time(s)
        if near is not None:
            # same machine, same clock: a generous window, not a timing test
            self.assertLess(abs(t - near), 600, "%s: %s is far from now" % (msg, s))
        return t

    def assert_id(self, s, prefix, msg=""):
        self.assertIsInstance(s, str, msg)
        self.assertTrue(s.startswith(prefix + "_"), "%s: %r lacks %s_" % (msg, s, prefix))
        self.assertRegex(s, ID_RE, msg)

    def assert_list_shape(self, body):
        self.assertIsInstance(body, dict)
        self.assertIn("data", body)
        self.assertIn("next_cursor", body)
        self.assertIsInstance(body["data"], list)
        self.assertTrue(body["next_cursor"] is None or (isinstance(body["next_cursor"], str) and body["next_cursor"]),
                        body["next_cursor"])

    def assert_user_shape(self, u, email=None):
        self.assertIsInstance(u, dict)
        for k in ("id", "email", "name", "created_at"):
            self.assertIn(k, u, u)
        self.assert_id(u["id"], "usr")
        self.assertIsInstance(u["email"], str)
        self.assertIsInstance(u["name"], str)
        self.assert_time(u["created_at"], near=time.time())
        for k in u:
            self.assertNotIn("password", k.lower(), u)
            self.assertNotIn("hash", k.lower(), u)
        if email is not None:
            self.assertEqual(u["email"].lower(), email.lower())

    def assert_key_shape(self, k, kind, with_token=False, org_id=None):
        """kind: "organization" | "personal"."""
        self.assertIsInstance(k, dict)
        need = ["id", "name", "type", "redacted", "created_at", "created_by", "last_used_at", "expires_at"]
        if kind == "organization":
            need.append("organization_id")
        for f in need:
            self.assertIn(f, k, "key lacks %s: %r" % (f, k))
        self.assert_id(k["id"], "key")
        self.assertIsInstance(k["name"], str)
        self.assertEqual(k["type"], kind)
        self.assert_time(k["created_at"], near=time.time())
        self.assert_id(k["created_by"], "usr")
        if k["last_used_at"] is not None:
            self.assert_time(k["last_used_at"])
        if k["expires_at"] is not None:
            self.assert_time(k["expires_at"])
        if kind == "organization":
            self.assert_id(k["organization_id"], "org")
            if org_id:
                self.assertEqual(k["organization_id"], org_id)
        prefix = "lko_" if kind == "organization" else "lkp_"
        self.assertIsInstance(k["redacted"], str)
        self.assertRegex(k["redacted"], "^" + prefix + "[0-9A-Za-z]{4}\u2026[0-9A-Za-z]{4}$")
        for f in k:
            self.assertNotIn("hash", f.lower(), k)
            self.assertNotIn("secret", f.lower(), k)
        if with_token:
            self.assertIn("token", k)
            self.assertRegex(k["token"], TOKEN_RE)
            self.assertTrue(k["token"].startswith(prefix), k["token"])
            self.assertTrue(token_well_formed(k["token"]), "checksum does not hold: %s" % k["token"])
            self.assertEqual(k["redacted"], redact(k["token"]))
        else:
            self.assertNotIn("token", k, "token returned again: %r" % k)
            for v in k.values():
                if isinstance(v, str):
                    self.assertIsNone(TOKEN_RE.match(v), "a token-like value in %r" % k)
