"""
test_device.py — sign-in from the CLI through the browser (api.md, 1.1:
"Sign-in from the CLI through the browser (device authorization, RFC 8628's
shape)"): start, poll, look up, approve, deny; the user_code alphabet and
forms; slow_down; expiry; single use (also under racing pollers); the key
belongs to the approver; session + CSRF on the person's side, keys refused;
only hashes stored; wrong user_code guesses throttled per client address,
with the arithmetic that brute force cannot succeed within the expiry.
"""
import json
import re
import threading
import time

from support import ServerCase, Client, uname

ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
USER_CODE_RE = re.compile(r"^[%s]{4}-[%s]{4}$" % (ALPHABET, ALPHABET))
INTERVAL = 5
TTL = 600
GUESS_LIMIT = 10          # wrong codes per client address ...
GUESS_WINDOW = 15 * 60    # ... per 15 minutes (docs: SECURITY.md)
DEVICE_ERRORS = {"authorization_pending", "slow_down", "expired_token", "access_denied"}


def canon(code):
    return code.replace("-", "").upper()


class DeviceCase(ServerCase):
    def start(self, body=None, client=None):
        r = (client or self.anon()).post("/v1/auth/device", {} if body is None else body)
        return self.ok(r)

    def poll(self, device_code, client=None):
        return (client or self.anon()).post("/v1/auth/device/token", {"device_code": device_code})

    def lookup(self, c, code):
        return c.get("/v1/auth/device?user_code=" + code)

    def decide(self, c, code, what="approve", **kw):
        return c.post("/v1/auth/device/" + what, {"user_code": code}, **kw)

    def assert_device_error(self, r, code):
        self.assertEqual(r.status, 400, r)
        self.assertEqual(set(r.json.keys()), {"error"}, r)
        self.assertEqual(r.json["error"]["code"], code, r)
        self.assertTrue(r.json["error"]["message"], r)


class Start(DeviceCase):
    def test_answer_shape(self):
        g = self.start({"client_name": "latchkey CLI on box"})
        self.assertEqual(set(g), {"device_code", "user_code", "verification_uri",
                                  "verification_uri_complete", "expires_in", "interval"})
        self.assertRegex(g["user_code"], USER_CODE_RE)
        self.assertGreaterEqual(len(g["device_code"]), 43)
        self.assertEqual(g["verification_uri"], self.url + "/device")
        self.assertEqual(g["verification_uri_complete"], self.url + "/device?code=" + g["user_code"])
        self.assertEqual(g["expires_in"], TTL)
        self.assertEqual(g["interval"], INTERVAL)

    def test_codes_are_fresh_and_from_the_alphabet(self):
        seen_dev, seen_user, letters = set(), set(), set()
        for _ in range(40):
            g = self.start()
            self.assertRegex(g["user_code"], USER_CODE_RE)
            seen_dev.add(g["device_code"])
            seen_user.add(g["user_code"])
            letters |= set(canon(g["user_code"]))
        self.assertEqual(len(seen_dev), 40)
        self.assertEqual(len(seen_user), 40)
        self.assertFalse(letters & set("AEIOUY0123456789"), letters)
        self.assertGreater(len(letters), 12, "codes do not spread over the alphabet")

    def test_start_is_public_and_needs_no_body_fields(self):
        g = self.start({})
        c = self.user()
        d = self.ok(self.lookup(c, g["user_code"]))
        self.assertEqual(d["client_name"], "latchkey CLI")
        self.assertEqual(d["scopes"], ["*"])

    BAD = [
        ("client_name_empty", {"client_name": ""}, "client_name"),
        ("client_name_blank", {"client_name": "  \t"}, "client_name"),
        ("client_name_101", {"client_name": "n" * 101}, "client_name"),
        ("client_name_control", {"client_name": "a\u001bb"}, "client_name"),
        ("client_name_number", {"client_name": 7}, "client_name"),
        ("client_name_list", {"client_name": ["x"]}, "client_name"),
        ("scopes_string", {"scopes": "keys:read"}, "scopes"),
        ("scopes_empty", {"scopes": []}, "scopes"),
        ("scopes_number", {"scopes": [1]}, "scopes"),
        ("scopes_33", {"scopes": ["keys:read"] * 33}, "scopes"),
        ("scopes_object", {"scopes": {"a": 1}}, "scopes"),
        ("scopes_unknown", {"scopes": ["keys:read", "keys:delete"]}, "scopes"),
        ("scopes_duplicate", {"scopes": ["keys:read", "keys:read"]}, "scopes"),
        ("scopes_star_and_more", {"scopes": ["*", "keys:read"]}, "scopes"),
        ("scopes_empty_name", {"scopes": [""]}, "scopes"),
    ]

    SCOPES = [
        ("all", ["*"], ["*"]),
        ("one", ["projects:write"], ["org:read", "projects:read", "projects:write"]),
        ("read_closed", ["keys:read", "user:read"], ["keys:read", "org:read", "user:read"]),
    ]

    def test_requested_scopes_are_kept_canonical(self):
        c = self.user()
        for name, asked, shown in self.SCOPES:
            with self.subTest(name):
                g = self.start({"scopes": asked})
                self.assertEqual(self.ok(self.lookup(c, g["user_code"]))["scopes"], shown)

    def test_bad_bodies(self):
        for name, body, field in self.BAD:
            with self.subTest(name):
                r = self.anon().post("/v1/auth/device", body)
                self.assert_error(r, 400, "validation_failed", field=field, msg=name)

    def test_not_json(self):
        self.assert_error(self.anon().post("/v1/auth/device", body=b"{", content_type="application/json"),
                          400, "invalid_json")
        self.assert_error(self.anon().post("/v1/auth/device", body=b"{}", content_type="text/plain"),
                          415, "unsupported_media_type")


class Poll(DeviceCase):
    def test_pending_then_slow_down_then_pending(self):
        g = self.start()
        self.assert_device_error(self.poll(g["device_code"]), "authorization_pending")
        self.assert_device_error(self.poll(g["device_code"]), "slow_down")
        # the interval is now 10 s: 6 s later is still too fast
        time.sleep(6)
        self.assert_device_error(self.poll(g["device_code"]), "slow_down")
        time.sleep(INTERVAL + 10 + 0.5)  # after a second slow_down: 15 s
        self.assert_device_error(self.poll(g["device_code"]), "authorization_pending")

    BAD = [
        ("unknown", {"device_code": "A" * 43}, "expired_token"),
        ("short", {"device_code": "abc"}, "expired_token"),
        ("long", {"device_code": "A" * 5000}, "expired_token"),
        ("bad_chars", {"device_code": "!" * 43}, "expired_token"),
        ("a_user_code", {"device_code": "BCDF-GHJK"}, "expired_token"),
        ("a_token", {"device_code": "lkp_" + "a" * 38}, "expired_token"),
    ]

    def test_unknown_or_malformed_device_codes(self):
        for name, body, code in self.BAD:
            with self.subTest(name):
                self.assert_device_error(self.anon().post("/v1/auth/device/token", body), code)

    def test_device_code_must_be_a_string(self):
        for body in ({}, {"device_code": None}, {"device_code": 5}, {"device_code": ["x"]}):
            with self.subTest(body=body):
                r = self.anon().post("/v1/auth/device/token", body)
                self.assert_error(r, 400, "validation_failed", field="device_code")


class Approve(DeviceCase):
    def test_whole_flow_and_single_use(self):
        c = self.user()
        g = self.start({"client_name": "latchkey CLI on build-7"})
        self.assert_device_error(self.poll(g["device_code"]), "authorization_pending")
        d = self.ok(self.lookup(c, g["user_code"]))
        self.assertEqual(d["user_code"], g["user_code"])
        self.assertEqual(d["client_name"], "latchkey CLI on build-7")
        self.assertEqual(d["client_address"], "127.0.0.1")
        created = self.assert_time(d["created_at"], near=time.time())
        self.assertAlmostEqual(self.assert_time(d["expires_at"]) - created, TTL, delta=1)
        self.ok(self.decide(c, g["user_code"]), 204)
        time.sleep(INTERVAL + 0.2)
        r = self.poll(g["device_code"])
        body = self.ok(r)
        self.assertEqual(set(body), {"token", "key"})
        self.assert_key_shape(body["key"], "personal")
        self.assertEqual(body["key"]["name"], "latchkey CLI on build-7")
        self.assertEqual(body["key"]["created_by"], c.user["id"])
        self.assertTrue(body["token"].startswith("lkp_"))
        self.assertEqual(r.header("Cache-Control"), "no-store")
        who = self.ok(self.bearer(body["token"]).get("/v1/whoami"))
        self.assertEqual(who["principal"], "personal_key")
        self.assertEqual(who["user"]["id"], c.user["id"])
        # single use: the token is never handed out again
        for _ in range(3):
            time.sleep(0.05)
            self.assert_device_error(self.poll(g["device_code"]), "expired_token")
        keys = self.list_all(c, "/v1/me/access-keys")
        self.assertEqual([k["id"] for k in keys if k["name"] == "latchkey CLI on build-7"],
                         [body["key"]["id"]])
        # the code cannot be approved or looked up again
        self.assert_error(self.decide(c, g["user_code"]), 404, "not_found")
        # the key is an ordinary personal key: it can be revoked
        self.ok(c.delete("/v1/me/access-keys/" + body["key"]["id"]), 204)
        self.assert_error(self.bearer(body["token"]).get("/v1/whoami"), 401)

    FORMS = [
        ("as_shown", lambda c: c),
        ("lower", lambda c: c.lower()),
        ("no_dash", lambda c: canon(c)),
        ("lower_no_dash", lambda c: canon(c).lower()),
        ("spaces", lambda c: " ".join(canon(c))),
    ]

    def test_user_code_forms(self):
        c = self.user()
        for name, form in self.FORMS:
            with self.subTest(name):
                g = self.start()
                code = form(g["user_code"])
                d = self.ok(self.lookup(c, code.replace(" ", "%20")))
                self.assertEqual(d["user_code"], g["user_code"])
                self.ok(self.decide(c, code), 204)
                self.ok(self.poll(g["device_code"]))

    def test_the_key_belongs_to_the_approver_not_the_page_opener(self):
        opener, approver = self.user(), self.user()
        g = self.start()
        self.ok(self.lookup(opener, g["user_code"]))  # the first person opens the page
        self.ok(self.lookup(approver, g["user_code"]))
        self.ok(self.decide(approver, g["user_code"]), 204)
        self.assert_error(self.decide(opener, g["user_code"]), 404, "not_found")
        body = self.ok(self.poll(g["device_code"]))
        self.assertEqual(body["key"]["created_by"], approver.user["id"])
        who = self.ok(self.bearer(body["token"]).get("/v1/whoami"))
        self.assertEqual(who["user"]["id"], approver.user["id"])
        self.assertEqual([k for k in self.list_all(opener, "/v1/me/access-keys")
                          if k["id"] == body["key"]["id"]], [])

    def test_racing_pollers_get_the_key_once(self):
        c = self.user()
        g = self.start()
        self.ok(self.decide(c, g["user_code"]), 204)
        results, barrier = [], threading.Barrier(8)

        def one():
            cl = Client(self.url)
            barrier.wait()
            results.append(self.poll(g["device_code"], client=cl))
            cl.close()

        threads = [threading.Thread(target=one) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        ok = [r for r in results if r.status == 200]
        self.assertEqual(len(ok), 1, results)
        for r in results:
            if r.status != 200:
                self.assertEqual(r.status, 400, r)
                self.assertIn(r.json["error"]["code"], {"expired_token", "slow_down"}, r)


class Deny(DeviceCase):
    def test_deny(self):
        c = self.user()
        g = self.start()
        self.ok(self.decide(c, g["user_code"], "deny"), 204)
        self.assert_device_error(self.poll(g["device_code"]), "access_denied")
        time.sleep(INTERVAL + 0.2)
        self.assert_device_error(self.poll(g["device_code"]), "access_denied")
        # decided: neither approve nor deny nor look-up find it any more
        self.assert_error(self.decide(c, g["user_code"]), 404, "not_found")
        self.assert_error(self.decide(c, g["user_code"], "deny"), 404, "not_found")
        self.assert_error(self.lookup(c, g["user_code"]), 404, "not_found")
        self.assertEqual(self.list_all(c, "/v1/me/access-keys"), [])


class PersonSide(DeviceCase):
    """lookup/approve/deny: a session, and CSRF on the writes; keys refused."""

    def test_csrf_on_approve_and_deny(self):
        c = self.user()
        g = self.start()
        for what in ("approve", "deny"):
            for name, kw in (("missing", {"csrf": False}),
                             ("wrong", {"csrf": False, "headers": {"X-CSRF-Token": "x" * 43}})):
                with self.subTest(what=what, csrf=name):
                    self.assert_error(self.decide(c, g["user_code"], what, **kw), 403, "forbidden")
        self.assert_device_error(self.poll(g["device_code"]), "authorization_pending")
        self.ok(self.decide(c, g["user_code"], "deny"), 204)

    def test_keys_and_strangers_are_refused(self):
        c = self.user()
        org = self.make_org(c)
        pkey = self.make_pkey(c)["token"]
        okey = self.make_okey(c, org["id"])["token"]
        g = self.start()
        for name, cl, status in (("anonymous", self.anon(), 401),
                                 ("personal key", self.bearer(pkey), 403),
                                 ("org key", self.bearer(okey), 403)):
            with self.subTest(name):
                self.assert_error(self.lookup(cl, g["user_code"]), status)
                self.assert_error(self.decide(cl, g["user_code"]), status)
                self.assert_error(self.decide(cl, g["user_code"], "deny"), status)
        self.assert_device_error(self.poll(g["device_code"]), "authorization_pending")

    def test_bad_person_side_bodies(self):
        c = self.user()
        for body in ({}, {"user_code": None}, {"user_code": 12345678}, {"user_code": ["BCDF-GHJK"]}):
            with self.subTest(body=body):
                r = c.post("/v1/auth/device/approve", body)
                self.assert_error(r, 400, "validation_failed", field="user_code")
        self.assert_error(c.get("/v1/auth/device"), 400, "validation_failed", field="user_code")

    def test_only_hashes_are_stored(self):
        g = self.start({"client_name": uname("cli")})
        dump = self.srv.dump_database()
        if dump is None:
            self.skipTest("pg_dump is not installed")
        for secret in (g["device_code"], g["user_code"], canon(g["user_code"])):
            self.assertNotIn(secret.encode(), dump)


class Expiry(DeviceCase):
    server_args = ("--device-code-ttl", "2")

    def test_expired_code(self):
        c = self.user()
        g = self.start()
        self.assertEqual(g["expires_in"], 2)
        self.ok(self.lookup(c, g["user_code"]))
        time.sleep(3)
        self.assert_device_error(self.poll(g["device_code"]), "expired_token")
        self.assert_error(self.lookup(c, g["user_code"]), 404, "not_found")
        self.assert_error(self.decide(c, g["user_code"]), 404, "not_found")
        self.assert_error(self.decide(c, g["user_code"], "deny"), 404, "not_found")

    def test_approved_but_collected_too_late(self):
        c = self.user()
        g = self.start()
        self.ok(self.decide(c, g["user_code"]), 204)
        time.sleep(3)
        self.assert_device_error(self.poll(g["device_code"]), "expired_token")
        self.assertEqual(self.list_all(c, "/v1/me/access-keys"), [])


class Guessing(DeviceCase):
    """Wrong user_codes are throttled per client address (its own server, so
    the other classes' requests from 127.0.0.1 do not count)."""

    def test_brute_force_is_throttled(self):
        person = self.user()
        guesser = Client(self.url, source_address=("127.0.0.2", 0))
        guesser.cookies, guesser.csrf = dict(person.cookies), person.csrf
        g = self.start()
        wrong = "BBBB-BBBB" if g["user_code"] != "BBBB-BBBB" else "CCCC-CCCC"
        statuses = []
        for i in range(GUESS_LIMIT + 5):
            statuses.append(self.decide(guesser, wrong).status)
        self.assertEqual(statuses[:GUESS_LIMIT], [404] * GUESS_LIMIT, statuses)
        self.assertEqual(set(statuses[GUESS_LIMIT:]), {429}, statuses)
        r = self.decide(guesser, wrong)
        e = self.assert_error(r, 429, "rate_limited")
        self.assertIsNotNone(e)
        # no oracle: the right code gets the same 429, for every route
        self.assert_error(self.decide(guesser, g["user_code"]), 429, "rate_limited")
        self.assert_error(self.lookup(guesser, g["user_code"]), 429, "rate_limited")
        self.assert_error(self.decide(guesser, g["user_code"], "deny"), 429, "rate_limited")
        self.assert_device_error(self.poll(g["device_code"]), "authorization_pending")
        # another address is not affected
        other = Client(self.url, source_address=("127.0.0.3", 0))
        other.cookies, other.csrf = dict(person.cookies), person.csrf
        self.ok(self.decide(other, g["user_code"]), 204)

        # The arithmetic (SECURITY.md): an address gets GUESS_LIMIT wrong
        # codes per GUESS_WINDOW; a code lives TTL < GUESS_WINDOW, so its
        # life overlaps at most two windows of an address: at most
        # 2 * GUESS_LIMIT guesses per address per code lifetime, out of 20^8.
        space = len(ALPHABET) ** 8
        self.assertEqual(space, 25_600_000_000)
        windows = TTL // GUESS_WINDOW + 2
        per_address = GUESS_LIMIT * windows
        self.assertEqual(per_address, 20)
        # one address against 1,000 codes pending at once: < 1e-6
        self.assertLess(per_address * 1_000 / space, 1e-6)
        # 1,000 addresses (IPv6: 1,000 /64s) against 100 pending codes: < 0.01%
        self.assertLess(1_000 * per_address * 100 / space, 1e-4)
