"""keys create --scope / --read-only / --allow-cidr, the SCOPES and LAST IP
columns of keys list, and the stderr warning when the key in use expires
within 7 days (docs/cli.md "Limiting a key"), against the real server."""
import json
import re
import time

from clitest import CliTestCase

READ_ONLY_PERSONAL = ["audit:read", "billing:read", "keys:read", "members:read", "projects:read",
                      "user:read"]


def table(out):
    lines = [l for l in out.splitlines() if l.strip()]
    split = [re.split(r"\s{2,}", l.strip()) for l in lines]
    return split[0], split[1:]


def rfc3339(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


class KeyScopes(CliTestCase):
    def setUp(self):
        super().setUp()
        self.user = self.new_user("Scoper")
        self.token = self.personal_token(self.user, "cli scopes")
        self.e = self.env(LATCHKEY_TOKEN=self.token)

    def create(self, *args):
        r = self.cli("--json", "keys", "create", *args, env=self.e)
        self.assertRc(r, 0)
        return json.loads(r.out), r

    def test_scope_flags_repeat_and_commas(self):
        k, _ = self.create("a", "--scope", "projects:read", "--scope", "billing:read,keys:write")
        self.assertEqual(k["scopes"], ["billing:read", "keys:write", "projects:read"])
        k, _ = self.create("star", "--scope", "*")
        self.assertEqual(k["scopes"], ["*"])
        k, _ = self.create("plain")
        self.assertEqual(k["scopes"], ["*"])

    def test_read_only(self):
        k, _ = self.create("ro", "--read-only")
        self.assertEqual(k["scopes"], READ_ONLY_PERSONAL)
        org = self.new_org(self.user)["id"]
        k, _ = self.create("org-ro", "--org", org, "--read-only")
        self.assertEqual(k["scopes"], [s for s in READ_ONLY_PERSONAL if not s.startswith("user:")])

    def test_usage_errors_before_sending(self):
        for args, words in ((["--scope", "projects:admin"], "unknown scope"),
                            (["--scope", "projects:read,"], "empty"),
                            (["--read-only", "--scope", "keys:read"], "--read-only"),
                            (["--allow-cidr", "300.1.1.1/8"], "--allow-cidr"),
                            (["--allow-cidr", "10.0.0.0/33"], "--allow-cidr"),
                            (["--allow-cidr", "::1/129"], "--allow-cidr"),
                            (["--allow-cidr", "junk"], "--allow-cidr")):
            r = self.cli("keys", "create", "bad", *args, env=self.e)
            self.assertRc(r, 2)
            self.assertIn(words, r.err)
        names = [k["name"] for k in self.user.get("/v1/me/access-keys").json["data"]]
        self.assertNotIn("bad", names)
        r = self.cli("keys", "list", "--scope", "keys:read", env=self.e)
        self.assertRc(r, 2)

    def test_server_refusals_exit_1(self):
        r = self.cli("keys", "create", "dup", "--scope", "keys:read,keys:read", env=self.e)
        self.assertRc(r, 1)
        self.assertIn("validation_failed", r.err)
        org = self.new_org(self.user)["id"]
        r = self.cli("keys", "create", "u", "--org", org, "--scope", "user:read", env=self.e)
        self.assertRc(r, 1)
        self.assertIn("validation_failed", r.err)

    def test_allow_cidr_and_host_bits_note(self):
        k, r = self.create("net", "--allow-cidr", "10.1.2.3/8", "--allow-cidr", "2001:db8::/32,127.0.0.1")
        self.assertEqual(k["allowed_cidrs"], ["10.0.0.0/8", "2001:db8::/32", "127.0.0.1/32"])
        self.assertIn("10.0.0.0/8", r.err)
        self.assertIn("host bits", r.err)
        # the key works from 127.0.0.1 only
        self.assertRc(self.cli("whoami", env=self.env(LATCHKEY_TOKEN=k["token"])), 0)
        k2, _ = self.create("elsewhere", "--allow-cidr", "203.0.113.0/24")
        r = self.cli("whoami", env=self.env(LATCHKEY_TOKEN=k2["token"]))
        self.assertRc(r, 1)
        self.assertIn("forbidden", r.err)

    def test_list_columns(self):
        self.create("ro", "--read-only")
        self.create("two", "--scope", "projects:write,keys:read")
        r = self.cli("keys", "list", env=self.e)
        self.assertRc(r, 0)
        head, rows = table(r.out)
        self.assertIn("SCOPES", head)
        i = head.index("SCOPES")
        by = {row[1]: row for row in rows}
        self.assertEqual(by["two"][i], "keys:read,projects:write")
        self.assertEqual(by["cli scopes"][i], "*")
        self.assertTrue(by["ro"][i].startswith("audit:read,billing:read"), by["ro"])

    def test_expiry_warning(self):
        soon = self.user.post("/v1/me/access-keys", {"name": "soon", "expires_at": rfc3339(time.time() + 3 * 86400 + 600)})
        self.assertEqual(soon.status, 201, soon)
        r = self.cli("whoami", env=self.env(LATCHKEY_TOKEN=soon.json["token"]))
        self.assertRc(r, 0)
        self.assertIn("warning", r.err)
        self.assertIn("expires in 3 days", r.err)
        self.assertEqual(r.err.count("warning"), 1)
        # once per run, even across pages
        r = self.cli("keys", "list", "--limit", "1", env=self.env(LATCHKEY_TOKEN=soon.json["token"]))
        self.assertRc(r, 0)
        self.assertEqual(r.err.count("warning"), 1, r.err)
        later = self.user.post("/v1/me/access-keys", {"name": "later", "expires_at": rfc3339(time.time() + 30 * 86400)})
        r = self.cli("whoami", env=self.env(LATCHKEY_TOKEN=later.json["token"]))
        self.assertRc(r, 0)
        self.assertNotIn("warning", r.err)
        r = self.cli("whoami", env=self.e)
        self.assertNotIn("warning", r.err)
        # --json output is unchanged by the warning (it is on stderr only)
        r = self.cli("--json", "whoami", env=self.env(LATCHKEY_TOKEN=soon.json["token"]))
        self.assertRc(r, 0)
        json.loads(r.out)
        self.assertIn("warning", r.err)
