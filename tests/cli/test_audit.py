"""`latchkey audit [--org ORG] [--action A] [--limit N]` (spec: "CLI
additions"): the org's log or the caller's own security log as a table
(TIME, ACTION, ACTOR, TARGET, IP), newest first, one page with a hint for
the next; --json is the API's page unchanged; bad usage exits 2; a
credential the API refuses exits as it always does."""
import json
import re

from clitest import CliTestCase, PASSWORD
import lkserver


def table(out):
    lines = [l for l in out.splitlines() if l.strip()]
    split = [re.split(r"\s{2,}", l.strip()) for l in lines]
    return split[0], split[1:]


class Audit(CliTestCase):
    def setUp(self):
        super().setUp()
        self.user = self.new_user("Ada")
        self.token = self.personal_token(self.user, "cli")
        self.e = self.env(LATCHKEY_TOKEN=self.token)
        self.org = self.new_org(self.user, "Acme")
        o = "/v1/organizations/%s" % self.org["id"]
        k = self.user.post(o + "/access-keys", {"name": "ci"}).json
        self.user.patch(o + "/access-keys/" + k["id"], {"name": "ci-prod"})
        self.key = k

    def run_ok(self, *args):
        r = self.cli(*args, env=self.e)
        self.assertRc(r, 0)
        return r

    def test_org_table_newest_first(self):
        r = self.run_ok("audit", "--org", "Acme")
        head, rows = table(r.out)
        self.assertEqual(head, ["TIME", "ACTION", "ACTOR", "TARGET", "IP"])
        self.assertEqual([row[1] for row in rows],
                         ["access_key.renamed", "access_key.created", "organization.created"])
        self.assertEqual(rows[0][2], "Ada")
        self.assertEqual(rows[0][3], "access_key ci-prod")
        self.assertEqual(rows[0][4], "127.0.0.1")
        self.assertRegex(rows[0][0], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertNoToken(r.out + r.err, self.token)

    def test_action_filter_limit_and_next_page(self):
        r = self.run_ok("audit", "--org", self.org["id"], "--action", "access_key.created")
        self.assertEqual([row[1] for row in table(r.out)[1]], ["access_key.created"])
        r = self.run_ok("audit", "--org", self.org["id"], "--limit", "1")
        self.assertEqual(len(table(r.out)[1]), 1)
        m = re.search(r"--cursor (\S+)", r.err)
        self.assertIsNotNone(m, r)
        r2 = self.run_ok("audit", "--org", self.org["id"], "--limit", "1", "--cursor", m.group(1))
        self.assertEqual([row[1] for row in table(r2.out)[1]], ["access_key.created"])

    def test_json_is_the_api_page(self):
        r = self.run_ok("--json", "audit", "--org", self.org["id"], "--limit", "2")
        api = self.user.get("/v1/organizations/%s/audit-events?limit=2" % self.org["id"]).json
        self.assertEqual(json.loads(r.out), api)

    def test_own_security_log_without_org(self):
        bad = lkserver.Client(self.url).post("/v1/auth/login",
                                             {"email": self.user.email, "password": "wrong password"})
        self.assertEqual(bad.status, 401)
        r = self.run_ok("audit")
        rows = table(r.out)[1]
        actions = [row[1] for row in rows]
        self.assertEqual(actions[:2], ["user.login_failed", "access_key.created"])
        self.assertEqual(rows[0][2], "anonymous")
        self.assertIn("user.signed_up", actions)
        self.assertNotIn("organization.created", actions)

    def test_usage_and_refusals(self):
        r = self.cli("audit", "--limit", "0", env=self.e)
        self.assertRc(r, 2)
        r = self.cli("audit", "extra", env=self.e)
        self.assertRc(r, 2)
        r = self.cli("audit", "--org", self.org["id"], "--action", "Not An Action", env=self.e)
        self.assertRc(r, 1)
        self.assertIn("action", r.err)
        r = self.cli("audit", "--org", "nope", env=self.e)
        self.assertRc(r, 1)
        r = self.cli("audit", env=self.env())  # no credential at all
        self.assertRc(r, 3)
        r = self.cli("audit", "--help", env=self.e)
        self.assertRc(r, 0)
        self.assertIn("--action", r.out)
