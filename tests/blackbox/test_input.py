"""
test_input.py — bad request bodies, for every endpoint that takes one
(api.md "HTTP API": JSON in, UTF-8, 415, 413, unknown fields ignored, wrong
types 400; "Names": 1..100 characters after trimming, valid UTF-8, no
control characters).

The tests are generated: BODY_ENDPOINTS x BAD_BODIES, BODY_ENDPOINTS x
BAD_NAMES, BODY_ENDPOINTS x GOOD_NAMES, BODY_ENDPOINTS x CONTENT_TYPES and
BODY_ENDPOINTS x sizes. Every answer must be the exact error shape, and no
input may produce a 5xx.
"""
import json
import random

from support import ServerCase, uname
import lkserver

# name -> (method, path template, success status)
BODY_ENDPOINTS = {
    "org_create": ("POST", "/v1/organizations", 201),
    "org_patch": ("PATCH", "/v1/organizations/{org}", 200),
    "project_create": ("POST", "/v1/organizations/{org}/projects", 201),
    "project_patch": ("PATCH", "/v1/organizations/{org}/projects/{prj}", 200),
    "env_create": ("POST", "/v1/organizations/{org}/projects/{prj}/environments", 201),
    "env_patch": ("PATCH", "/v1/organizations/{org}/projects/{prj}/environments/{env}", 200),
    "okey_create": ("POST", "/v1/organizations/{org}/access-keys", 201),
    "okey_patch": ("PATCH", "/v1/organizations/{org}/access-keys/{okey}", 200),
    "pkey_create": ("POST", "/v1/me/access-keys", 201),
    "pkey_patch": ("PATCH", "/v1/me/access-keys/{pkey}", 200),
    "me_patch": ("PATCH", "/v1/me", 200),
}

JSON_ERR = ("invalid_json", "validation_failed")
# raw bodies that are not a JSON object with a string name
BAD_BODIES = {
    "unclosed": (b'{"name": "x"', "invalid_json"),
    "unquoted_key": (b'{name: "x"}', "invalid_json"),
    "single_quotes": (b"{'name': 'x'}", "invalid_json"),
    "trailing_garbage": (b'{"name": "x"} x', "invalid_json"),
    "trailing_comma": (b'{"name": "x",}', "invalid_json"),
    "two_objects": (b'{"name": "x"}{"name": "y"}', "invalid_json"),
    "empty": (b"", "invalid_json"),
    "whitespace": (b"  \n ", "invalid_json"),
    "nul_byte": (b'{"name": "x"}\x00', "invalid_json"),
    "bom_then_garbage": (b"\xef\xbb\xbf{", "invalid_json"),
    "not_json": (b"name=x", "invalid_json"),
    # deep, but under the 64 KiB limit: a recursive parser must not blow its stack
    "deep_nesting": (b"[" * 30000 + b"]" * 30000, JSON_ERR),
    "deep_nesting_objects": (b'{"a":' * 10000 + b"1" + b"}" * 10000, JSON_ERR),
    "deep_nesting_in_field": (b'{"name": "x", "z": ' + b"[" * 30000 + b"]" * 30000 + b"}", JSON_ERR + ("ok",)),
    "null": (b"null", JSON_ERR),
    "array": (b'["name", "x"]', JSON_ERR),
    "string": (b'"x"', JSON_ERR),
    "number": (b"42", JSON_ERR),
    "huge_number": (b'{"name": 1e999999}', JSON_ERR),
    "invalid_utf8_ff": (b'{"name": "a\xff\xfeb"}', JSON_ERR),
    "invalid_utf8_truncated": (b'{"name": "a\xe2\x82"}', JSON_ERR),
    "invalid_utf8_overlong_slash": (b'{"name": "a\xc0\xafb"}', JSON_ERR),
    "invalid_utf8_surrogate": (b'{"name": "a\xed\xa0\x80b"}', JSON_ERR),
    "invalid_utf8_above_10ffff": (b'{"name": "a\xf4\x90\x80\x80b"}', JSON_ERR),
    "invalid_utf8_continuation": (b'{"name": "\x80\x80"}', JSON_ERR),
    "invalid_utf8_in_key": (b'{"na\xffme": "x", "name": "y"}', JSON_ERR),
    "escaped_lone_surrogate": (b'{"name": "a\\ud800b"}', JSON_ERR),
    "escaped_nul": (b'{"name": "a\\u0000b"}', JSON_ERR),
    "raw_control_in_string": (b'{"name": "a\x01b"}', JSON_ERR),
    "raw_newline_in_string": (b'{"name": "a\nb"}', JSON_ERR),
    "bad_escape": (b'{"name": "a\\qb"}', "invalid_json"),
    "missing_name": (b'{}', "validation_failed"),
    "duplicate_name_keys": (b'{"name": "a", "name": 5}', JSON_ERR + ("ok",)),
    "only_unknown": (b'{"nam": "x", "Name": "y"}', "validation_failed"),
}

# name values that must be 400 validation_failed, field "name"
BAD_NAMES = {
    "empty": "",
    "space": " ",
    "spaces_only": "     ",
    "tabs_newlines_only": " \t\n\r ",
    "len_101": "x" * 101,
    "len_101_after_trim": "  " + "x" * 101 + "  ",
    "len_101_two_byte": "\u00e9" * 101,
    "len_101_three_byte": "\u20ac" * 101,
    "len_101_four_byte": "\U0001F511" * 101,
    "len_1000": "y" * 1000,
    "number": 7,
    "float": 1.5,
    "zero": 0,
    "true": True,
    "null": None,
    "array": ["x"],
    "empty_array": [],
    "object": {"name": "x"},
    "ctrl_bel": "a\u0007b",
    "ctrl_esc": "red \u001b[31m",
    "ctrl_tab_inside": "a\tb",
    "ctrl_newline": "a\nb",
    "ctrl_cr": "a\rb",
    "ctrl_del": "a\u007fb",
    "ctrl_c1_nel": "a\u0085b",
    "ctrl_c1_csi": "a\u009bb",
    "ctrl_only": "\u0001",
}

# name values that must be accepted; (value, what comes back: stripped or same)
GOOD_NAMES = {
    "len_1": "x",
    "len_100": "x" * 100,
    "len_100_padded": "   " + "x" * 100 + "   ",
    "len_100_two_byte": "\u00e9" * 100,
    "len_100_three_byte": "\u20ac" * 100,
    "len_100_four_byte": "\U0001F511" * 100,
    "mixed_script": "K\u00f6ln \u6771\u4eac \u0645\u0631\u062d\u0628\u0627 \U0001F680",
    "html_and_quotes": "<script>alert(\"x\")</script> & 'y' \\ /",
    "sql_ish": "x'); DROP TABLE keys; --",
    "percent_and_format": "%s %n %x {0}",
}

CONTENT_TYPES = {
    "missing": (None, 415),
    "text_plain": ("text/plain", 415),
    "form": ("application/x-www-form-urlencoded", 415),
    "multipart": ("multipart/form-data; boundary=x", 415),
    "xml": ("application/xml", 415),
    "json_charset": ("application/json; charset=utf-8", "ok"),
    "json_uppercase": ("Application/JSON", "ok"),          # RFC 9110 8.3.1: case-insensitive
    "json_suffix_trick": ("application/jsonx", 415),
    "json_in_param_only": ("text/plain; x=application/json", 415),
}

LIMIT = 64 * 1024


class BodyCase(ServerCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        tc = cls("run")
        cls.c = tc.user()
        org = tc.make_org(cls.c)["id"]
        prj = tc.make_project(cls.c, org)["id"]
        cls.ctx = dict(org=org, prj=prj, env=tc.make_env(cls.c, org, prj)["id"],
                       okey=tc.make_okey(cls.c, org)["id"], pkey=tc.make_pkey(cls.c)["id"])

    def send(self, ep, body, content_type="application/json"):
        method, path, _ = BODY_ENDPOINTS[ep]
        return self.c.request(method, path.format(**self.ctx), body=body, content_type=content_type)

    def expect_ok(self, ep, r, what):
        self.assertEqual(r.status, BODY_ENDPOINTS[ep][2], "%s %s: %r" % (ep, what, r))
        self.assertIsInstance(r.json, dict)


class BadBodies(BodyCase):
    def test_fuzzed_bodies_never_5xx(self):
        rnd = random.Random(1234)
        pieces = [b"{", b"}", b"[", b"]", b'"name"', b":", b",", b'"x"', b"\xff", b"\\u", b"0", b"-",
                  b"1e9", b"null", b"true", b" ", b"\x00", b"\\", b'"', b"\xf0\x9f", b"\xc3\xa9"]
        for i in range(300):
            body = b"".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 30)))
            ep = rnd.choice(sorted(BODY_ENDPOINTS))
            r = self.send(ep, body)
            self.assert_no_500(r, "%s %r" % (ep, body))
        self.ok(self.c.get("/v1/me"))


def _bad_body(ep, raw, codes):
    def t(self):
        r = self.send(ep, raw)
        if "ok" in codes and r.status < 300:
            return
        codes_ = tuple(c for c in (codes if isinstance(codes, tuple) else (codes,)) if c != "ok")
        e = self.assert_error(r, 400, codes_, msg="%s body %r" % (ep, raw[:60]))
        if e["code"] == "validation_failed" and b'"name"' in raw:
            self.assertEqual(e.get("field"), "name")
    return t


def _bad_name(ep, value):
    def t(self):
        r = self.send(ep, json.dumps({"name": value}).encode())
        self.assert_error(r, 400, "validation_failed", field="name", msg="%s name %r" % (ep, value))
    return t


def _good_name(ep, value):
    def t(self):
        r = self.send(ep, json.dumps({"name": value}, ensure_ascii=False).encode("utf-8"))
        self.expect_ok(ep, r, "name %r" % value[:20])
        self.assertEqual(r.json["name"], value.strip(), "stored name differs")
    return t


def _content_type(ep, ctype, want):
    def t(self):
        r = self.send(ep, json.dumps({"name": uname()}).encode(), content_type=ctype)
        if want == "ok":
            self.expect_ok(ep, r, "Content-Type %r" % ctype)
        else:
            self.assert_error(r, 415, "unsupported_media_type", msg="%s Content-Type %r" % (ep, ctype))
    return t


def _size_exact(ep):
    def t(self):
        # exactly 64 KiB of valid JSON (an unknown field pads it): accepted
        head = b'{"name": "big", "pad": "'
        tail = b'"}'
        exact = head + b"p" * (LIMIT - len(head) - len(tail)) + tail
        self.assertEqual(len(exact), LIMIT)
        self.expect_ok(ep, self.send(ep, exact), "64 KiB body")
    return t


def _size_over(ep):
    def t(self):
        head = b'{"name": "big", "pad": "'
        tail = b'"}'
        over = head + b"p" * (LIMIT + 1 - len(head) - len(tail)) + tail
        self.assert_error(self.send(ep, over), 413, "payload_too_large", msg=ep + " 64 KiB + 1")
        self.ok(self.c.get("/v1/me"))
    return t


def _size_huge(ep):
    def t(self):
        # far more: answered with 413 in the error shape (read while the
        # body is still being sent), never a dropped connection, a success
        # or a 5xx; the server is fine afterwards
        huge = b'{"name": "big", "pad": "' + b"p" * (4 * 1024 * 1024) + b'"}'
        method, path, _ = BODY_ENDPOINTS[ep]
        req = ("%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
               "Content-Length: %d\r\nCookie: latchkey_session=%s\r\nX-CSRF-Token: %s\r\n"
               "Connection: close\r\n\r\n" % (method, path.format(**self.ctx), len(huge),
                                                 self.c.cookies["latchkey_session"], self.c.csrf)).encode()
        r = lkserver.raw_http(self.url, req + huge, timeout=20)
        self.assertIsNotNone(r, ep + " 4 MiB: the connection was dropped without a 413")
        self.assert_error(r, 413, "payload_too_large", msg=ep + " 4 MiB")
        self.ok(self.c.get("/v1/me"))
    return t


def _unknown_fields(ep):
    def t(self):
        body = {"name": uname(), "id": "org_fake", "created_at": "2000-01-01T00:00:00Z", "token": "lko_x",
                "extra": {"deep": [1, 2, {"x": None}]}, "type": "organization"}
        r = self.send(ep, json.dumps(body).encode())
        self.expect_ok(ep, r, "unknown fields")
        self.assertNotEqual(r.json.get("id"), "org_fake")
        self.assertNotEqual(r.json.get("created_at"), "2000-01-01T00:00:00Z")
    return t


for _ep in BODY_ENDPOINTS:
    for _n, (_raw, _codes) in BAD_BODIES.items():
        setattr(BadBodies, "test_%s__body_%s" % (_ep, _n), _bad_body(_ep, _raw, _codes))
    for _n, _v in BAD_NAMES.items():
        setattr(BadBodies, "test_%s__bad_name_%s" % (_ep, _n), _bad_name(_ep, _v))
    for _n, _v in GOOD_NAMES.items():
        setattr(BadBodies, "test_%s__good_name_%s" % (_ep, _n), _good_name(_ep, _v))
    for _n, (_ct, _want) in CONTENT_TYPES.items():
        setattr(BadBodies, "test_%s__content_type_%s" % (_ep, _n), _content_type(_ep, _ct, _want))
    setattr(BadBodies, "test_%s__size_exactly_64k_ok" % _ep, _size_exact(_ep))
    setattr(BadBodies, "test_%s__size_64k_plus_1_413" % _ep, _size_over(_ep))
    setattr(BadBodies, "test_%s__size_4mib_413" % _ep, _size_huge(_ep))
    setattr(BadBodies, "test_%s__unknown_fields_ignored" % _ep, _unknown_fields(_ep))


class FailedPatchChangesNothing(BodyCase):
    def test_rejected_patches_leave_names(self):
        for ep in ("org_patch", "project_patch", "env_patch", "okey_patch", "pkey_patch", "me_patch"):
            good = uname("keep")
            self.expect_ok(ep, self.send(ep, json.dumps({"name": good}).encode()), "set")
            for bad in ("", "x" * 101, None, 5, "a\u0007"):
                self.assertEqual(self.send(ep, json.dumps({"name": bad}).encode()).status, 400)
            r = self.send(ep, json.dumps({"name": good}).encode())
            self.assertEqual(r.json["name"], good)


class AuthBodies(ServerCase):
    """signup/login take bodies too, before any credential exists."""

    def test_auth_endpoints_reject_bad_bodies(self):
        for path in ("/v1/auth/signup", "/v1/auth/login"):
            for n, (raw, codes) in BAD_BODIES.items():
                if n in ("missing_name", "only_unknown", "deep_nesting_in_field"):
                    continue
                with self.subTest(path=path, body=n):
                    r = self.anon().request("POST", path, body=raw)
                    self.assert_error(r, 400, codes if isinstance(codes, tuple) else (codes,))

    def test_auth_endpoints_content_type_and_size(self):
        for path in ("/v1/auth/signup", "/v1/auth/login"):
            body = json.dumps({"email": "x@example.com", "password": "pw123456789", "name": "x"}).encode()
            for ct in ("text/plain", None):
                with self.subTest(path=path, ct=ct):
                    self.assert_error(self.anon().request("POST", path, body=body, content_type=ct), 415,
                                      "unsupported_media_type")
            big = b'{"email": "x@example.com", "pad": "' + b"p" * LIMIT + b'"}'
            self.assert_error(self.anon().request("POST", path, body=big), 413, "payload_too_large")
