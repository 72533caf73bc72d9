"""Roles and invitations from the CLI (api.md 1.1, "CLI additions"):
`members invite` prints the link once, `members role`, `invitations
list|revoke|accept`, against the real server; checks compare with the API."""
import json
import re

from clitest import CliTestCase
from test_commands import table

LINK_RE = re.compile(r"^http://127\.0\.0\.1:\d+/invite/(lki_[0-9A-Za-z]{38})$")


class Invitations(CliTestCase):
    def setUp(self):
        super().setUp()
        self.owner = self.new_user("Owner")
        self.e = self.env(LATCHKEY_TOKEN=self.personal_token(self.owner, "cli"))
        self.org = self.new_org(self.owner)["id"]

    def run_ok(self, *args, **kw):
        r = self.cli(*args, env=kw.pop("env", self.e), **kw)
        self.assertRc(r, 0)
        return r

    def invite(self, email, *extra):
        r = self.run_ok("members", "invite", email, "--org", self.org, *extra)
        lines = r.out.splitlines()
        self.assertEqual(len(lines), 1, r)  # only the link on stdout
        m = LINK_RE.match(lines[0])
        self.assertIsNotNone(m, r)
        self.assertIn("will not be shown again", r.err)
        return lines[0], m.group(1)

    def test_invite_list_accept(self):
        guest = self.new_user("Guest")
        link, tok = self.invite(guest.email)
        head, rows = table(self.run_ok("invitations", "list", "--org", self.org).out)
        self.assertEqual(head, ["ID", "EMAIL", "ROLE", "INVITED BY", "EXPIRES"])
        self.assertEqual([(r[1], r[2]) for r in rows], [(guest.email, "member")])
        listed = self.run_ok("invitations", "list", "--org", self.org, "--json")
        self.assertNotIn(tok, listed.out)
        self.assertEqual(json.loads(listed.out),
                         self.owner.get("/v1/organizations/%s/invitations" % self.org).json)
        ge = self.env(LATCHKEY_TOKEN=self.personal_token(guest, "guest cli"))
        r = self.run_ok("invitations", "accept", link, env=ge)
        self.assertIn("as member", r.err)
        self.assertEqual(r.out.strip(), self.org)  # the org ID, for scripts
        self.assertNotIn(tok, r.out + r.err)
        head, rows = table(self.run_ok("members", "list", "--org", self.org).out)
        self.assertEqual(head, ["USER ID", "EMAIL", "NAME", "ROLE", "JOINED"])
        self.assertIn((guest.email, "member"), [(r[1], r[3]) for r in rows])
        # used once
        r = self.cli("invitations", "accept", tok, env=ge)
        self.assertRc(r, 1)
        self.assertIn("not_found", r.err)

    def test_invite_as_owner_json_and_role_change(self):
        guest = self.new_user("Guest")
        r = self.run_ok("members", "invite", guest.email.upper(), "--org", self.org, "--role", "owner",
                        "--json")
        inv = json.loads(r.out)
        self.assertEqual(inv["role"], "owner")
        tok = inv["url"].rsplit("/", 1)[1]
        ge = self.env(LATCHKEY_TOKEN=self.personal_token(guest, "g"))
        r = self.run_ok("invitations", "accept", tok, "--json", env=ge)
        self.assertEqual(json.loads(r.out)["role"], "owner")
        # members role by email and by ID, table and --json
        r = self.run_ok("members", "role", guest.email, "member", "--org", self.org, "--json")
        self.assertEqual(json.loads(r.out)["role"], "member")
        r = self.run_ok("members", "role", guest.user["id"], "owner", "--org", self.org)
        roles = {m["user_id"]: m["role"] for m in
                 self.owner.get("/v1/organizations/%s/members" % self.org).json["data"]}
        self.assertEqual(roles[guest.user["id"]], "owner")
        r = self.cli("members", "role", guest.email, "admin", "--org", self.org, env=self.e)
        self.assertRc(r, 2)
        self.assertIn("owner or member", r.err)

    def test_member_cannot_do_owner_things(self):
        member = self.new_user("Member")
        self.assertEqual(self.owner.post("/v1/organizations/%s/members" % self.org,
                                         {"email": member.email}).status, 201)
        me = self.env(LATCHKEY_TOKEN=self.personal_token(member, "m"))
        for args in (("members", "invite", "x@example.com", "--org", self.org, "--role", "owner"),
                     ("members", "role", self.owner.email, "member", "--org", self.org),
                     ("members", "remove", self.owner.email, "--org", self.org),
                     ("members", "add", "x@example.com", "--org", self.org)):
            with self.subTest(args=args):
                r = self.cli(*args, env=me)
                self.assertRc(r, 1)
                self.assertIn("forbidden", r.err)
        # but may invite a member
        r = self.cli("members", "invite", "y@example.com", "--org", self.org, env=me)
        self.assertRc(r, 0)

    def test_revoke_and_last_owner(self):
        _, tok = self.invite("someone@example.com")
        r = self.run_ok("invitations", "revoke", "someone@example.com", "--org", self.org)
        self.assertEqual(self.owner.get("/v1/organizations/%s/invitations" % self.org).json["data"], [])
        _, tok2 = self.invite("other@example.com")
        inv_id = self.owner.get("/v1/organizations/%s/invitations" % self.org).json["data"][0]["id"]
        self.run_ok("invitations", "revoke", inv_id, "--org", self.org)
        r = self.cli("members", "role", self.owner.email, "member", "--org", self.org, env=self.e)
        self.assertRc(r, 1)
        self.assertIn("conflict", r.err)

    def test_accept_bad_input_is_usage(self):
        for bad in ("nonsense", "https://x.example/invite/lki_short", "lko_" + "A" * 38, ""):
            with self.subTest(bad=bad):
                r = self.cli("invitations", "accept", bad, env=self.e)
                self.assertRc(r, 2)
        r = self.cli("invitations", "accept", env=self.e)
        self.assertRc(r, 2)
        # well-formed but unknown: the server says 404
        r = self.cli("invitations", "accept", "lki_" + "A" * 38, env=self.e)
        self.assertRc(r, 1)
        self.assertIn("not_found", r.err)

    def test_help_lists_the_commands(self):
        r = self.cli("--help")
        for usage in ("members invite EMAIL --org ORG [--role owner]", "members role USER ROLE --org ORG",
                      "invitations list --org ORG", "invitations revoke INV --org ORG",
                      "invitations accept URL_OR_TOKEN"):
            self.assertIn(usage, r.out)
