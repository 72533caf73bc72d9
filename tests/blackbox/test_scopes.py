"""
test_scopes.py — least privilege (api.md "Scoped keys"): scopes on keys,
minting limits, allowed_cidrs, --trusted-proxies and X-Forwarded-For,
last_used_ip, Latchkey-Key-Expires-At, and the org's
access_key_max_lifetime_days.

The route table test is generated from `latchkeyd --print-routes` (each line
"METHOD PATTERN SCOPE", SCOPE "-" for a public route), so a new route is
covered without touching this file: every route x {full access, read-only,
no scope for it}, with personal keys and (for organization routes) org keys.
The scope a route prints is also checked against the contract's table by an
oracle written here from the path and the method, independently of the
server's own table.
"""
import os
import re
import subprocess
import time

import lkserver
from support import PASSWORD, ServerCase, fmt_time, uemail, uname

ALL_SCOPES = ["audit:read", "billing:read", "billing:write", "keys:read", "keys:write",
              "members:read", "members:write", "org:read", "org:write", "projects:read",
              "projects:write", "user:read", "user:write"]
READ_ONLY = [s for s in ALL_SCOPES if s.endswith(":read")]
ORG_READ_ONLY = [s for s in READ_ONLY if not s.startswith("user:")]
EXPIRES_HEADER = "Latchkey-Key-Expires-At"
PARAM_PREFIX = {"org_id": "org_", "user_id": "usr_", "project_id": "prj_", "environment_id": "env_",
                "key_id": "key_", "invitation_id": "inv_", "session_id": "ses_"}


def print_routes():
    out = subprocess.run([lkserver.LATCHKEYD, "--print-routes"], check=True,
                         stdout=subprocess.PIPE, universal_newlines=True).stdout
    routes = []
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 3:
            routes.append((f[0], f[1], f[2]))
    return routes


def contract_scope(method, pattern):
    """The scope api.md's table gives a route, or None where this oracle
    does not know the route (a route from later work: only the server's
    own table is then checked for consistency)."""
    read = method in ("GET", "HEAD")
    rw = lambda res: res + (":read" if read else ":write")  # noqa: E731
    p = pattern
    if p == "/v1/whoami":
        return "org:read"
    if p == "/v1/me":
        return rw("user")
    if p.startswith("/v1/me/access-keys"):
        return rw("keys")
    if p == "/v1/organizations":
        return "org:read" if read else "org:write"
    m = re.match(r"^/v1/organizations/\{org_id\}(/[a-z-]+)?", p)
    if not m:
        return None
    sub = m.group(1)
    return {None: rw("org"), "/members": rw("members"), "/invitations": rw("members"),
            "/projects": rw("projects"), "/billing": rw("billing"), "/access-keys": rw("keys"),
            "/audit-events": "audit:read"}.get(sub)


def without(scope):
    """Every scope but the resource's read and write: no scope for it."""
    res = scope.split(":")[0]
    return [s for s in ALL_SCOPES if not s.startswith(res + ":")]


def scope_error(r):
    if r.status != 403 or not isinstance(r.json, dict):
        return None
    return (r.json.get("error") or {}).get("required_scope")


class RouteTable(ServerCase):
    """Every route x {full, read-only, no scope for it}."""

    def world(self):
        """An org with a project, an environment, a second member and a
        victim key; ids for every path parameter."""
        c = self.user()
        org = self.make_org(c)["id"]
        prj = self.make_project(c, org)["id"]
        env = self.make_env(c, org, prj)["id"]
        other_email = uemail("other")
        other = self.user(email=other_email)
        self.add_member(c, org, other_email)
        victim = self.make_okey(c, org)["id"]
        ids = {"org_id": org, "project_id": prj, "environment_id": env, "user_id": other.user["id"],
               "key_id": victim}
        return c, ids, other_email

    def fill(self, pattern, ids, personal_victim):
        def sub(m):
            name = m.group(1)
            if name == "key_id" and pattern.startswith("/v1/me/"):
                return personal_victim
            if name in ids:
                return ids[name]
            if name == "invitation_token":  # well-formed, never issued
                return "lki_" + "A" * 38
            prefix = PARAM_PREFIX.get(name)
            if prefix is None:
                self.fail("no way to fill {%s}: teach fill() the new parameter" % name)
            return prefix + "A" * 20
        return re.sub(r"\{([a-z_]+)\}", sub, pattern)

    def body_for(self, method, pattern, other_email):
        if method not in ("POST", "PATCH"):
            return None
        if pattern.endswith("/members"):
            return {"email": other_email}
        if pattern.endswith("/billing"):
            return {"plan": "pro"}
        return {"name": uname("x")}

    def test_printed_scopes_match_the_contract(self):
        routes = print_routes()
        self.assertGreater(len(routes), 30, routes)
        for method, pattern, scope in routes:
            if scope == "-":
                continue
            self.assertIn(scope, ALL_SCOPES, (method, pattern))
            want = contract_scope(method, pattern)
            if want is not None:
                self.assertEqual(scope, want, "%s %s" % (method, pattern))

    def test_public_routes_need_no_scope_and_others_do(self):
        for method, pattern, scope in print_routes():
            # /v1/auth/* is public but for the device decisions (a session's)
            decisions = {("GET", "/v1/auth/device"), ("POST", "/v1/auth/device/approve"),
                         ("POST", "/v1/auth/device/deny")}
            public = pattern in ("/healthz", "/readyz") or (
                pattern.startswith("/v1/auth/") and (method, pattern) not in decisions)
            if public:
                self.assertEqual(scope, "-", "%s %s" % (method, pattern))

    def run_table(self, personal):
        c, ids, other_email = self.world()
        org = ids["org_id"]
        routes = [r for r in print_routes() if r[2] != "-"]
        if not personal:
            routes = [r for r in routes if r[1].startswith("/v1/organizations/{org_id}")]
        mk = (lambda **kw: self.make_pkey(c, **kw)) if personal else \
             (lambda **kw: self.make_okey(c, org, **kw))
        ro = READ_ONLY if personal else ORG_READ_ONLY
        ro_key = self.bearer(mk(scopes=ro)["token"])
        pvictim = self.make_pkey(c)["id"]
        checked = 0
        # restricted keys first: a refused request changes nothing
        for method, pattern, scope in routes:
            path = self.fill(pattern, ids, pvictim)
            body = self.body_for(method, pattern, other_email)
            what = "%s %s (%s)" % (method, pattern, scope)
            r = ro_key.request(method, path, json=body)
            if scope.endswith(":read"):
                self.assertIsNone(scope_error(r), "read-only key refused a read: " + what)
                self.assert_no_500(r, what)
            else:
                e = self.assert_error(r, 403, "forbidden", msg="read-only key on " + what)
                self.assertEqual(e.get("required_scope"), scope, what)
            none_scopes = [s for s in without(scope) if personal or not s.startswith("user:")]
            if scope == "org:read":
                continue  # every key holds org:read
            nk = self.bearer(mk(scopes=none_scopes)["token"])
            r = nk.request(method, path, json=body)
            e = self.assert_error(r, 403, "forbidden", msg="key without %s on %s" % (scope, what))
            self.assertEqual(e.get("required_scope"), scope, what)
            checked += 1
        # then full access, deletes last and the org's own delete at the very end
        full = self.bearer(mk()["token"])
        order = sorted(routes, key=lambda r: (r[0] == "DELETE", r[1] == "/v1/organizations/{org_id}"))
        for method, pattern, scope in order:
            path = self.fill(pattern, ids, pvictim)
            r = full.request(method, path, json=self.body_for(method, pattern, other_email))
            self.assertIsNone(scope_error(r), "full key refused for scope: %s %s" % (method, pattern))
            self.assert_no_500(r, "%s %s" % (method, pattern))
        self.assertGreater(checked, 20)

    def test_every_route_with_personal_keys(self):
        self.run_table(personal=True)

    def test_every_organization_route_with_org_keys(self):
        self.run_table(personal=False)

    def test_sessions_are_not_scoped(self):
        c = self.user()
        org = self.make_org(c)["id"]
        self.ok(c.post("/v1/organizations/%s/projects" % org, {"name": "p"}), 201)
        self.ok(c.patch("/v1/me", {"name": "Still Me"}))


class ScopeValidation(ServerCase):
    def test_bad_scope_lists_400(self):
        c = self.user()
        org = self.make_org(c)["id"]
        cases = [
            ("unknown", ["projects:read", "projects:admin"]),
            ("duplicate", ["projects:read", "projects:read"]),
            ("empty", []),
            ("star mixed", ["*", "projects:read"]),
            ("two stars", ["*", "*"]),
            ("not a list", "projects:read"),
            ("null", None),
            ("non-string item", ["projects:read", 7]),
            ("case", ["Projects:Read"]),
            ("spaces", [" projects:read"]),
            ("33 items", ["projects:read"] * 33),
            ("long junk", ["x" * 5000]),
        ]
        for path in ("/v1/me/access-keys", "/v1/organizations/%s/access-keys" % org):
            for what, scopes in cases:
                r = c.post(path, {"name": "k", "scopes": scopes})
                self.assert_error(r, 400, "validation_failed", field="scopes", msg="%s %s" % (what, path))

    def test_org_key_asking_user_scopes_400(self):
        c = self.user()
        org = self.make_org(c)["id"]
        for s in (["user:read"], ["user:write"], ["projects:read", "user:read"]):
            r = c.post("/v1/organizations/%s/access-keys" % org, {"name": "k", "scopes": s})
            self.assert_error(r, 400, "validation_failed", field="scopes", msg=repr(s))
        # a personal key may have them
        k = self.make_pkey(c, scopes=["user:read"])
        self.assertEqual(k["scopes"], ["user:read"])

    def test_scopes_echoed_minimal_and_star_by_default(self):
        c = self.user()
        self.assertEqual(self.make_pkey(c)["scopes"], ["*"])
        self.assertEqual(self.make_pkey(c, scopes=["*"])["scopes"], ["*"])
        k = self.make_pkey(c, scopes=["projects:write", "projects:read", "billing:read"])
        self.assertEqual(k["scopes"], ["billing:read", "projects:write"])
        self.assertEqual(k["allowed_cidrs"], [])
        self.assertIsNone(k["created_by_key"])
        self.assertIsNone(k["last_used_ip"])
        listed = [x for x in self.list_all(c, "/v1/me/access-keys") if x["id"] == k["id"]][0]
        self.assertEqual(listed["scopes"], ["billing:read", "projects:write"])

    def test_write_implies_read(self):
        c = self.user()
        org = self.make_org(c)["id"]
        k = self.bearer(self.make_okey(c, org, scopes=["projects:write"])["token"])
        self.ok(k.get("/v1/organizations/%s/projects" % org))
        self.ok(k.post("/v1/organizations/%s/projects" % org, {"name": "p"}), 201)
        self.ok(k.get("/v1/organizations/%s" % org))  # org:read: every key
        e = self.assert_error(k.get("/v1/organizations/%s/billing" % org), 403, "forbidden")
        self.assertEqual(e["required_scope"], "billing:read")

    def test_scopes_cannot_change(self):
        c = self.user()
        k = self.make_pkey(c, scopes=["projects:read"])
        r = c.patch("/v1/me/access-keys/" + k["id"], {"scopes": ["*"]})
        self.assert_error(r, 400, "validation_failed", field="scopes")
        r = c.patch("/v1/me/access-keys/" + k["id"], {"name": "renamed", "scopes": ["*"]})
        self.assert_error(r, 400, "validation_failed", field="scopes")
        listed = [x for x in self.list_all(c, "/v1/me/access-keys") if x["id"] == k["id"]][0]
        self.assertEqual((listed["name"], listed["scopes"]), (k["name"], ["projects:read"]))


class Minting(ServerCase):
    def test_key_mints_only_within_its_scopes(self):
        c = self.user()
        org = self.make_org(c)["id"]
        # org keys never manage keys (the "who may do what" table): a
        # personal key of a member mints the org's keys
        minter = self.make_pkey(c, scopes=["keys:write", "projects:read"])
        m = self.bearer(minter["token"])
        path = "/v1/organizations/%s/access-keys" % org
        k = self.ok(m.post(path, {"name": "child", "scopes": ["projects:read"]}), 201)
        self.assertEqual(k["created_by_key"], minter["id"])
        self.assertEqual(k["created_by"], c.user["id"])
        for asked, missing in ((["projects:write"], "projects:write"), (["*"], "audit:read"),
                               (["billing:read", "projects:read"], "billing:read")):
            r = m.post(path, {"name": "child", "scopes": asked})
            e = self.assert_error(r, 403, "forbidden", msg=repr(asked))
            self.assertEqual(e.get("required_scope"), missing, asked)
        r = m.post(path, {"name": "child"})  # omitted = "*": more than it holds
        self.assert_error(r, 403, "forbidden")

    def test_key_without_keys_write_cannot_mint(self):
        c = self.user()
        org = self.make_org(c)["id"]
        m = self.bearer(self.make_pkey(c, scopes=["keys:read"])["token"])
        e = self.assert_error(m.post("/v1/organizations/%s/access-keys" % org,
                                     {"name": "x", "scopes": ["keys:read"]}), 403, "forbidden")
        self.assertEqual(e["required_scope"], "keys:write")

    def test_expiring_key_mints_no_later_than_itself(self):
        c = self.user()
        exp = fmt_time(time.time() + 3 * 86400)
        minter = self.make_pkey(c, scopes=["keys:write"], expires_at=exp)
        m = self.bearer(minter["token"])
        ok_exp = fmt_time(time.time() + 86400)
        k = self.ok(m.post("/v1/me/access-keys", {"name": "c", "scopes": ["keys:read"], "expires_at": ok_exp}), 201)
        self.assertEqual(k["created_by_key"], minter["id"])
        for bad in (None, fmt_time(time.time() + 4 * 86400)):
            body = {"name": "c", "scopes": ["keys:read"]}
            if bad:
                body["expires_at"] = bad
            self.assert_error(m.post("/v1/me/access-keys", body), 403, "forbidden", msg=repr(bad))
        self.ok(m.post("/v1/me/access-keys", {"name": "c", "scopes": ["keys:read"], "expires_at": exp}), 201)

    def test_session_created_keys_have_no_minting_key(self):
        c = self.user()
        self.assertIsNone(self.make_pkey(c)["created_by_key"])


class Cidrs(ServerCase):
    def test_bad_cidrs_400(self):
        c = self.user()
        org = self.make_org(c)["id"]
        bad = ["300.1.1.1/8", "10.0.0.0/33", "::1/129", "junk", "", "10.0.0.0/", "/8", "10.0.0.0/-1",
               "010.0.0.0/8", "1.2.3.4 ", "fe80::1%eth0", "[::1]/128", "1.2.3.4:80", "10.0.0.0/08",
               "1.2.3", "::ffff:1.2.3.4.5", "x" * 300]
        for path in ("/v1/me/access-keys", "/v1/organizations/%s/access-keys" % org):
            for b in bad:
                r = c.post(path, {"name": "k", "allowed_cidrs": [b]})
                self.assert_error(r, 400, "validation_failed", field="allowed_cidrs", msg=repr(b))
            for b in ("10.0.0.0/8", 7, None):
                r = c.post(path, {"name": "k", "allowed_cidrs": b})
                self.assert_error(r, 400, "validation_failed", field="allowed_cidrs", msg=repr(b))
            many = ["10.0.%d.0/24" % i for i in range(33)]
            self.assert_error(c.post(path, {"name": "k", "allowed_cidrs": many}), 400,
                              "validation_failed", field="allowed_cidrs")
            self.ok(c.post(path, {"name": "k", "allowed_cidrs": many[:32]}), 201)
            dup = ["10.1.2.3/8", "10.0.0.0/8"]  # the same range once normalised
            self.assert_error(c.post(path, {"name": "k", "allowed_cidrs": dup}), 400,
                              "validation_failed", field="allowed_cidrs")

    def test_host_bits_normalised_and_addresses_become_ranges(self):
        c = self.user()
        k = self.make_pkey(c, allowed_cidrs=["10.1.2.3/8", "2001:DB8:0:0:1::/32", "192.0.2.7",
                                              "::1", "::ffff:198.51.100.0/120"])
        self.assertEqual(k["allowed_cidrs"], ["10.0.0.0/8", "2001:db8::/32", "192.0.2.7/32",
                                              "::1/128", "::ffff:198.51.100.0/120"])

    def test_allowlist_checked_on_every_request(self):
        c = self.user()
        k = self.make_pkey(c, allowed_cidrs=["127.0.0.2/32"])
        here = lkserver.Client(self.url, token=k["token"])  # from 127.0.0.1
        there = lkserver.Client(self.url, token=k["token"], source_address=("127.0.0.2", 0))
        self.assert_error(here.get("/v1/whoami"), 403, "forbidden")
        self.ok(there.get("/v1/whoami"))
        self.ok(there.get("/v1/me"))
        self.assert_error(here.get("/v1/me"), 403, "forbidden")
        # from outside its ranges a key does not tell which scopes it lacks
        narrow = self.make_pkey(c, scopes=["user:read"], allowed_cidrs=["127.0.0.2/32"])
        e = self.assert_error(self.bearer(narrow["token"]).get("/v1/me/access-keys"), 403, "forbidden")
        self.assertNotIn("required_scope", e)
        e = self.assert_error(lkserver.Client(self.url, token=narrow["token"], source_address=("127.0.0.2", 0))
                              .get("/v1/me/access-keys"), 403, "forbidden")
        self.assertEqual(e["required_scope"], "keys:read")

    def test_patch_sets_and_clears_allowed_cidrs(self):
        c = self.user()
        k = self.make_pkey(c)
        tok = self.bearer(k["token"])
        self.ok(tok.get("/v1/whoami"))
        r = self.ok(c.patch("/v1/me/access-keys/" + k["id"], {"allowed_cidrs": ["203.0.113.9/24"]}))
        self.assertEqual(r["allowed_cidrs"], ["203.0.113.0/24"])
        self.assertEqual(r["name"], k["name"])
        self.assert_error(tok.get("/v1/whoami"), 403, "forbidden")
        r = self.ok(c.patch("/v1/me/access-keys/" + k["id"], {"name": "both", "allowed_cidrs": ["127.0.0.0/8"]}))
        self.assertEqual((r["name"], r["allowed_cidrs"]), ("both", ["127.0.0.0/8"]))
        self.ok(tok.get("/v1/whoami"))
        self.assert_error(c.patch("/v1/me/access-keys/" + k["id"], {"allowed_cidrs": ["1.2.3.4/40"]}),
                          400, "validation_failed", field="allowed_cidrs")
        r = self.ok(c.patch("/v1/me/access-keys/" + k["id"], {"allowed_cidrs": []}))
        self.assertEqual(r["allowed_cidrs"], [])
        self.assert_error(c.patch("/v1/me/access-keys/" + k["id"], {}), 400, "validation_failed")

    def test_last_used_ip_flushed_with_last_used_at(self):
        c = self.user()
        k = self.make_pkey(c)
        self.ok(lkserver.Client(self.url, token=k["token"], source_address=("127.0.0.3", 0)).get("/v1/whoami"))
        self.srv.restart()  # SIGTERM flushes the usage batch
        c2 = lkserver.Client(self.url)
        c2.login(c.email, PASSWORD)
        got = [x for x in self.list_all(c2, "/v1/me/access-keys") if x["id"] == k["id"]][0]
        self.assertIsNotNone(got["last_used_at"])
        self.assertEqual(got["last_used_ip"], "127.0.0.3")


class MappedPeers(ServerCase):
    """A dual-stack socket sees IPv4 clients as IPv4-mapped IPv6 peers
    (::ffff:127.0.0.1): they match IPv4 ranges, are recorded unmapped, and a
    trusted IPv4 proxy arriving mapped is still trusted."""

    @classmethod
    def setUpClass(cls):
        from support import BACKEND
        cls.srv = lkserver.Server(backend=BACKEND, args=["--trusted-proxies", "127.0.0.1"])
        cls.srv.args += ["--listen", "[::ffff:127.0.0.1]:%d" % cls.srv.port]  # the last --listen wins
        try:
            cls.srv.start()
        except Exception:
            cls.srv.cleanup()
            raise

    def test_mapped_peer_matches_ipv4_ranges(self):
        self.assertIn("[::ffff:127.0.0.1]", self.srv.log_text())
        c = self.user()
        k = self.bearer(self.make_pkey(c, allowed_cidrs=["127.0.0.0/8"])["token"])
        self.ok(k.get("/v1/whoami"))
        k6 = self.bearer(self.make_pkey(c, allowed_cidrs=["::ffff:127.0.0.1"])["token"])
        self.ok(k6.get("/v1/whoami"))  # unmapped first, then compared: the same address
        far = self.bearer(self.make_pkey(c, allowed_cidrs=["203.0.113.0/24"])["token"])
        self.assert_error(far.get("/v1/whoami"), 403, "forbidden")
        # the mapped peer is the trusted proxy 127.0.0.1: its X-Forwarded-For counts
        self.ok(far.get("/v1/whoami", headers={"X-Forwarded-For": "203.0.113.50"}))

    def test_mapped_peer_recorded_unmapped(self):
        c = self.user()
        k = self.make_pkey(c)
        self.ok(self.bearer(k["token"]).get("/v1/whoami"))
        self.srv.restart()
        c2 = lkserver.Client(self.url)
        c2.login(c.email, PASSWORD)
        got = [x for x in self.list_all(c2, "/v1/me/access-keys") if x["id"] == k["id"]][0]
        self.assertEqual(got["last_used_ip"], "127.0.0.1")


class TrustedProxies(ServerCase):
    server_args = ("--trusted-proxies", "127.0.0.1/32, 127.0.0.5")

    def key(self, cidrs):
        c = self.user()
        return self.make_pkey(c, allowed_cidrs=cidrs)["token"], c

    def test_forwarded_for_from_a_trusted_peer(self):
        tok, c = self.key(["203.0.113.0/24"])
        k = self.bearer(tok)
        allowed = ["203.0.113.7", " 203.0.113.7 ", "203.0.113.7, 127.0.0.1", "198.51.100.1, 203.0.113.7",
                   "203.0.113.7,127.0.0.5 , 127.0.0.1", "::ffff:203.0.113.7", "203.0.113.7:4711",
                   ", 203.0.113.7,,", ", ".join(["203.0.113.7"] + ["127.0.0.1"] * 49)]
        for xff in allowed:
            self.ok(k.get("/v1/whoami", headers={"X-Forwarded-For": xff}))
        refused = ["198.51.100.1", "203.0.113.7, 198.51.100.1", "unknown", "garbage!!",
                   "203.0.113.7, unknown", "fe80::1%eth0", "", "203.0.113.7:99999",
                   ", ".join(["203.0.113.7"] + ["127.0.0.1"] * 70)]
        for xff in refused:
            self.assert_error(k.get("/v1/whoami", headers={"X-Forwarded-For": xff}), 403, "forbidden",
                              msg=repr(xff[:80]))
        self.assert_error(k.get("/v1/whoami"), 403, "forbidden")  # no header: the peer

    def test_forwarded_for_from_an_untrusted_peer_is_ignored(self):
        tok, c = self.key(["203.0.113.0/24"])
        k = lkserver.Client(self.url, token=tok, source_address=("127.0.0.2", 0))
        self.assert_error(k.get("/v1/whoami", headers={"X-Forwarded-For": "203.0.113.7"}), 403, "forbidden")
        tok2, _ = self.key(["127.0.0.2/32"])
        k2 = lkserver.Client(self.url, token=tok2, source_address=("127.0.0.2", 0))
        self.ok(k2.get("/v1/whoami", headers={"X-Forwarded-For": "203.0.113.7"}))

    def test_forwarded_client_is_the_last_used_ip(self):
        tok, c = self.key([])
        self.ok(self.bearer(tok).get("/v1/whoami", headers={"X-Forwarded-For": "2001:db8::7, 127.0.0.1"}))
        self.srv.restart()
        c2 = lkserver.Client(self.url)
        c2.login(c.email, PASSWORD)
        got = self.list_all(c2, "/v1/me/access-keys")
        self.assertEqual(got[0]["last_used_ip"], "2001:db8::7")


class TrustedProxyThrottle(ServerCase):
    """Failed Bearer attempts are counted per client address: behind a
    trusted proxy that is the forwarded client, so one client over the
    limit does not lock out another one behind the same proxy."""
    server_args = ("--trusted-proxies", "127.0.0.1")
    server_env = {"LATCHKEY_BEARER_FAIL_LIMIT": "3"}

    def test_throttle_counts_the_forwarded_client(self):
        bad = {"Authorization": "Bearer lkp_" + "A" * 40}
        a = dict(bad, **{"X-Forwarded-For": "198.51.100.9"})
        codes = [self.anon().get("/v1/whoami", headers=a).status for _ in range(5)]
        self.assertEqual(codes[-1], 429, codes)
        b = dict(bad, **{"X-Forwarded-For": "198.51.100.10"})
        self.assertEqual(self.anon().get("/v1/whoami", headers=b).status, 401)
        # an untrusted peer's header is ignored: it is counted as itself
        u = lkserver.Client(self.url, source_address=("127.0.0.2", 0))
        self.assertEqual(u.get("/v1/whoami", headers=a).status, 401)


class TrustedProxiesFlag(ServerCase):
    def run_daemon(self, args, env=None):
        db = "sqlite:/tmp/lk-scopes-flag-%d.db" % os.getpid()
        try:
            return subprocess.run([lkserver.LATCHKEYD, "--listen", "127.0.0.1:%d" % lkserver.free_port(),
                                   "--database", db] + args, env=dict(os.environ, **(env or {})),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                                  timeout=20)
        finally:
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(db[7:] + suffix):
                    os.unlink(db[7:] + suffix)

    def test_bad_trusted_proxies_exit_2(self):
        for bad in ("10.0.0.0/33", "junk", "10.0.0.0/8,,", ",".join("10.%d.0.0/16" % i for i in range(33))):
            p = self.run_daemon(["--trusted-proxies", bad])
            self.assertEqual(p.returncode, 2, (bad[:40], p.stderr))
            self.assertIn("trusted-proxies", p.stderr)
        p = self.run_daemon([], env={"LATCHKEY_TRUSTED_PROXIES": "300.0.0.0/8"})
        self.assertEqual(p.returncode, 2, p.stderr)

    def test_help_names_the_flag(self):
        out = subprocess.run([lkserver.LATCHKEYD, "--help"], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, universal_newlines=True).stdout
        self.assertIn("--trusted-proxies", out)
        self.assertIn("LATCHKEY_TRUSTED_PROXIES", out)


class ExpirySignals(ServerCase):
    def test_expires_at_header_on_every_response(self):
        c = self.user()
        exp = fmt_time(time.time() + 2 * 86400)
        k = self.bearer(self.make_pkey(c, expires_at=exp, scopes=["user:read"])["token"])
        for r in (k.get("/v1/whoami"), k.get("/v1/me"), k.patch("/v1/me", {"name": "x"}),
                  k.get("/v1/organizations/org_" + "A" * 20)):
            self.assertEqual(r.header(EXPIRES_HEADER), exp, r)
        never = self.bearer(self.make_pkey(c)["token"])
        self.assertIsNone(never.get("/v1/whoami").header(EXPIRES_HEADER))
        self.assertIsNone(c.get("/v1/me").header(EXPIRES_HEADER))


class MaxLifetime(ServerCase):
    def test_org_setting(self):
        c = self.user()
        org = self.make_org(c)
        self.assertIsNone(org["access_key_max_lifetime_days"])
        path = "/v1/organizations/" + org["id"]
        r = self.ok(c.patch(path, {"access_key_max_lifetime_days": 30}))
        self.assertEqual(r["access_key_max_lifetime_days"], 30)
        self.assertEqual(r["name"], org["name"])
        self.assertEqual(self.ok(c.get(path))["access_key_max_lifetime_days"], 30)
        keys = path + "/access-keys"
        self.assert_error(c.post(keys, {"name": "k"}), 400, "validation_failed", field="expires_at")
        self.assert_error(c.post(keys, {"name": "k", "expires_at": fmt_time(time.time() + 31 * 86400)}),
                          400, "validation_failed", field="expires_at")
        self.ok(c.post(keys, {"name": "k", "expires_at": fmt_time(time.time() + 29 * 86400)}), 201)
        self.make_pkey(c)  # personal keys are not the org's
        for bad in (0, -1, 3651, "30", 1.5, True, [30]):
            self.assert_error(c.patch(path, {"access_key_max_lifetime_days": bad}), 400, "validation_failed",
                              field="access_key_max_lifetime_days", msg=repr(bad))
        r = self.ok(c.patch(path, {"name": "renamed", "access_key_max_lifetime_days": None}))
        self.assertEqual((r["name"], r["access_key_max_lifetime_days"]), ("renamed", None))
        self.ok(c.post(keys, {"name": "forever"}), 201)

    def test_org_key_may_not_set_it(self):
        c = self.user()
        org = self.make_org(c)["id"]
        k = self.bearer(self.make_okey(c, org)["token"])
        self.assert_error(k.patch("/v1/organizations/" + org, {"access_key_max_lifetime_days": 7}), 403, "forbidden")
        self.ok(k.patch("/v1/organizations/" + org, {"name": "by key"}))
