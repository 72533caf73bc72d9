"""
test_tokens.py — the Authorization header and the token format (api.md
"Credentials", "Tokens", the 401 row of the error table).

Every malformed, forged, broken, truncated, over-long, revoked or foreign
credential is 401 `unauthenticated` with `WWW-Authenticate: Bearer`, never
500, and the answer never echoes the token. Generated per variant and per
endpoint kind so each is its own result.
"""
import secrets

from support import ServerCase, forge_token, token_well_formed, redact, TOKEN_RE
from lkserver import BASE62


def _flip(tok, i):
    ch = tok[i]
    return tok[:i] + ("A" if ch != "A" else "B") + tok[i + 1:]


# name -> function(valid personal token, valid org token) -> Authorization header value
BAD_AUTH = {
    "garbage": lambda p, o: "Bearer garbage",
    "forged_org_checksum_ok": lambda p, o: "Bearer " + forge_token("o"),
    "forged_personal_checksum_ok": lambda p, o: "Bearer " + forge_token("p"),
    "forged_org_bad_checksum": lambda p, o: "Bearer " + forge_token("o", checksum=False),
    "checksum_broken": lambda p, o: "Bearer " + _flip(p, len(p) - 1),
    "random_part_changed": lambda p, o: "Bearer " + _flip(p, 10),
    "org_checksum_broken": lambda p, o: "Bearer " + _flip(o, len(o) - 3),
    "truncated_by_one": lambda p, o: "Bearer " + p[:-1],
    "truncated_half": lambda p, o: "Bearer " + p[:21],
    "prefix_only": lambda p, o: "Bearer lkp_",
    "over_long_by_one": lambda p, o: "Bearer " + p + "A",
    "over_long_by_100": lambda p, o: "Bearer " + p + "A" * 100,
    "over_long_4k": lambda p, o: "Bearer " + p + "x" * 4096,
    "wrong_prefix": lambda p, o: "Bearer lkx_" + p[4:],
    "prefix_swapped": lambda p, o: "Bearer lko_" + p[4:],
    "uppercase_prefix": lambda p, o: "Bearer LKP_" + p[4:],
    "non_base62_char": lambda p, o: "Bearer " + p[:20] + "-" + p[21:],
    "utf8_in_token": lambda p, o: "Bearer " + p[:20] + "\u00e9".encode().decode("latin-1") + p[22:],
    "empty_bearer": lambda p, o: "Bearer ",
    "bearer_alone": lambda p, o: "Bearer",
    "empty_header": lambda p, o: "",
    "basic_scheme": lambda p, o: "Basic dXNlcjpwYXNzd29yZA==",
    "token_scheme": lambda p, o: "Token " + p,
    "token_without_scheme": lambda p, o: p,
    "two_tokens": lambda p, o: "Bearer %s %s" % (p, o),
    "token_with_trailing_garbage": lambda p, o: "Bearer " + p + " junk",
}

PROBES = [("GET", "/v1/me"), ("GET", "/v1/whoami"), ("GET", "/v1/organizations"),
          ("POST", "/v1/organizations"), ("GET", "/v1/organizations/{org}")]


class BadTokenCase(ServerCase):
    """The server may throttle failed bearer attempts per client address
    (a 429 is allowed), so the variants are spread over several classes,
    each with its own server, each far below any sensible threshold."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        tc = cls("run")
        cls.A = tc.user()
        cls.org = tc.make_org(cls.A)["id"]
        cls.pk = tc.make_pkey(cls.A)["token"]
        cls.ok_ = tc.make_okey(cls.A, cls.org)["token"]

    def _probe(self, header):
        for method, path in PROBES:
            path = path.format(org=self.org)
            c = self.anon()
            r = c.request(method, path, json={"name": "x"} if method == "POST" else None,
                          headers={"Authorization": header})
            self.assert_error(r, 401, "unauthenticated", msg="%s %s with Authorization %r" % (method, path, header[:60]))
            self.assertNotIn(self.pk, r.body)
            self.assertNotIn("\u2026", r.body)
            self.assertNotIn(self.ok_, r.body)
            if len(header) > 12:
                self.assertNotIn(header[7:], r.body, "the answer echoes the credential")



class BadTokens(BadTokenCase):
    def test_valid_tokens_work(self):
        # the control for every variant below
        self.assertTrue(token_well_formed(self.pk) and token_well_formed(self.ok_))
        self.ok(self.bearer(self.pk).get("/v1/me"))
        self.ok(self.bearer(self.ok_).get("/v1/organizations/" + self.org))

    def test_lowercase_bearer_scheme_is_accepted(self):
        # RFC 7235 2.1: the auth-scheme is case-insensitive; the contract is
        # silent, so the standard (and GitHub/GitLab/Stripe) decide.
        for scheme in ("bearer", "BEARER", "beArer"):
            r = self.anon().get("/v1/me", headers={"Authorization": "%s %s" % (scheme, self.pk)})
            self.assertEqual(r.status, 200, "%s: %r" % (scheme, r))

    def test_no_credential_401(self):
        for method, path in PROBES:
            path = path.format(org=self.org)
            r = self.anon().request(method, path, json={"name": "x"} if method == "POST" else None)
            self.assert_error(r, 401, "unauthenticated", msg="%s %s" % (method, path))

    def test_deleted_personal_key_401(self):
        k = self.make_pkey(self.A)
        self.ok(self.bearer(k["token"]).get("/v1/me"))
        self.assertEqual(self.A.delete("/v1/me/access-keys/" + k["id"]).status, 204)
        self._probe("Bearer " + k["token"])

    def test_deleted_org_key_401(self):
        k = self.make_okey(self.A, self.org)
        self.ok(self.bearer(k["token"]).get("/v1/organizations/" + self.org))
        self.assertEqual(self.A.delete("/v1/organizations/%s/access-keys/%s" % (self.org, k["id"])).status, 204)
        self._probe("Bearer " + k["token"])

    def test_redacted_form_is_not_a_credential(self):
        # the header carries the UTF-8 bytes of "…"
        self._probe("Bearer " + redact(self.pk).encode("utf-8").decode("latin-1"))

    def test_session_id_is_not_a_bearer_token(self):
        c = self.user()
        self._probe("Bearer " + c.cookies["latchkey_session"])

    def test_csrf_token_is_not_a_credential(self):
        c = self.user()
        self._probe("Bearer " + c.csrf)

    def test_token_is_not_a_session_cookie(self):
        for tok in (self.pk, self.ok_):
            r = self.anon().get("/v1/me", headers={"Cookie": "latchkey_session=" + tok}, cookies=False)
            self.assert_error(r, 401, "unauthenticated")

    def test_key_id_is_not_a_credential(self):
        k = self.make_pkey(self.A)
        self._probe("Bearer " + k["id"])


def _bad(name, fn):
    def t(self):
        self._probe(fn(self.pk, self.ok_))
    return t


_items = list(BAD_AUTH.items())
for _i in range(0, len(_items), 6):
    _cls = type("BadAuth%d" % (_i // 6), (BadTokenCase,), {})
    for _n, _fn in _items[_i:_i + 6]:
        setattr(_cls, "test_bad_auth_" + _n, _bad(_n, _fn))
    globals()[_cls.__name__] = _cls
del _cls


class TokenFormat(ServerCase):
    def test_tokens_are_well_formed_and_unique(self):
        c = self.user()
        org = self.make_org(c)["id"]
        seen = set()
        for i in range(20):
            for k, kind in ((self.make_pkey(c), "personal"), (self.make_okey(c, org), "organization")):
                self.assert_key_shape(k, kind, with_token=True, org_id=org if kind == "organization" else None)
                self.assertEqual(len(k["token"]), 42)
                self.assertNotIn(k["token"], seen)
                seen.add(k["token"])

    def test_randomness_looks_random(self):
        # 40 tokens x 32 characters: every base62 digit should show up; a
        # counter or timestamp would not do that.
        c = self.user()
        chars = set()
        firsts = set()
        for _ in range(40):
            t = self.make_pkey(c)["token"]
            chars.update(t[4:36])
            firsts.add(t[4:12])
        self.assertGreater(len(chars), 55, "random part uses only %d distinct characters" % len(chars))
        self.assertEqual(len(firsts), 40)
