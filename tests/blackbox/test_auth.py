"""
test_auth.py — signup, login, logout, the session endpoint, the session
cookie's flags, CSRF on cookie-authenticated writes, closed signup and login
throttling (api.md: "Credentials", the auth rows of "Endpoints", "Names",
passwords and emails).
"""
import secrets
import time

from support import ServerCase, Server, BACKEND, uemail, uname, PASSWORD
import lkserver


def signup_body(**kw):
    b = {"email": uemail("s"), "password": PASSWORD, "name": "Someone"}
    b.update(kw)
    return b


def _long_email(n):
    domain = "@example.com"
    return "a" * (n - len(domain)) + domain


# (test suffix, body, field) — each must be 400 validation_failed on that field
SIGNUP_BAD = [
    ("email_empty", dict(email=""), "email"),
    ("email_no_at", dict(email="no-at.example.com"), "email"),
    ("email_two_at", dict(email="a@b@example.com"), "email"),
    ("email_255", dict(email=_long_email(255)), "email"),
    ("email_number", dict(email=12), "email"),
    ("email_null", dict(email=None), "email"),
    ("email_array", dict(email=["a@b.io"]), "email"),
    ("password_7", dict(password="1234567"), "password"),
    ("password_257", dict(password="p" * 257), "password"),
    ("password_number", dict(password=12345678), "password"),
    ("password_7_chars_14_bytes", dict(password="\u00e9" * 7), "password"),
    ("password_257_multibyte", dict(password="\u00e9" * 257), "password"),
    ("password_null", dict(password=None), "password"),
    ("name_empty", dict(name=""), "name"),
    ("name_spaces", dict(name="   \t "), "name"),
    ("name_101", dict(name="n" * 101), "name"),
    ("name_101_multibyte", dict(name="\u00e9" * 101), "name"),
    ("name_number", dict(name=5), "name"),
    ("name_null", dict(name=None), "name"),
    ("name_object", dict(name={"a": 1}), "name"),
    ("name_control", dict(name="a\u0007b"), "name"),
    ("name_newline", dict(name="a\nb"), "name"),
]
SIGNUP_MISSING = ["email", "password", "name"]


class Signup(ServerCase):
    def test_signup_returns_user(self):
        b = signup_body(name="Ada Lovelace")
        r = self.anon().post("/v1/auth/signup", b)
        u = self.ok(r, 201)
        self.assert_user_shape(u, email=b["email"])
        self.assertEqual(u["name"], "Ada Lovelace")
        self.assertNotIn(PASSWORD, r.body)

    def test_signup_boundaries_accepted(self):
        for kw in (dict(password="p" * 8), dict(password="p" * 256), dict(password="\u00e9" * 8),
                   dict(password="\u00e9" * 256), dict(password="        "), dict(name="n" * 100),
                   dict(name="\u00e9" * 100), dict(name="\U0001F511" * 100)):
            b = signup_body(**kw)
            with self.subTest(kw=list(kw)):
                r = self.anon().post("/v1/auth/signup", b)
                self.ok(r, 201)

    def test_signup_email_254_accepted(self):
        local = secrets.token_hex(4)
        e = local + "x" * (254 - len(local) - len("@example.com")) + "@example.com"
        self.assertEqual(len(e), 254)
        self.ok(self.anon().post("/v1/auth/signup", signup_body(email=e)), 201)

    def test_signup_email_taken_409(self):
        b = signup_body()
        self.ok(self.anon().post("/v1/auth/signup", b), 201)
        self.assert_error(self.anon().post("/v1/auth/signup", signup_body(email=b["email"])), 409, "conflict")

    def test_signup_email_taken_case_insensitive_409(self):
        tag = secrets.token_hex(5)
        self.ok(self.anon().post("/v1/auth/signup", signup_body(email="Mixed.%s@Example.COM" % tag)), 201)
        self.assert_error(self.anon().post("/v1/auth/signup", signup_body(email="mixed.%s@example.com" % tag)),
                          409, "conflict")
        self.assert_error(self.anon().post("/v1/auth/signup", signup_body(email="MIXED.%s@EXAMPLE.COM" % tag.upper())),
                          409, "conflict")

    def test_signup_unknown_fields_ignored(self):
        self.ok(self.anon().post("/v1/auth/signup", signup_body(admin=True, role="owner")), 201)


def _bad_signup(suffix, kw, field):
    def t(self):
        r = self.anon().post("/v1/auth/signup", signup_body(**kw))
        self.assert_error(r, 400, "validation_failed", field=field, msg="signup %s" % suffix)
    return t


def _missing_signup(field):
    def t(self):
        b = signup_body()
        del b[field]
        self.assert_error(self.anon().post("/v1/auth/signup", b), 400, "validation_failed", field=field)
    return t


for _s, _kw, _f in SIGNUP_BAD:
    setattr(Signup, "test_signup_bad_" + _s, _bad_signup(_s, _kw, _f))
for _f in SIGNUP_MISSING:
    setattr(Signup, "test_signup_missing_" + _f, _missing_signup(_f))


class Login(ServerCase):
    def test_login_returns_user_and_csrf_and_cookie(self):
        e = uemail()
        c = self.anon()
        c.signup(e, PASSWORD, "L")
        r = c.post("/v1/auth/login", {"email": e, "password": PASSWORD})
        body = self.ok(r)
        self.assert_user_shape(body["user"], email=e)
        self.assertIsInstance(body["csrf_token"], str)
        self.assertGreaterEqual(len(body["csrf_token"]), 16)
        self.assertNotIn(PASSWORD, r.body)
        cookies = [v for v in r.headers_all("Set-Cookie") if v.strip().startswith("latchkey_session=")]
        self.assertEqual(len(cookies), 1, r.headers)

    def test_session_cookie_flags(self):
        e = uemail()
        c = self.anon()
        c.signup(e, PASSWORD, "L")
        r = c.post("/v1/auth/login", {"email": e, "password": PASSWORD})
        self.ok(r)
        v = [v for v in r.headers_all("Set-Cookie") if v.strip().startswith("latchkey_session=")][0]
        attrs = [a.strip().lower() for a in v.split(";")[1:]]
        self.assertIn("httponly", attrs, v)
        self.assertIn("samesite=strict", attrs, v)
        self.assertIn("path=/", attrs, v)
        value = v.split(";")[0].split("=", 1)[1]
        self.assertGreaterEqual(len(value), 16, "session id too short to be unguessable: %r" % v)

    def test_login_email_case_insensitive(self):
        tag = secrets.token_hex(5)
        c = self.anon()
        c.signup("Case.%s@Example.com" % tag, PASSWORD, "C")
        self.ok(c.post("/v1/auth/login", {"email": "case.%s@EXAMPLE.COM" % tag, "password": PASSWORD}))

    def test_login_wrong_password_401(self):
        e = uemail()
        self.anon().signup(e, PASSWORD, "W")
        r = self.anon().post("/v1/auth/login", {"email": e, "password": PASSWORD + "x"})
        self.assert_error(r, 401, "unauthenticated")
        self.assertIsNone(r.header("Set-Cookie"))

    def test_login_unknown_email_401(self):
        r = self.anon().post("/v1/auth/login", {"email": uemail("nobody"), "password": PASSWORD})
        self.assert_error(r, 401, "unauthenticated")

    def test_login_does_not_tell_which_part_was_wrong(self):
        e = uemail()
        self.anon().signup(e, PASSWORD, "W")
        r1 = self.anon().post("/v1/auth/login", {"email": e, "password": "wrong password"})
        r2 = self.anon().post("/v1/auth/login", {"email": uemail("nobody"), "password": "wrong password"})
        self.assert_error(r1, 401)
        self.assert_error(r2, 401)
        self.assertEqual(r1.json, r2.json)

    def test_login_password_is_case_sensitive(self):
        e = uemail()
        self.anon().signup(e, PASSWORD, "W")
        self.assert_error(self.anon().post("/v1/auth/login", {"email": e, "password": PASSWORD.upper()}), 401)

    def test_login_bad_bodies_are_4xx(self):
        for b in ({}, {"email": uemail()}, {"password": PASSWORD}, {"email": 1, "password": 2},
                  {"email": None, "password": None}, {"email": [], "password": {}}):
            with self.subTest(body=b):
                r = self.anon().post("/v1/auth/login", b)
                self.assertIn(r.status, (400, 401), r)
                self.assert_error(r, r.status)

    def test_session_endpoint(self):
        c = self.user()
        s = self.ok(c.get("/v1/auth/session"))
        self.assertEqual(s["user"]["id"], c.user["id"])
        self.assertIsInstance(s["csrf_token"], str)
        # the csrf_token it returns is good for a write
        c.csrf = s["csrf_token"]
        self.ok(c.post("/v1/organizations", {"name": "via session csrf"}), 201)

    def test_garbage_cookie_401(self):
        for v in ("", "x", "A" * 64, secrets.token_urlsafe(32), "%00", "\u00e9".encode().decode("latin-1"),
                  "B" * 8000, '"quoted"', "a;b", "lkp_" + "A" * 38):
            with self.subTest(cookie=v):
                c = self.anon()
                r = c.get("/v1/me", headers={"Cookie": "latchkey_session=" + v}, cookies=False)
                self.assert_error(r, 401, "unauthenticated")
                r = c.get("/v1/auth/session", headers={"Cookie": "latchkey_session=" + v}, cookies=False)
                self.assert_error(r, 401, "unauthenticated")

    def test_each_login_is_its_own_session(self):
        a = self.user()
        b = lkserver.Client(self.url)
        b.login(a.email, PASSWORD)
        self.assertNotEqual(a.cookies.get("latchkey_session"), b.cookies.get("latchkey_session"))
        self.assertEqual(self.ok(a.post("/v1/auth/logout", None), 204), None)
        self.ok(b.get("/v1/me"))


class Logout(ServerCase):
    def test_logout_kills_the_session(self):
        c = self.user()
        cookie = c.cookies["latchkey_session"]
        csrf = c.csrf
        r = c.post("/v1/auth/logout")
        self.assertEqual(r.status, 204, r)
        # replay the old cookie by hand, whatever the server told the jar
        old = lkserver.Client(self.url)
        h = {"Cookie": "latchkey_session=" + cookie}
        self.assert_error(old.get("/v1/auth/session", headers=h, cookies=False), 401, "unauthenticated")
        self.assert_error(old.get("/v1/me", headers=h, cookies=False), 401, "unauthenticated")
        h2 = dict(h, **{"X-CSRF-Token": csrf})
        self.assert_error(old.post("/v1/organizations", {"name": "x"}, headers=h2, cookies=False), 401,
                          "unauthenticated")

    def test_logout_needs_csrf(self):
        c = self.user()
        r = c.post("/v1/auth/logout", csrf=False)
        self.assert_error(r, 403, "forbidden")
        self.ok(c.get("/v1/me"))

    def test_logout_keeps_personal_keys(self):
        c = self.user()
        pk = self.make_pkey(c)["token"]
        self.assertEqual(c.post("/v1/auth/logout").status, 204)
        self.ok(self.bearer(pk).get("/v1/me"))

    def test_login_again_after_logout(self):
        c = self.user()
        self.assertEqual(c.post("/v1/auth/logout").status, 204)
        c2 = lkserver.Client(self.url)
        c2.login(c.email, PASSWORD)
        self.ok(c2.get("/v1/me"))


# CSRF: (name, method, path builder, body) for cookie-authenticated writes
def _csrf_targets(case, c):
    org = case.make_org(c)["id"]
    pk = case.make_pkey(c)["id"]
    prj = case.make_project(c, org)["id"]
    return [
        ("post_org", "POST", "/v1/organizations", {"name": "csrf"}, 201),
        ("patch_me", "PATCH", "/v1/me", {"name": "csrf"}, 200),
        ("post_pkey", "POST", "/v1/me/access-keys", {"name": "csrf"}, 201),
        ("patch_org", "PATCH", "/v1/organizations/" + org, {"name": "csrf"}, 200),
        ("delete_project", "DELETE", "/v1/organizations/%s/projects/%s" % (org, prj), None, 204),
        ("delete_pkey", "DELETE", "/v1/me/access-keys/" + pk, None, 204),
    ]


class Csrf(ServerCase):
    def _try(self, variant):
        c = self.user()
        other = self.user()
        for name, method, path, body, ok in _csrf_targets(self, c):
            if variant == "missing":
                kw = dict(csrf=False)
            elif variant == "wrong":
                kw = dict(csrf=False, headers={"X-CSRF-Token": secrets.token_urlsafe(24)})
            elif variant == "huge":
                kw = dict(csrf=False, headers={"X-CSRF-Token": c.csrf + "x" * 10000})
            elif variant == "prefix":
                kw = dict(csrf=False, headers={"X-CSRF-Token": c.csrf[:-1]})
            elif variant == "empty":
                kw = dict(csrf=False, headers={"X-CSRF-Token": ""})
            elif variant == "other_sessions":
                kw = dict(csrf=False, headers={"X-CSRF-Token": other.csrf})
            elif variant == "in_cookie_only":
                kw = dict(csrf=False, headers={"Cookie": "latchkey_session=%s; X-CSRF-Token=%s; csrf_token=%s"
                                               % (c.cookies["latchkey_session"], c.csrf, c.csrf)}, cookies=False)
            r = c.request(method, path, json=body if method != "DELETE" else None, **kw)
            self.assert_error(r, 403, "forbidden", msg="%s without a good CSRF token (%s)" % (name, variant))
            # nothing happened: the same request with the token still succeeds
            r = c.request(method, path, json=body if method != "DELETE" else None)
            self.assertEqual(r.status, ok, "%s with CSRF token -> %r" % (name, r))

    def test_csrf_missing_403(self):
        self._try("missing")

    def test_csrf_wrong_403(self):
        self._try("wrong")

    def test_csrf_huge_403(self):
        self._try("huge")

    def test_csrf_truncated_403(self):
        self._try("prefix")

    def test_csrf_empty_403(self):
        self._try("empty")

    def test_csrf_of_another_session_403(self):
        self._try("other_sessions")

    def test_csrf_in_cookie_is_not_enough_403(self):
        self._try("in_cookie_only")

    def test_reads_need_no_csrf(self):
        c = self.user()
        for p in ("/v1/me", "/v1/whoami", "/v1/organizations", "/v1/me/access-keys", "/v1/auth/session"):
            self.ok(c.get(p, csrf=False))

    def test_bearer_needs_no_csrf(self):
        c = self.user()
        pk = self.make_pkey(c)["token"]
        b = self.bearer(pk)
        org = self.ok(b.post("/v1/organizations", {"name": "bearer"}), 201)["id"]
        self.ok(b.patch("/v1/organizations/" + org, {"name": "bearer2"}))
        prj = self.ok(b.post("/v1/organizations/%s/projects" % org, {"name": "p"}), 201)["id"]
        self.assertEqual(b.delete("/v1/organizations/%s/projects/%s" % (org, prj)).status, 204)
        k = self.ok(b.post("/v1/organizations/%s/access-keys" % org, {"name": "k"}), 201)
        ko = self.bearer(k["token"])
        self.ok(ko.post("/v1/organizations/%s/projects" % org, {"name": "q"}), 201)

    def test_signup_and_login_need_no_csrf(self):
        e = uemail()
        c = self.anon()
        self.ok(c.post("/v1/auth/signup", {"email": e, "password": PASSWORD, "name": "n"}), 201)
        self.ok(c.post("/v1/auth/login", {"email": e, "password": PASSWORD}))


class SignupClosed(ServerCase):
    server_args = ("--signup", "closed")

    def test_signup_closed_403(self):
        r = self.anon().post("/v1/auth/signup", signup_body())
        self.assert_error(r, 403, "forbidden")

    def test_existing_users_still_log_in(self):
        # the same store, first open then closed
        s = Server(backend=BACKEND).start()
        try:
            e = uemail()
            lkserver.Client(s.url).signup(e, PASSWORD, "Early")
            s.stop()
            s.args = ["--signup", "closed"]
            s.start()
            self.assert_error(lkserver.Client(s.url).post("/v1/auth/signup", signup_body()), 403, "forbidden")
            c = lkserver.Client(s.url)
            c.login(e, PASSWORD)
            self.ok(c.get("/v1/me"))
        finally:
            s.cleanup()

    def test_signup_closed_by_env(self):
        s = Server(backend=BACKEND, env={"LATCHKEY_SIGNUP": "closed"}).start()
        try:
            self.assert_error(lkserver.Client(s.url).post("/v1/auth/signup", signup_body()), 403, "forbidden")
        finally:
            s.cleanup()


class LoginThrottle(ServerCase):
    """A dedicated server: throttling state must not leak into other tests."""

    def test_repeated_wrong_logins_429_with_retry_after(self):
        e = uemail("victim")
        self.anon().signup(e, PASSWORD, "V")
        c = self.anon()
        got = None
        for i in range(200):
            r = c.post("/v1/auth/login", {"email": e, "password": "wrong-%d-password" % i})
            if r.status == 429:
                got = r
                break
            self.assert_error(r, 401, "unauthenticated", msg="attempt %d" % i)
        self.assertIsNotNone(got, "200 wrong passwords in a row were never throttled")
        self.assert_error(got, 429, "rate_limited")
        # while throttled, even the right password is refused
        r = c.post("/v1/auth/login", {"email": e, "password": PASSWORD})
        self.assert_error(r, 429, "rate_limited")
        self.assertIsNone(r.header("Set-Cookie"), "a throttled login set a cookie")
