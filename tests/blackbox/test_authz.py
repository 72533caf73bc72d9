"""
test_authz.py — the "Who may do what" table of api.md, cell by cell.

Every operation of the API is listed once in OPS with the row of the table
it belongs to; every credential kind is listed once in CREDS. The test
methods are generated from OPS x CREDS (test_<op>__<cred>), so a row can't
be forgotten and every cell is its own pass/fail. Expected answers come from
ROWS, which is the table transcribed:

    row         member (session|personal key)  org key, this org  org key, other org  non-member user  no credential
    me          ok                             403                403                 ok (own)         401
    me_key      ok                             403                403                 404 (not own)    401
    create_org  ok                             403                403                 ok               401
    any         ok                             ok                 ok                  ok               401
    org_read    ok                             ok                 404                 404              401
    org_admin   ok                             403                404                 404              401
    org_keys    ok                             403                404                 404              401

A denied cell also checks that nothing changed (the target still exists /
still has its old name), so a server that answers 404 after doing the work
fails.
"""
import secrets

from support import ServerCase, uemail, uname, PASSWORD
import lkserver

CREDS = ["session", "pkey", "okey_this", "okey_other", "nm_session", "nm_pkey", "none"]

OK, F403, F404, F401 = "ok", 403, 404, 401
ROWS = {
    "me":         dict(session=OK, pkey=OK, okey_this=F403, okey_other=F403, nm_session=OK, nm_pkey=OK, none=F401),
    "me_key":     dict(session=OK, pkey=OK, okey_this=F403, okey_other=F403, nm_session=F404, nm_pkey=F404, none=F401),
    "create_org": dict(session=OK, pkey=OK, okey_this=F403, okey_other=F403, nm_session=OK, nm_pkey=OK, none=F401),
    "any":        dict(session=OK, pkey=OK, okey_this=OK, okey_other=OK, nm_session=OK, nm_pkey=OK, none=F401),
    "org_read":   dict(session=OK, pkey=OK, okey_this=OK, okey_other=F404, nm_session=F404, nm_pkey=F404, none=F401),
    "org_admin":  dict(session=OK, pkey=OK, okey_this=F403, okey_other=F404, nm_session=F404, nm_pkey=F404, none=F401),
    "org_keys":   dict(session=OK, pkey=OK, okey_this=F403, okey_other=F404, nm_session=F404, nm_pkey=F404, none=F401),
}
ERR_CODE = {403: "forbidden", 404: "not_found", 401: "unauthenticated"}


class Op:
    """One API operation. setup(case) -> ctx dict (fresh targets when the
    operation destroys something); path/body may use ctx keys; check(case,
    ctx) verifies that a denied attempt changed nothing."""

    def __init__(self, name, row, method, path, body=None, status=200, setup=None, check=None):
        self.name, self.row, self.method, self.path = name, row, method, path
        self.body, self.status, self.setup, self.check = body, status, setup, check


def _org_ctx(case):
    return dict(case.W)


def _fresh_project(case):
    ctx = dict(case.W)
    ctx["prj"] = case.make_project(case.A, ctx["org"])["id"]
    return ctx


def _fresh_env(case):
    ctx = dict(case.W)
    ctx["env"] = case.make_env(case.A, ctx["org"], ctx["prj"])["id"]
    return ctx


def _fresh_pkey(case):
    ctx = dict(case.W)
    ctx["pk"] = case.make_pkey(case.A)["id"]
    return ctx


def _fresh_okey(case):
    ctx = dict(case.W)
    ctx["key"] = case.make_okey(case.A, ctx["org"])["id"]
    return ctx


def _fresh_nonmember(case):
    ctx = dict(case.W)
    email = uemail("add")
    lkserver.Client(case.url).signup(email, PASSWORD, "To Add")
    ctx["email"] = email
    return ctx


def _fresh_member(case):
    ctx = _fresh_nonmember(case)
    case.add_member(case.A, ctx["org"], ctx["email"])
    ms = case.list_all(case.A, "/v1/organizations/%s/members" % ctx["org"])
    ctx["usr"] = [m["user_id"] for m in ms if m["email"].lower() == ctx["email"].lower()][0]
    return ctx


def _fresh_org(case):
    """A new org of A with its own org key: the target of DELETE org."""
    ctx = dict(case.W)
    ctx["org"] = case.make_org(case.A)["id"]
    ctx["okey_this"] = case.make_okey(case.A, ctx["org"])["token"]
    return ctx


def _still(path_tpl):
    def check(case, ctx):
        r = case.A.get(path_tpl.format(**ctx))
        case.assertEqual(r.status, 200, "denied request changed state: GET %s -> %r" % (path_tpl.format(**ctx), r))
    return check


def _name_kept(path_tpl, list_=False):
    def check(case, ctx):
        r = case.A.get(path_tpl.format(**ctx))
        case.assertEqual(r.status, 200, r)
        items = r.json["data"] if list_ else [r.json]
        for it in items:
            case.assertNotEqual(it.get("name"), "renamed-by-denied", "denied PATCH renamed: %r" % it)
    return check


def _member_still(case, ctx):
    r = case.A.get("/v1/organizations/{org}/members?limit=1000".format(**ctx))
    case.assertEqual(r.status, 200, r)
    ids = [m["user_id"] for m in r.json["data"]]
    case.assertIn(ctx["usr"], ids, "denied DELETE removed the member")


def _member_not_added(case, ctx):
    r = case.A.get("/v1/organizations/{org}/members?limit=1000".format(**ctx))
    case.assertEqual(r.status, 200, r)
    emails = [m["email"].lower() for m in r.json["data"]]
    case.assertNotIn(ctx["email"].lower(), emails, "denied POST added the member")


def _pkey_still(case, ctx):
    ids = [k["id"] for k in case.list_all(case.A, "/v1/me/access-keys")]
    case.assertIn(ctx["pk"], ids, "denied DELETE removed the personal key")


def _okey_still(case, ctx):
    ids = [k["id"] for k in case.list_all(case.A, "/v1/organizations/%s/access-keys" % ctx["org"])]
    case.assertIn(ctx["key"], ids, "denied DELETE removed the org key")


RENAME = {"name": "renamed-by-denied"}
O = "/v1/organizations/{org}"
OPS = [
    Op("me_get", "me", "GET", "/v1/me"),
    Op("me_patch", "me", "PATCH", "/v1/me", {"name": "Renamed User"}),
    Op("me_keys_list", "me", "GET", "/v1/me/access-keys"),
    Op("me_keys_create", "me", "POST", "/v1/me/access-keys", {"name": "pk"}, 201),
    Op("me_key_patch", "me_key", "PATCH", "/v1/me/access-keys/{pk}", RENAME, 200, _fresh_pkey,
       _name_kept("/v1/me/access-keys?limit=1000", list_=True)),
    Op("me_key_delete", "me_key", "DELETE", "/v1/me/access-keys/{pk}", None, 204, _fresh_pkey, _pkey_still),
    Op("orgs_create", "create_org", "POST", "/v1/organizations", {"name": "new org"}, 201),
    Op("orgs_list", "any", "GET", "/v1/organizations"),
    Op("whoami", "any", "GET", "/v1/whoami"),
    Op("org_get", "org_read", "GET", O),
    Op("org_patch", "org_read", "PATCH", O, RENAME, 200, _fresh_org, _name_kept(O)),
    Op("members_list", "org_read", "GET", O + "/members"),
    Op("projects_list", "org_read", "GET", O + "/projects"),
    Op("projects_create", "org_read", "POST", O + "/projects", {"name": "p"}, 201),
    Op("project_get", "org_read", "GET", O + "/projects/{prj}"),
    Op("project_patch", "org_read", "PATCH", O + "/projects/{prj}", RENAME, 200, _fresh_project,
       _name_kept(O + "/projects/{prj}")),
    Op("project_delete", "org_read", "DELETE", O + "/projects/{prj}", None, 204, _fresh_project,
       _still(O + "/projects/{prj}")),
    Op("envs_list", "org_read", "GET", O + "/projects/{prj}/environments"),
    Op("envs_create", "org_read", "POST", O + "/projects/{prj}/environments", {"name": "e"}, 201),
    Op("env_get", "org_read", "GET", O + "/projects/{prj}/environments/{env}"),
    Op("env_patch", "org_read", "PATCH", O + "/projects/{prj}/environments/{env}", RENAME, 200, _fresh_env,
       _name_kept(O + "/projects/{prj}/environments/{env}")),
    Op("env_delete", "org_read", "DELETE", O + "/projects/{prj}/environments/{env}", None, 204, _fresh_env,
       _still(O + "/projects/{prj}/environments/{env}")),
    Op("billing_get", "org_read", "GET", O + "/billing"),
    Op("billing_patch", "org_read", "PATCH", O + "/billing", {"plan": "pro"}),
    Op("members_add", "org_admin", "POST", O + "/members", lambda ctx: {"email": ctx["email"]}, 201,
       _fresh_nonmember, _member_not_added),
    Op("members_remove", "org_admin", "DELETE", O + "/members/{usr}", None, 204, _fresh_member, _member_still),
    Op("org_delete", "org_admin", "DELETE", O, None, 204, _fresh_org, _still(O)),
    Op("org_keys_list", "org_keys", "GET", O + "/access-keys"),
    Op("org_keys_create", "org_keys", "POST", O + "/access-keys", {"name": "ok"}, 201),
    Op("org_key_patch", "org_keys", "PATCH", O + "/access-keys/{key}", RENAME, 200, _fresh_okey,
       _name_kept(O + "/access-keys?limit=1000", list_=True)),
    Op("org_key_delete", "org_keys", "DELETE", O + "/access-keys/{key}", None, 204, _fresh_okey, _okey_still),
]


class AuthzMatrix(ServerCase):
    """The world: A is a member of org O (with a project and environment);
    A has a personal key; O has an org key. B owns org P with its own org
    key. C is a user in no org of A's, with a session and a personal key."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        tc = cls("run")
        cls.A = tc.user(name="Member A")
        B = tc.user(name="Other B")
        C = tc.user(name="Outsider C")
        org = tc.make_org(cls.A)["id"]
        prj = tc.make_project(cls.A, org)["id"]
        env = tc.make_env(cls.A, org, prj)["id"]
        other = tc.make_org(B)["id"]
        cls.W = dict(
            org=org, prj=prj, env=env, other_org=other,
            session=cls.A,
            pkey=tc.make_pkey(cls.A)["token"],
            okey_this=tc.make_okey(cls.A, org)["token"],
            okey_other=tc.make_okey(B, other)["token"],
            nm_session=C,
            nm_pkey=tc.make_pkey(C)["token"],
        )

    def client_for(self, cred, ctx):
        if cred == "none":
            return lkserver.Client(self.url)
        v = ctx[cred]
        if isinstance(v, lkserver.Client):
            return v
        return lkserver.Client(self.url, token=v)

    def cell(self, op, cred):
        ctx = op.setup(self) if op.setup else dict(self.W)
        path = op.path.format(**ctx)
        body = op.body(ctx) if callable(op.body) else op.body
        c = self.client_for(cred, ctx)
        if op.method == "GET":
            r = c.get(path)
        elif op.method == "DELETE":
            r = c.delete(path)
        else:
            r = c.request(op.method, path, json=body if body is not None else {})
        want = ROWS[op.row][cred]
        what = "%s %s as %s" % (op.method, path, cred)
        if want == OK:
            self.assertEqual(r.status, op.status, "%s: expected %d -> %r" % (what, op.status, r))
            if op.status == 204:
                self.assertEqual(r.body, "", what)
            else:
                self.assertIsInstance(r.json, dict, what)
        else:
            self.assert_error(r, want, ERR_CODE[want], msg=what)
            if op.check:
                op.check(self, ctx)


def _make(op, cred):
    def t(self):
        self.cell(op, cred)
    t.__doc__ = "%s %s as %s -> %s" % (op.method, op.path, cred, ROWS[op.row][cred])
    return t


for _op in OPS:
    for _cred in CREDS:
        setattr(AuthzMatrix, "test_%s__%s" % (_op.name, _cred), _make(_op, _cred))


class OwnOnly(ServerCase):
    """"own only" and "anything the caller may not know exists" beyond the
    matrix: other users' keys, other orgs' keys reached through an org the
    caller is in, and what each credential's lists contain."""

    def test_personal_keys_list_shows_only_own(self):
        a, b = self.user(), self.user()
        ka = self.make_pkey(a)
        kb = self.make_pkey(b)
        ids_a = [k["id"] for k in self.list_all(a, "/v1/me/access-keys")]
        self.assertIn(ka["id"], ids_a)
        self.assertNotIn(kb["id"], ids_a)
        ids_pb = [k["id"] for k in self.list_all(self.bearer(kb["token"]), "/v1/me/access-keys")]
        self.assertEqual(ids_pb, [kb["id"]])

    def test_cannot_touch_another_users_personal_key(self):
        a, b = self.user(), self.user()
        kb = self.make_pkey(b)
        self.assert_error(a.patch("/v1/me/access-keys/" + kb["id"], {"name": "x"}), 404, "not_found")
        self.assert_error(a.delete("/v1/me/access-keys/" + kb["id"]), 404, "not_found")
        self.assertEqual(self.bearer(kb["token"]).get("/v1/me").status, 200, "b's key was harmed")

    def test_org_key_is_not_reachable_as_personal_key(self):
        a = self.user()
        org = self.make_org(a)["id"]
        ok = self.make_okey(a, org)
        self.assert_error(a.patch("/v1/me/access-keys/" + ok["id"], {"name": "x"}), 404, "not_found")
        self.assert_error(a.delete("/v1/me/access-keys/" + ok["id"]), 404, "not_found")
        self.assertEqual(self.bearer(ok["token"]).get("/v1/organizations/" + org).status, 200)

    def test_personal_key_is_not_reachable_as_org_key(self):
        a = self.user()
        org = self.make_org(a)["id"]
        pk = self.make_pkey(a)
        self.assert_error(a.patch("/v1/organizations/%s/access-keys/%s" % (org, pk["id"]), {"name": "x"}), 404)
        self.assert_error(a.delete("/v1/organizations/%s/access-keys/%s" % (org, pk["id"])), 404)
        self.assertEqual(self.bearer(pk["token"]).get("/v1/me").status, 200)

    def test_key_of_org_p_not_reachable_through_org_o(self):
        a = self.user()
        o, p = self.make_org(a)["id"], self.make_org(a)["id"]
        kp = self.make_okey(a, p)
        path = "/v1/organizations/%s/access-keys/%s" % (o, kp["id"])
        self.assert_error(a.patch(path, {"name": "x"}), 404, "not_found")
        self.assert_error(a.delete(path), 404, "not_found")
        self.assertEqual(self.bearer(kp["token"]).get("/v1/organizations/" + p).status, 200)

    def test_project_of_org_p_not_reachable_through_org_o(self):
        a = self.user()
        o, p = self.make_org(a)["id"], self.make_org(a)["id"]
        prj = self.make_project(a, p)["id"]
        env = self.make_env(a, p, prj)["id"]
        base = "/v1/organizations/%s/projects/%s" % (o, prj)
        self.assert_error(a.get(base), 404, "not_found")
        self.assert_error(a.patch(base, {"name": "x"}), 404, "not_found")
        self.assert_error(a.delete(base), 404, "not_found")
        self.assert_error(a.get(base + "/environments"), 404, "not_found")
        self.assert_error(a.post(base + "/environments", {"name": "x"}), 404, "not_found")
        self.assert_error(a.get(base + "/environments/" + env), 404, "not_found")
        self.assertEqual(a.get("/v1/organizations/%s/projects/%s" % (p, prj)).status, 200)

    def test_env_of_other_project_not_reachable(self):
        a = self.user()
        o = self.make_org(a)["id"]
        p1, p2 = self.make_project(a, o)["id"], self.make_project(a, o)["id"]
        env = self.make_env(a, o, p2)["id"]
        path = "/v1/organizations/%s/projects/%s/environments/%s" % (o, p1, env)
        self.assert_error(a.get(path), 404, "not_found")
        self.assert_error(a.patch(path, {"name": "x"}), 404, "not_found")
        self.assert_error(a.delete(path), 404, "not_found")
        self.assertEqual(a.get("/v1/organizations/%s/projects/%s/environments/%s" % (o, p2, env)).status, 200)

    def test_org_key_lists_only_its_own_org(self):
        a = self.user()
        o, p = self.make_org(a)["id"], self.make_org(a)["id"]
        ko = self.make_okey(a, o)["token"]
        ids = [x["id"] for x in self.list_all(self.bearer(ko), "/v1/organizations")]
        self.assertEqual(ids, [o])
        self.assert_error(self.bearer(ko).get("/v1/organizations/" + p), 404, "not_found")

    def test_user_lists_exactly_their_orgs(self):
        a, b = self.user(), self.user()
        mine = {self.make_org(a)["id"] for _ in range(3)}
        theirs = self.make_org(b)["id"]
        pk = self.make_pkey(a)["token"]
        for c in (a, self.bearer(pk)):
            items = self.list_all(c, "/v1/organizations")
            for o in items:
                self.assertLessEqual({"id", "name", "created_at"}, set(o), o)
                self.assert_id(o["id"], "org")
            ids = {x["id"] for x in items}
            self.assertEqual(ids, mine)
            self.assertNotIn(theirs, ids)

    def test_key_lists_hold_one_kind(self):
        a = self.user()
        o, p = self.make_org(a)["id"], self.make_org(a)["id"]
        for _ in range(2):
            self.make_pkey(a), self.make_okey(a, o), self.make_okey(a, p)
        for k in self.list_all(a, "/v1/me/access-keys"):
            self.assert_key_shape(k, "personal")
        for k in self.list_all(a, "/v1/organizations/%s/access-keys" % o):
            self.assert_key_shape(k, "organization", org_id=o)
        self.assertEqual(len(self.list_all(a, "/v1/me/access-keys")), 2)
        self.assertEqual(len(self.list_all(a, "/v1/organizations/%s/access-keys" % o)), 2)

    def test_whoami_per_credential(self):
        a = self.user()
        org = self.make_org(a)
        pk = self.make_pkey(a)
        ok = self.make_okey(a, org["id"])
        w = self.ok(a.get("/v1/whoami"))
        self.assertEqual(w["principal"], "user")
        self.assert_user_shape(w["user"], email=a.email)
        self.assertEqual(w["user"]["id"], a.user["id"])
        self.assertNotIn("key", w)
        w = self.ok(self.bearer(pk["token"]).get("/v1/whoami"))
        self.assertEqual(w["principal"], "personal_key")
        self.assertEqual(w["user"]["id"], a.user["id"])
        self.assertEqual(w["key"]["id"], pk["id"])
        self.assert_key_shape(w["key"], "personal")
        w = self.ok(self.bearer(ok["token"]).get("/v1/whoami"))
        self.assertEqual(w["principal"], "organization_key")
        self.assertEqual(w["organization"]["id"], org["id"])
        self.assertEqual(w["key"]["id"], ok["id"])
        self.assert_key_shape(w["key"], "organization", org_id=org["id"])
        self.assertNotIn(pk["token"], str(w))

    def test_session_endpoint_wants_a_cookie(self):
        a = self.user()
        pk = self.make_pkey(a)["token"]
        r = self.ok(a.get("/v1/auth/session"))
        self.assertEqual(r["user"]["id"], a.user["id"])
        self.assertIsInstance(r["csrf_token"], str)
        self.assert_error(self.bearer(pk).get("/v1/auth/session"), 401, "unauthenticated")
        self.assert_error(self.anon().get("/v1/auth/session"), 401, "unauthenticated")
