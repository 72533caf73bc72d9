"""`latchkey keys rotate KEY [--org ORG] [--grace DURATION]` against the real
server: the new token alone on stdout without a terminal (like `keys
create`), the remarks on stderr, --json the API's answer, --grace parsed
(0, 90s, 30m, 1h, 7d; bad ones are usage errors, exit 2, before any request),
KEY by ID or exact name, 404s exit 1, and `keys list` staying consistent
with what the API (and so the dashboard) shows."""
import json
import re

from clitest import TOKEN_RE, CliTestCase


class Rotate(CliTestCase):
    def setUp(self):
        super().setUp()
        self.user = self.new_user("Rotator")
        self.token = self.personal_token(self.user, "cli")
        self.e = self.env(LATCHKEY_TOKEN=self.token)
        self.org = self.new_org(self.user)["id"]

    def whoami(self, token):
        return self.user.get("/v1/whoami", token=token).status

    def make_org_key(self, name):
        r = self.user.post("/v1/organizations/%s/access-keys" % self.org, {"name": name})
        self.assertEqual(r.status, 201, r)
        return r.json

    def test_rotate_prints_the_bare_token(self):
        k = self.make_org_key("deploy")
        r = self.cli("keys", "rotate", k["id"], "--org", self.org, "--grace", "1h", env=self.e)
        self.assertRc(r, 0)
        new = r.out.strip()
        self.assertRegex(new, TOKEN_RE)
        self.assertEqual(r.out, new + "\n", "stdout holds only the token")
        self.assertTrue(new.startswith("lko_"))
        self.assertIn("will not be shown again", r.err)
        self.assertIn("previous token keeps working until", r.err)
        self.assertNoToken(r.err, new)
        self.assertEqual(self.whoami(new), 200)
        self.assertEqual(self.whoami(k["token"]), 200)

    def test_rotate_by_name_personal_default_grace_ends_the_old_token(self):
        r = self.user.post("/v1/me/access-keys", {"name": "laptop"})
        old = r.json["token"]
        r = self.cli("keys", "rotate", "laptop", env=self.e)
        self.assertRc(r, 0)
        new = r.out.strip()
        self.assertTrue(new.startswith("lkp_"), r)
        self.assertIn("no longer works", r.err)
        self.assertEqual(self.whoami(old), 401)
        self.assertEqual(self.whoami(new), 200)

    def test_json(self):
        k = self.make_org_key("ci")
        r = self.cli("--json", "keys", "rotate", k["id"], "--org", self.org, "--grace", "30m",
                     env=self.e)
        self.assertRc(r, 0)
        body = json.loads(r.out)
        self.assertEqual(body["id"], k["id"])
        self.assertRegex(body["token"], TOKEN_RE)
        self.assertIsNotNone(body["previous_token_expires_at"])

    def test_grace_values(self):
        k = self.make_org_key("grace")
        for g in ("0", "90s", "30m", "1h", "24h", "7d", "604800"):
            with self.subTest(grace=g):
                r = self.cli("keys", "rotate", k["id"], "--org", self.org, "--grace", g,
                             env=self.e)
                self.assertRc(r, 0)
        for g in ("-1", "8d", "604801", "1.5h", "1hour", "h", "", "1h30m", "99999999999"):
            with self.subTest(grace=g):
                r = self.cli("keys", "rotate", k["id"], "--org", self.org, "--grace", g,
                             env=self.e)
                self.assertRc(r, 2)
                self.assertIn("--grace", r.err)
                self.assertEqual(r.out, "")

    def test_not_found(self):
        other = self.new_user("Other")
        their = self.personal_token(other, "theirs")
        their_id = other.get("/v1/whoami", token=their).json["key"]["id"]
        for args in (("keys", "rotate", their_id),
                     ("keys", "rotate", "no such key", "--org", self.org),
                     ("keys", "rotate", "key_" + "a" * 20, "--org", self.org)):
            with self.subTest(args=args):
                r = self.cli(*args, env=self.e)
                self.assertRc(r, 1)
                self.assertEqual(r.out, "")
        self.assertEqual(self.whoami(their), 200)

    def test_needs_a_credential(self):
        r = self.cli("keys", "rotate", "x", env=self.env(LATCHKEY_TOKEN=None))
        self.assertRc(r, 3)

    def test_list_consistent_after_rotation(self):
        k = self.make_org_key("listed")
        r = self.cli("keys", "rotate", k["id"], "--org", self.org, "--grace", "1h", env=self.e)
        self.assertRc(r, 0)
        api = self.user.get("/v1/organizations/%s/access-keys" % self.org).json
        r = self.cli("--json", "keys", "list", "--org", self.org, env=self.e)
        self.assertRc(r, 0)
        self.assertEqual(json.loads(r.out), api)
        row = [x for x in api["data"] if x["id"] == k["id"]][0]
        r = self.cli("keys", "list", "--org", self.org, env=self.e)
        self.assertRc(r, 0)
        self.assertIn(row["redacted"], r.out)
        self.assertNotIn(k["redacted"], r.out)
        self.assertIsNone(re.search(r"lk[op]_[0-9A-Za-z]{38}", r.out))
        # the previous token's end, as the dashboard shows it
        head = r.out.splitlines()[0]
        self.assertIn("PREVIOUS TOKEN UNTIL", head)
        line = [l for l in r.out.splitlines() if l.startswith(k["id"])][0]
        until = row["previous_token_expires_at"]  # 2026-11-30T13:05:00Z
        self.assertIn(until[:10] + " " + until[11:16], line)
        # no live previous token anywhere: no such column
        r = self.cli("keys", "rotate", k["id"], "--org", self.org, env=self.e)
        self.assertRc(r, 0)
        r = self.cli("keys", "list", "--org", self.org, env=self.e)
        self.assertNotIn("PREVIOUS", r.out)
