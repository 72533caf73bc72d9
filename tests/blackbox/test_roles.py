"""
test_roles.py — the contract's "Roles and invitations" (api.md, 1.1): roles
owner/member, every owner-only operation attempted by a member (session and
personal key) with nothing changed, the last-owner rule, PATCH …/members
{role}, invitations (create/list/revoke/preview/accept, 7 days, bound to
the email, used once), the pre-registration attack end to end, secrets
never in the access log, and the invitation email through a real local
SMTP server (tests/lib/smtpsink.py, python3-aiosmtpd).
"""
import os
import re
import sqlite3
import subprocess
import sys
import time
import unittest

from support import ServerCase, uemail, uname, PASSWORD, BACKEND
import lkserver

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import smtpsink  # noqa: E402

INVITE_TOKEN_RE = re.compile(r"^lki_[0-9A-Za-z]{38}$")
ANY_TOKEN_RE = re.compile(r"lk[opi]_[0-9A-Za-z]{38}")
PUBLIC_URL = "https://keys.example.test"
ORG = "/v1/organizations/%s"


def db_exec(srv, sql):
    """Run one SQL statement on the server's own database (test setup only:
    e.g. age an invitation past its 7 days)."""
    if srv.backend == "pg":
        subprocess.run([lkserver.pg_bin("psql"), "-v", "ON_ERROR_STOP=1", "-q", "-d", srv.db_url,
                        "-c", sql], env=lkserver.pg_env(), check=True, stdout=subprocess.DEVNULL)
        return
    con = sqlite3.connect(srv.sqlite_path(), timeout=10)
    try:
        con.execute(sql)
        con.commit()
    finally:
        con.close()


class RolesBase(ServerCase):
    server_args = ("--public-url", PUBLIC_URL + "/")

    def org_with_member(self):
        """An owner, an org, and a plain member (added directly)."""
        owner = self.user(name="Owner")
        org = self.make_org(owner)
        member = self.user(name="Member")
        m = self.add_member(owner, org["id"], member.email)
        self.assertEqual(m["role"], "member", m)
        return owner, org, member

    def roles(self, c, org_id):
        return {m["user_id"]: m["role"] for m in self.list_all(c, ORG % org_id + "/members")}

    def invite(self, c, org_id, email, role=None, status=201):
        body = {"email": email}
        if role is not None:
            body["role"] = role
        r = c.post(ORG % org_id + "/invitations", body)
        if status != 201:
            return r
        inv = self.ok(r, 201)
        return inv

    @staticmethod
    def token_of(inv):
        return inv["url"].rsplit("/", 1)[1]


class TestRoles(RolesBase):
    def test_creator_is_owner_and_added_user_is_member(self):
        owner, org, member = self.org_with_member()
        roles = self.roles(owner, org["id"])
        self.assertEqual(roles[owner.user["id"]], "owner")
        self.assertEqual(roles[member.user["id"]], "member")
        # a member sees the roles too (read-only)
        self.assertEqual(self.roles(member, org["id"]), roles)

    def test_member_attempts_every_owner_only_operation(self):
        owner, org, member = self.org_with_member()
        o = org["id"]
        other = self.user(name="Other")
        self.add_member(owner, o, other.email)
        outsider = self.user()
        pkey = self.make_pkey(member)["token"]
        ops = [
            ("DELETE", ORG % o, None),
            ("PATCH", ORG % o + "/billing", {"plan": "pro"}),
            ("POST", ORG % o + "/members", {"email": outsider.email}),
            ("DELETE", ORG % o + "/members/" + other.user["id"], None),
            ("DELETE", ORG % o + "/members/" + owner.user["id"], None),
            ("PATCH", ORG % o + "/members/" + member.user["id"], {"role": "owner"}),
            ("PATCH", ORG % o + "/members/" + owner.user["id"], {"role": "member"}),
            ("POST", ORG % o + "/invitations", {"email": uemail(), "role": "owner"}),
            ("PATCH", ORG % o, {"access_key_max_lifetime_days": 30}),
        ]
        for cred_name, client in (("session", member), ("personal key", self.bearer(pkey))):
            for method, path, body in ops:
                with self.subTest(cred=cred_name, op="%s %s" % (method, path)):
                    r = client.request(method, path, json=body)
                    self.assert_error(r, 403, "forbidden")
        # nothing changed
        self.assertIsNone(self.ok(owner.get(ORG % o))["access_key_max_lifetime_days"])
        self.assertEqual(self.ok(owner.get(ORG % o + "/billing"))["plan"], "free")
        roles = self.roles(owner, o)
        self.assertEqual(roles, {owner.user["id"]: "owner", member.user["id"]: "member",
                                 other.user["id"]: "member"})
        self.assertEqual(self.list_all(owner, ORG % o + "/invitations"), [])

    def test_member_keeps_every_other_right(self):
        owner, org, member = self.org_with_member()
        o = org["id"]
        self.ok(member.patch(ORG % o, {"name": uname("renamed")}))
        prj = self.make_project(member, o)
        self.make_env(member, o, prj["id"])
        self.ok(member.delete(ORG % o + "/projects/" + prj["id"]), 204)
        key = self.make_okey(member, o)
        self.ok(member.delete(ORG % o + "/access-keys/" + key["id"]), 204)
        inv = self.invite(member, o, uemail())
        self.assertEqual(inv["role"], "member")
        self.assertEqual(inv["invited_by"], member.user["id"])
        self.assertEqual(len(self.list_all(member, ORG % o + "/invitations")), 1)
        self.ok(member.delete(ORG % o + "/invitations/" + inv["id"]), 204)
        self.ok(member.get(ORG % o + "/billing"))
        # and anyone may leave
        self.ok(member.delete(ORG % o + "/members/" + member.user["id"]), 204)
        self.assert_error(member.get(ORG % o), 404, "not_found")

    def test_owner_manages_roles(self):
        owner, org, member = self.org_with_member()
        o = org["id"]
        path = ORG % o + "/members/" + member.user["id"]
        m = self.ok(owner.patch(path, {"role": "owner"}))
        self.assertEqual((m["user_id"], m["role"], m["email"]), (member.user["id"], "owner", member.email))
        self.assertIn("joined_at", m)
        # the new owner may now do owner things, e.g. demote the first owner
        self.ok(member.patch(ORG % o + "/members/" + owner.user["id"], {"role": "member"}))
        self.assert_error(owner.delete(ORG % o), 403, "forbidden")
        self.ok(member.patch(ORG % o + "/billing", {"plan": "pro"}))
        # setting the role a member already has is fine
        self.ok(member.patch(path, {"role": "owner"}))

    def test_last_owner_cannot_leave_or_be_demoted(self):
        owner, org, member = self.org_with_member()
        o = org["id"]
        me = ORG % o + "/members/" + owner.user["id"]
        self.assert_error(owner.delete(me), 409, "conflict")
        self.assert_error(owner.patch(me, {"role": "member"}), 409, "conflict")
        self.assertEqual(self.roles(owner, o)[owner.user["id"]], "owner")
        # with a second owner, both work
        self.ok(owner.patch(ORG % o + "/members/" + member.user["id"], {"role": "owner"}))
        self.ok(owner.patch(me, {"role": "member"}))
        self.assert_error(member.patch(ORG % o + "/members/" + member.user["id"], {"role": "member"}),
                          409, "conflict")
        self.ok(owner.delete(me), 204)
        self.assertEqual(list(self.roles(member, o).values()), ["owner"])

    def test_role_patch_bad_input(self):
        owner, org, member = self.org_with_member()
        path = ORG % org["id"] + "/members/" + member.user["id"]
        for body in ({}, {"role": "admin"}, {"role": ""}, {"role": "OWNER"}, {"role": 1},
                     {"role": None}, {"role": ["owner"]}):
            with self.subTest(body=body):
                self.assert_error(owner.patch(path, body), 400, "validation_failed", field="role")
        stranger = self.user()
        self.assert_error(owner.patch(ORG % org["id"] + "/members/" + stranger.user["id"],
                                      {"role": "owner"}), 404, "not_found")
        self.assert_error(owner.patch(ORG % org["id"] + "/members/usr_nope", {"role": "owner"}),
                          404, "not_found")
        self.assertEqual(self.roles(owner, org["id"])[member.user["id"]], "member")

    def test_org_key_rights_unchanged(self):
        owner, org, member = self.org_with_member()
        o = org["id"]
        okey = self.bearer(self.make_okey(owner, o)["token"])
        self.ok(okey.patch(ORG % o + "/billing", {"plan": "pro"}))  # as every v1 key could
        self.ok(okey.get(ORG % o + "/members"))
        self.ok(okey.get(ORG % o + "/invitations"))
        for method, path, body in (
                ("PATCH", ORG % o + "/members/" + member.user["id"], {"role": "owner"}),
                ("POST", ORG % o + "/invitations", {"email": uemail()}),
                ("DELETE", ORG % o, None)):
            with self.subTest(op=method + " " + path):
                self.assert_error(okey.request(method, path, json=body), 403, "forbidden")

    def test_non_member_gets_404(self):
        owner, org, member = self.org_with_member()
        stranger = self.user()
        o = org["id"]
        for method, path, body in (
                ("PATCH", ORG % o + "/members/" + member.user["id"], {"role": "owner"}),
                ("GET", ORG % o + "/invitations", None),
                ("POST", ORG % o + "/invitations", {"email": uemail()}),
                ("DELETE", ORG % o + "/invitations/inv_0000000000000000000000", None)):
            with self.subTest(op=method + " " + path):
                self.assert_error(stranger.request(method, path, json=body), 404, "not_found")


class TestInvitations(RolesBase):
    def test_create_list_preview_accept(self):
        owner, org, _ = self.org_with_member()
        o = org["id"]
        alice = self.user(name="Alice")
        inv = self.invite(owner, o, alice.email.upper())
        self.assert_id(inv["id"], "inv")
        self.assertEqual(inv["email"], alice.email.upper())
        self.assertEqual(inv["role"], "member")
        self.assertEqual(inv["invited_by"], owner.user["id"])
        created = self.assert_time(inv["created_at"], near=time.time())
        self.assertAlmostEqual(self.assert_time(inv["expires_at"]) - created, 7 * 86400, delta=2)
        self.assertTrue(inv["url"].startswith(PUBLIC_URL + "/invite/"), inv["url"])
        tok = self.token_of(inv)
        self.assertRegex(tok, INVITE_TOKEN_RE)
        listed = self.list_all(owner, ORG % o + "/invitations")
        self.assertEqual([i["id"] for i in listed], [inv["id"]])
        self.assertNotIn("url", listed[0])
        self.assertNotIn(tok, str(listed))
        pv = self.ok(alice.get("/v1/invitations/" + tok))
        self.assertEqual(pv["organization"], {"id": o, "name": org["name"]})
        self.assertEqual((pv["email"], pv["role"], pv["invited_by"]),
                         (alice.email.upper(), "member", owner.user["id"]))
        self.assertEqual(pv["inviter"]["name"], "Owner")
        self.assertEqual(pv["expires_at"], inv["expires_at"])
        m = self.ok(alice.post("/v1/invitations/accept", {"token": tok}))
        self.assertEqual((m["user_id"], m["role"], m["email"]), (alice.user["id"], "member", alice.email))
        self.assertEqual(self.roles(owner, o)[alice.user["id"]], "member")
        # used once: gone from the list, preview and accept 404
        self.assertEqual(self.list_all(owner, ORG % o + "/invitations"), [])
        self.assert_error(alice.get("/v1/invitations/" + tok), 404, "not_found")
        self.assert_error(alice.post("/v1/invitations/accept", {"token": tok}), 404, "not_found")

    def test_invite_as_owner(self):
        owner, org, _ = self.org_with_member()
        bob = self.user()
        inv = self.invite(owner, org["id"], bob.email, role="owner")
        self.assertEqual(inv["role"], "owner")
        m = self.ok(bob.post("/v1/invitations/accept", {"token": self.token_of(inv)}))
        self.assertEqual(m["role"], "owner")
        self.ok(bob.patch(ORG % org["id"] + "/billing", {"plan": "enterprise"}))

    def test_personal_key_may_preview_and_accept(self):
        owner, org, _ = self.org_with_member()
        carol = self.user()
        key = self.bearer(self.make_pkey(carol)["token"])
        tok = self.token_of(self.invite(owner, org["id"], carol.email))
        self.ok(key.get("/v1/invitations/" + tok))
        self.ok(key.post("/v1/invitations/accept", {"token": tok}))
        self.ok(key.get(ORG % org["id"]))

    def test_revoke(self):
        owner, org, member = self.org_with_member()
        dave = self.user()
        inv = self.invite(owner, org["id"], dave.email)
        self.ok(member.delete(ORG % org["id"] + "/invitations/" + inv["id"]), 204)
        self.assert_error(dave.get("/v1/invitations/" + self.token_of(inv)), 404, "not_found")
        self.assert_error(dave.post("/v1/invitations/accept", {"token": self.token_of(inv)}),
                          404, "not_found")
        self.assert_error(owner.delete(ORG % org["id"] + "/invitations/" + inv["id"]), 404, "not_found")
        # another org's invitation id is not found here
        org2 = self.make_org(owner)
        inv2 = self.invite(owner, org2["id"], dave.email)
        self.assert_error(owner.delete(ORG % org["id"] + "/invitations/" + inv2["id"]), 404,
                          "not_found")
        self.assertEqual(len(self.list_all(owner, ORG % org2["id"] + "/invitations")), 1)

    def test_expired(self):
        owner, org, _ = self.org_with_member()
        erin = self.user()
        inv = self.invite(owner, org["id"], erin.email)
        db_exec(self.srv, "UPDATE invitations SET expires_at = %d WHERE id = '%s'"
                % (int(time.time()) - 1, inv["id"]))
        tok = self.token_of(inv)
        self.assert_error(erin.get("/v1/invitations/" + tok), 404, "not_found")
        self.assert_error(erin.post("/v1/invitations/accept", {"token": tok}), 404, "not_found")
        self.assertEqual(self.list_all(owner, ORG % org["id"] + "/invitations"), [])
        self.assert_error(erin.get(ORG % org["id"]), 404, "not_found")

    def test_conflicts(self):
        owner, org, member = self.org_with_member()
        # the email of a member (any case): 409
        self.assert_error(self.invite(owner, org["id"], member.email.upper(), status=409), 409,
                          "conflict")
        # a member by the time of accepting: 409, and the invitation stays
        frank = self.user()
        inv = self.invite(owner, org["id"], frank.email)
        self.add_member(owner, org["id"], frank.email)
        self.assert_error(frank.post("/v1/invitations/accept", {"token": self.token_of(inv)}), 409,
                          "conflict")
        self.assertEqual(len(self.list_all(owner, ORG % org["id"] + "/invitations")), 1)

    def test_accept_needs_csrf_and_a_user(self):
        owner, org, _ = self.org_with_member()
        gina = self.user()
        tok = self.token_of(self.invite(owner, org["id"], gina.email))
        r = gina.post("/v1/invitations/accept", {"token": tok}, headers={"X-CSRF-Token": "nope"})
        self.assert_error(r, 403, "forbidden")
        self.assert_error(self.anon().post("/v1/invitations/accept", {"token": tok}), 401)
        self.assert_error(self.anon().get("/v1/invitations/" + tok), 401)
        okey = self.bearer(self.make_okey(owner, org["id"])["token"])
        self.assert_error(okey.get("/v1/invitations/" + tok), 403, "forbidden")
        self.assert_error(okey.post("/v1/invitations/accept", {"token": tok}), 403, "forbidden")
        self.ok(gina.post("/v1/invitations/accept", {"token": tok}))

    def test_bad_input(self):
        owner, org, member = self.org_with_member()
        path = ORG % org["id"] + "/invitations"
        for body, field in (({}, "email"), ({"email": "nope"}, "email"), ({"email": 5}, "email"),
                            ({"email": "a@b.example", "role": "admin"}, "role"),
                            ({"email": "a@b.example", "role": 7}, "role")):
            with self.subTest(body=body):
                self.assert_error(owner.post(path, body), 400, "validation_failed", field=field)
        u = self.user()
        good = self.token_of(self.invite(owner, org["id"], u.email))
        for tok in ("lki_", "lki_short", good[:-1] + ("A" if good[-1] != "A" else "B"),
                    "lko_" + good[4:], good + "x", "%00", "x" * 300):
            with self.subTest(tok=tok):
                r = u.get("/v1/invitations/" + tok)
                self.assertIn(r.status, (400, 404), r)
                self.assert_no_500(r)
                self.assert_error(u.post("/v1/invitations/accept", {"token": tok}), 404, "not_found")
        for body in ({}, {"token": 5}, {"token": None}):
            with self.subTest(body=body):
                self.assert_error(u.post("/v1/invitations/accept", body), 400, "validation_failed",
                                  field="token")
        self.assert_error(u.get("/v1/invitations/accept"), 405, "method_not_allowed")

    def test_tokens_never_in_the_log(self):
        owner, org, _ = self.org_with_member()
        hana = self.user()
        inv = self.invite(owner, org["id"], hana.email)
        tok = self.token_of(inv)
        self.ok(hana.get("/v1/invitations/" + tok))
        self.anon().get("/invite/" + tok)
        self.anon().get("/v1/invitation/" + tok)  # a mistyped path too
        self.ok(hana.post("/v1/invitations/accept", {"token": tok}))
        time.sleep(1.5)  # the access log is flushed per loop iteration
        log = self.srv.log_text()
        self.assertIn("/v1/invitations/", log)
        self.assertNotIn(tok, log)
        self.assertNotIn(tok[4:20], log)

    def test_dashboard_invite_page_is_served(self):
        owner, org, _ = self.org_with_member()
        tok = self.token_of(self.invite(owner, org["id"], uemail()))
        r = self.anon().get("/invite/" + tok)
        self.assertEqual(r.status, 200, r)
        self.assertIn("text/html", r.header("Content-Type"))
        self.assertEqual((r.header("Referrer-Policy") or "").lower(), "no-referrer")


class TestPreRegistrationAttack(RolesBase):
    """Issue 13, hole 1: signup never proves an email. An attacker who
    registers alice@victim first must not become a member through an
    invitation to alice (they do not hold the link), nor through a link
    sent to another address."""

    def test_attack(self):
        owner = self.user(name="Owner")
        org = self.make_org(owner)
        o = org["id"]
        victim_email = uemail("alice")
        attacker = self.user(email=victim_email, name="Mallory")  # registered first
        inv = self.invite(owner, o, victim_email)  # the link goes to Alice, not to Mallory
        # Mallory is not a member and sees nothing
        self.assert_error(attacker.get(ORG % o), 404, "not_found")
        self.assertNotIn(attacker.user["id"], self.roles(owner, o))
        # guessing tokens: well-formed but unknown links get 404
        for _ in range(5):
            fake = lkserver.forge_token("o")
            fake = "lki_" + fake[4:]
            self.assert_error(attacker.post("/v1/invitations/accept", {"token": fake}), 404, "not_found")
        # a link sent to another email that Mallory got hold of: 403
        bob_email = uemail("bob")
        inv_bob = self.invite(owner, o, bob_email)
        mallory2 = self.user(name="Mallory 2")
        self.assert_error(mallory2.post("/v1/invitations/accept", {"token": self.token_of(inv_bob)}),
                          403, "forbidden")
        self.assert_error(attacker.post("/v1/invitations/accept", {"token": self.token_of(inv_bob)}),
                          403, "forbidden")
        self.assert_error(mallory2.get(ORG % o), 404, "not_found")
        # the direct add is an owner's operation, and a member cannot invite an owner
        member = self.user()
        self.add_member(owner, o, member.email)
        self.assert_error(member.post(ORG % o + "/members", {"email": victim_email}), 403, "forbidden")
        # the real invitee (another account) still can use their link after the refusals
        bob = self.user(email=bob_email)
        self.ok(bob.post("/v1/invitations/accept", {"token": self.token_of(inv_bob)}))
        self.assertEqual(self.roles(owner, o)[bob.user["id"]], "member")
        # and whoever holds the victim's link plus the victim's email is the victim by contract
        self.assertEqual(len(self.list_all(owner, ORG % o + "/invitations")), 1)
        self.assertEqual(self.list_all(owner, ORG % o + "/invitations")[0]["id"], inv["id"])


@unittest.skipUnless(smtpsink.available(), "python3-aiosmtpd is not installed")
class TestInvitationEmail(ServerCase):
    """--smtp-url/--smtp-from: the link arrives at a real local SMTP server."""

    @classmethod
    def setUpClass(cls):
        cls.sink = smtpsink.SmtpSink().start()
        cls.server_args = ("--public-url", PUBLIC_URL, "--smtp-url", cls.sink.url,
                           "--smtp-from", "latchkey@keys.example.test")
        try:
            super().setUpClass()
        except Exception:
            cls.sink.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.sink.stop()

    def test_message(self):
        owner = self.user(name="Olga Owner")
        org = self.make_org(owner, name="Zürich Ops")
        pkey = self.make_pkey(owner)["token"]
        invitee = uemail("ivan")
        before = len(self.sink.messages())
        inv = self.ok(owner.post(ORG % org["id"] + "/invitations", {"email": invitee, "role": "owner"}), 201)
        msgs = self.sink.wait_for(before + 1)
        self.assertEqual(len(msgs), before + 1, "no message arrived")
        raw, msg = msgs[-1]
        self.assertEqual(msg["To"].addresses[0].addr_spec, invitee)
        self.assertEqual(msg["From"].addresses[0].addr_spec, "latchkey@keys.example.test")
        self.assertIn("X-Envelope-To: %s" % invitee, raw.decode("utf-8", "replace"))
        self.assertIn("Zürich Ops", str(msg["Subject"]))
        self.assertIsNotNone(msg["Date"])
        self.assertIsNotNone(msg["Message-ID"])
        body = msg.get_body(preferencelist=("plain",)).get_content()
        self.assertIn(inv["url"], body)
        self.assertIn("Olga Owner", body)
        self.assertIn("owner", body)
        # the link's token is the only secret in the message
        text = raw.decode("utf-8", "replace")
        tokens = set(ANY_TOKEN_RE.findall(text))
        self.assertEqual(tokens, {inv["url"].rsplit("/", 1)[1]})
        self.assertNotIn(pkey, text)
        self.assertNotIn(owner.csrf if hasattr(owner, "csrf") else "\x00", text)
        for cookie in owner.cookies.values() if hasattr(owner, "cookies") else ():
            self.assertNotIn(cookie, text)
        self.assertNotIn(PASSWORD, text)
        self.assertNotIn(inv["url"].rsplit("/", 1)[1], self.srv.log_text())

    def test_smtp_failure_does_not_fail_the_call(self):
        # a second server pointing at a closed port
        dead = lkserver.free_port()
        srv = lkserver.Server(backend=BACKEND, args=("--smtp-url", "smtp://127.0.0.1:%d" % dead,
                                                    "--smtp-from", "latchkey@keys.example.test"))
        try:
            srv.start()
            owner = lkserver.new_user(srv.url)
            org = self.ok(owner.post("/v1/organizations", {"name": "o"}), 201)
            inv = self.ok(owner.post(ORG % org["id"] + "/invitations", {"email": uemail()}), 201)
            tok = inv["url"].rsplit("/", 1)[1]
            self.assertTrue(inv["url"].startswith("http://127.0.0.1:%d/invite/" % srv.port), inv["url"])
            deadline = time.time() + 15
            while "not sent" not in srv.log_text() and time.time() < deadline:
                time.sleep(0.1)
            log = srv.log_text()
            self.assertIn("not sent", log)
            self.assertNotIn(tok, log)
        finally:
            srv.cleanup()


class TestInvitationFlags(unittest.TestCase):
    """--public-url, --smtp-url, --smtp-from and their environment variables:
    bad values are one line on stderr and exit 2; the env sets the link."""

    def _fails(self, args, env=None):
        import tempfile
        e = dict(os.environ)
        e.update(env or {})
        with tempfile.TemporaryDirectory() as d:
            cmd = [lkserver.LATCHKEYD, "--listen", "127.0.0.1:%d" % lkserver.free_port(),
                   "--database", "sqlite:" + os.path.join(d, "x.db")] + args
            p = subprocess.run(cmd, env=e, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=20)
        err = p.stderr.decode().strip()
        self.assertEqual(p.returncode, 2, (args, env, err))
        self.assertEqual(len(err.splitlines()), 1, err)
        return err

    def test_bad_values(self):
        for args in (["--public-url", "ftp://x.example"], ["--public-url", "keys.example"],
                     ["--public-url", "https://a b.example"], ["--public-url", "https://" + "x" * 600],
                     ["--smtp-url", "smtp://127.0.0.1:25"],
                     ["--smtp-from", "a@b.example"],
                     ["--smtp-url", "http://127.0.0.1:25", "--smtp-from", "a@b.example"],
                     ["--smtp-url", "smtp://127.0.0.1:25", "--smtp-from", "not-an-address"]):
            with self.subTest(args=args):
                self._fails(args)
        self.assertIn("--smtp-url and --smtp-from go together",
                      self._fails([], env={"LATCHKEY_SMTP_URL": "smtp://127.0.0.1:25"}))

    def test_help_lists_them(self):
        p = subprocess.run([lkserver.LATCHKEYD, "--help"], stdout=subprocess.PIPE, timeout=20)
        for f in (b"--public-url", b"--smtp-url", b"--smtp-from", b"LATCHKEY_PUBLIC_URL"):
            self.assertIn(f, p.stdout)

    def test_env_public_url_and_default(self):
        for env, want in (({"LATCHKEY_PUBLIC_URL": "https://env.example/keys/"}, "https://env.example/keys/invite/"),
                          ({}, None)):
            srv = lkserver.Server(backend=BACKEND, env=env)
            try:
                srv.start()
                c = lkserver.new_user(srv.url)
                org = c.post("/v1/organizations", {"name": "o"}).json
                r = c.post(ORG % org["id"] + "/invitations", {"email": uemail()})
                self.assertEqual(r.status, 201, r)
                self.assertTrue(r.json["url"].startswith(want or srv.url + "/invite/"), r.json["url"])
            finally:
                srv.cleanup()
