"""Every command in both output modes (table and --json), against the real
server; the checks compare what the CLI shows with what the API says."""
import json
import re
import time
import unittest

from clitest import TOKEN_RE, CliTestCase

DATE_RE = r"\d{4}-\d\d-\d\d \d\d:\d\d"


def table(out):
    """Split an aligned table into (header cells, rows of cells)."""
    lines = [l for l in out.splitlines() if l.strip()]
    split = [re.split(r"\s{2,}", l.strip()) for l in lines]
    return split[0], split[1:]


class Commands(CliTestCase):
    def setUp(self):
        super().setUp()
        self.user = self.new_user("Commander")
        self.token = self.personal_token(self.user, "cli tests")
        self.e = self.env(LATCHKEY_TOKEN=self.token)

    def run_ok(self, *args, **kw):
        r = self.cli(*args, env=kw.pop("env", self.e), **kw)
        self.assertRc(r, 0)
        return r

    def test_whoami(self):
        r = self.run_ok("whoami")
        self.assertIn("personal_key", r.out)
        self.assertIn(self.user.email, r.out)
        self.assertIn("\u2026", r.out)  # the redacted key
        self.assertNoToken(r.out, self.token)
        r = self.run_ok("whoami", "--json")
        self.assertEqual(json.loads(r.out), self.user.get("/v1/whoami", token=self.token).json)

    def test_orgs(self):
        r = self.run_ok("orgs", "create", "Acme Inc")
        org_id = r.out.strip()  # no terminal: the ID alone
        self.assertTrue(org_id.startswith("org_"), r)
        r = self.run_ok("--json", "orgs", "create", "Beta")
        beta = json.loads(r.out)
        self.assertEqual(beta["name"], "Beta")
        r = self.run_ok("orgs", "list")
        head, rows = table(r.out)
        self.assertEqual(head, ["ID", "NAME", "CREATED"])
        self.assertEqual(sorted(row[0] for row in rows), sorted([org_id, beta["id"]]))
        self.assertIn(["Acme Inc"], [[row[1]] for row in rows])
        for row in rows:
            self.assertRegex(row[2], DATE_RE)
        r = self.run_ok("orgs", "list", "--json")
        self.assertEqual(json.loads(r.out), self.user.get("/v1/organizations").json)

    def test_pages_are_followed_and_json_gives_one_page(self):
        names = ["page %d" % i for i in range(3)]
        for n in names:
            self.new_org(self.user, n)
        _, rows = table(self.run_ok("orgs", "list", "--limit", "1").out)
        self.assertEqual(sorted(r[1] for r in rows), names)  # every page, one org each
        r = self.run_ok("orgs", "list", "--limit", "1", "--json")
        first = json.loads(r.out)
        self.assertEqual(len(first["data"]), 1)
        self.assertTrue(first["next_cursor"])
        self.assertIn("--cursor", r.err)
        r = self.run_ok("orgs", "list", "--limit", "1", "--json", "--cursor", first["next_cursor"])
        second = json.loads(r.out)
        self.assertEqual(second, self.user.get("/v1/organizations?limit=1&cursor=" + first["next_cursor"]).json)
        self.assertNotEqual(second["data"][0]["id"], first["data"][0]["id"])
        r = self.cli("orgs", "list", "--limit", "0", env=self.e)
        self.assertRc(r, 2)

    def test_projects_and_envs(self):
        org = self.new_org(self.user, "Proj Org")
        oid = org["id"]
        pid = self.run_ok("projects", "create", "web", "--org", oid).out.strip()
        self.assertTrue(pid.startswith("prj_"))
        api = json.loads(self.run_ok("projects", "create", "api", "--org", oid, "--json").out)
        self.assertEqual(api["organization_id"], oid)
        head, rows = table(self.run_ok("projects", "list", "--org", oid).out)
        self.assertEqual(head, ["ID", "NAME", "CREATED"])
        self.assertEqual(sorted(r[1] for r in rows), ["api", "web"])
        r = self.run_ok("projects", "list", "--org", oid, "--json")
        self.assertEqual(json.loads(r.out), self.user.get("/v1/organizations/%s/projects" % oid).json)
        # --org by name, --project by name
        eid = self.run_ok("envs", "create", "staging", "--org", "Proj Org", "--project", "web").out.strip()
        self.assertTrue(eid.startswith("env_"))
        prod = json.loads(self.run_ok("envs", "create", "production", "--org", oid, "--project", pid,
                                      "--json").out)
        self.assertEqual(prod["project_id"], pid)
        head, rows = table(self.run_ok("envs", "list", "--org", oid, "--project", pid).out)
        self.assertEqual(sorted(r[1] for r in rows), ["production", "staging"])
        r = self.run_ok("envs", "list", "--org", oid, "--project", pid, "--json")
        self.assertEqual(json.loads(r.out),
                         self.user.get("/v1/organizations/%s/projects/%s/environments" % (oid, pid)).json)
        # delete
        r = self.run_ok("projects", "delete", api["id"], "--org", oid)
        self.assertEqual(r.out, "")
        ids = [p["id"] for p in self.user.get("/v1/organizations/%s/projects" % oid).json["data"]]
        self.assertEqual(ids, [pid])
        r = self.cli("projects", "delete", api["id"], "--org", oid, env=self.e)
        self.assertRc(r, 1)
        self.assertIn("not_found", r.err)

    def test_members(self):
        org = self.new_org(self.user)
        oid = org["id"]
        other = self.new_user("Other Person")
        r = self.run_ok("members", "add", other.email, "--org", oid)
        head, rows = table(self.run_ok("members", "list", "--org", oid).out)
        self.assertEqual(head, ["USER ID", "EMAIL", "NAME", "ROLE", "JOINED"])
        self.assertEqual(sorted(row[3] for row in rows), ["member", "owner"])
        emails = sorted(row[1] for row in rows)
        self.assertEqual(emails, sorted([self.user.email, other.email]))
        r = self.run_ok("members", "list", "--org", oid, "--json")
        self.assertEqual(json.loads(r.out), self.user.get("/v1/organizations/%s/members" % oid).json)
        r = self.cli("members", "add", other.email, "--org", oid, env=self.e)
        self.assertRc(r, 1)
        self.assertIn("conflict", r.err)
        r = self.cli("members", "add", "nobody@example.invalid", "--org", oid, env=self.e)
        self.assertRc(r, 1)
        self.assertIn("not_found", r.err)
        # remove by email, then re-add and remove by user ID
        self.run_ok("members", "remove", other.email, "--org", oid)
        self.assertEqual(len(self.user.get("/v1/organizations/%s/members" % oid).json["data"]), 1)
        r = self.run_ok("members", "add", other.email, "--org", oid, "--json")
        uid = json.loads(r.out).get("user_id") or [m["user_id"] for m in self.user.get(
            "/v1/organizations/%s/members" % oid).json["data"] if m["email"] == other.email][0]
        self.run_ok("members", "remove", uid, "--org", oid, "--json")
        self.assertEqual(len(self.user.get("/v1/organizations/%s/members" % oid).json["data"]), 1)

    def test_personal_keys_lifecycle(self):
        r = self.run_ok("keys", "create", "laptop")
        tok = r.out.strip()
        self.assertRegex(tok, "^" + TOKEN_RE.pattern + "$")  # the token alone
        self.assertTrue(tok.startswith("lkp_"))
        self.assertIn("not be shown again", r.err)
        self.assertNotIn(tok, r.err)
        # it works
        self.assertRc(self.cli("whoami", env=self.env(LATCHKEY_TOKEN=tok)), 0)
        # listed, redacted
        r = self.run_ok("keys", "list")
        head, rows = table(r.out)
        self.assertEqual(head[:4], ["ID", "NAME", "KEY", "CREATED"])
        self.assertNotIn("EXPIRES", head)
        self.assertNoToken(r.out, tok)
        mine = [row for row in rows if row[1] == "laptop"]
        self.assertEqual(len(mine), 1)
        self.assertEqual(mine[0][2], tok[:8] + "\u2026" + tok[-4:])
        self.assertRegex(mine[0][3], DATE_RE)
        kid = mine[0][0]
        r = self.run_ok("keys", "list", "--json")
        self.assertEqual(json.loads(r.out), self.user.get("/v1/me/access-keys").json)
        # rename (by ID, then by name), both output modes
        r = self.run_ok("keys", "rename", kid, "work laptop")
        self.assertEqual(r.out.strip(), kid)
        r = self.run_ok("keys", "rename", "work laptop", "old laptop", "--json")
        self.assertEqual(json.loads(r.out)["name"], "old laptop")
        # delete without a terminal needs --yes
        r = self.cli("keys", "delete", kid, env=self.e)
        self.assertRc(r, 2)
        self.assertIn("--yes", r.err)
        self.assertRc(self.cli("whoami", env=self.env(LATCHKEY_TOKEN=tok)), 0)
        r = self.run_ok("keys", "delete", "old laptop", "--yes")
        self.assertEqual(r.out, "")
        r = self.cli("whoami", env=self.env(LATCHKEY_TOKEN=tok))
        self.assertRc(r, 3)
        r = self.cli("keys", "delete", kid, "--yes", env=self.e)
        self.assertRc(r, 1)
        self.assertIn("not_found", r.err)

    def test_keys_create_json_and_expiry(self):
        r = self.run_ok("--json", "keys", "create", "dated", "--expires", "2099-01-02")
        j = json.loads(r.out)
        self.assertTrue(j["token"].startswith("lkp_"))
        self.assertEqual(j["expires_at"], "2099-01-02T00:00:00Z")
        r = self.run_ok("keys", "create", "rfc", "--expires", "2098-03-04T05:06:07+01:00")
        keys = {k["name"]: k for k in self.user.get("/v1/me/access-keys").json["data"]}
        self.assertEqual(keys["rfc"]["expires_at"], "2098-03-04T04:06:07Z")
        head, rows = table(self.run_ok("keys", "list").out)
        self.assertIn("EXPIRES", head)
        i = head.index("EXPIRES")
        row = [x for x in rows if x[1] == "dated"][0]
        self.assertTrue(row[i].startswith("2099-01-02"), row)
        # a date in the past is the server's to refuse
        r = self.cli("keys", "create", "old", "--expires", "2001-01-01", env=self.e)
        self.assertRc(r, 1)
        self.assertIn("validation_failed", r.err)

    def test_org_keys(self):
        org = self.new_org(self.user, "Keyed Org")
        oid = org["id"]
        tok = self.run_ok("keys", "create", "deploy", "--org", oid).out.strip()
        self.assertTrue(tok.startswith("lko_"))
        head, rows = table(self.run_ok("keys", "list", "--org", "Keyed Org").out)
        self.assertEqual([r[1] for r in rows], ["deploy"])
        r = self.run_ok("keys", "list", "--org", oid, "--json")
        self.assertEqual(json.loads(r.out), self.user.get("/v1/organizations/%s/access-keys" % oid).json)
        # the org key reaches its org's projects and environments ...
        ok = self.env(LATCHKEY_TOKEN=tok)
        pid = self.run_ok("projects", "create", "svc", "--org", oid, env=ok).out.strip()
        self.run_ok("envs", "create", "dev", "--org", oid, "--project", pid, env=ok)
        _, rows = table(self.run_ok("envs", "list", "--org", oid, "--project", "svc", env=ok).out)
        self.assertEqual([r[1] for r in rows], ["dev"])
        who = json.loads(self.run_ok("whoami", "--json", env=ok).out)
        self.assertEqual(who["principal"], "organization_key")
        # ... but may not manage members or keys: 403 -> exit 1
        other = self.new_user()
        r = self.cli("members", "add", other.email, "--org", oid, env=ok)
        self.assertRc(r, 1)
        self.assertIn("forbidden", r.err)
        r = self.cli("keys", "create", "more", "--org", oid, env=ok)
        self.assertRc(r, 1)
        self.assertNoToken(r.err, tok)
        # rename and delete an org key
        kid = rows and self.user.get("/v1/organizations/%s/access-keys" % oid).json["data"][0]["id"]
        self.run_ok("keys", "rename", kid, "deploy-2", "--org", oid)
        self.run_ok("keys", "delete", "deploy-2", "--org", oid, "--yes")
        self.assertRc(self.cli("whoami", env=ok), 3)


class Terminal(CliTestCase):
    """Prompts, colours and the token display on a real pseudo-terminal."""

    def setUp(self):
        super().setUp()
        self.user = self.new_user("Tty User")
        self.token = self.personal_token(self.user, "tty tests")
        self.e = self.env(LATCHKEY_TOKEN=self.token)

    def make_key(self, name):
        r = self.user.post("/v1/me/access-keys", {"name": name})
        self.assertEqual(r.status, 201)
        return r.json

    def key_ids(self):
        return [k["id"] for k in self.user.get("/v1/me/access-keys").json["data"]]

    def test_delete_prompt_no(self):
        k = self.make_key("keep me")
        r = self.cli_pty("keys", "delete", k["id"], env=self.e, script=[("[y/N]", "n")])
        self.assertIn("Delete key keep me (%s)? This revokes it immediately and cannot be undone. [y/N]"
                      % k["redacted"], r.out)
        self.assertNotEqual(r.rc, 0)
        self.assertIn(k["id"], self.key_ids())
        # just Enter is "no" too
        r = self.cli_pty("keys", "delete", k["id"], env=self.e, script=[("[y/N]", "")])
        self.assertNotEqual(r.rc, 0)
        self.assertIn(k["id"], self.key_ids())

    def test_delete_prompt_yes(self):
        k = self.make_key("remove me")
        r = self.cli_pty("keys", "delete", "remove me", env=self.e, script=[("[y/N]", "y")])
        self.assertRc(r, 0)
        self.assertNotIn(k["id"], self.key_ids())
        self.assertEqual(self.user.get("/v1/whoami", token=k["token"]).status, 401)

    def test_delete_yes_skips_prompt_on_terminal(self):
        k = self.make_key("quick")
        r = self.cli_pty("keys", "delete", k["id"], "--yes", env=self.e)
        self.assertRc(r, 0)
        self.assertNotIn("[y/N]", r.out)
        self.assertNotIn(k["id"], self.key_ids())

    def test_create_on_terminal(self):
        r = self.cli_pty("keys", "create", "shown once", env=self.e)
        self.assertRc(r, 0)
        toks = TOKEN_RE.findall(r.out)
        self.assertEqual(len(toks), 1, r)
        self.assertIn("not be shown again", r.out)
        # stdout redirected, stderr on the terminal: stdout is the token alone
        r = self.cli_pty("keys", "create", "piped", env=self.e, stdout_pipe=True)
        self.assertRc(r, 0)
        self.assertRegex(r.out, "^" + TOKEN_RE.pattern + "\n$")
        self.assertIn("not be shown again", r.err)
        self.assertNotIn(r.out.strip(), r.err)

    def test_colours_only_on_terminal_and_not_with_no_color(self):
        r = self.cli_pty("keys", "list", env=self.e)
        self.assertRc(r, 0)
        self.assertIn("\033[", r.out)
        r = self.cli_pty("keys", "list", env=self.env(LATCHKEY_TOKEN=self.token, NO_COLOR="1"))
        self.assertRc(r, 0)
        self.assertNotIn("\033[", r.out)
        self.assertIn("NAME", r.out)
        r = self.cli("keys", "list", env=self.e)
        self.assertNotIn("\033[", r.out + r.err)
        r = self.cli_pty("keys", "list", "--org", "org_nope00000000000000000", env=self.e)
        self.assertRc(r, 1)
        self.assertIn("\033[", r.out)  # the error: red on a terminal
        r = self.cli("keys", "list", "--org", "org_nope00000000000000000", env=self.e)
        self.assertNotIn("\033[", r.err)

    def test_created_object_on_terminal_is_a_table(self):
        r = self.cli_pty("orgs", "create", "Tty Org", env=self.e)
        self.assertRc(r, 0)
        self.assertIn("CREATED", r.out)
        self.assertIn("Tty Org", r.out)

    def test_hostile_names_cannot_reach_the_terminal_raw(self):
        # validation forbids control characters, so try what is allowed and odd
        name = "\u00e9t\u00e9 \u2603 key"
        self.make_key(name)
        r = self.cli("keys", "list", env=self.e)
        self.assertIn(name, r.out)


class CreatedDates(CliTestCase):
    def test_created_is_local_time(self):
        u = self.new_user()
        tok = self.personal_token(u, "tz")
        created = u.get("/v1/me/access-keys").json["data"][0]["created_at"]
        t = time.strptime(created, "%Y-%m-%dT%H:%M:%SZ")
        utc = time.strftime("%Y-%m-%d %H:%M", t)
        r = self.cli("keys", "list", env=self.env(LATCHKEY_TOKEN=tok, TZ="UTC"))
        self.assertIn(utc, r.out)
        # 5 hours and 30 minutes ahead
        shifted = time.strftime("%Y-%m-%d %H:%M", time.gmtime(
            __import__("calendar").timegm(t) + 5 * 3600 + 1800))
        r = self.cli("keys", "list", env=self.env(LATCHKEY_TOKEN=tok, TZ="Asia/Kolkata"))
        self.assertIn(shifted, r.out)


if __name__ == "__main__":
    unittest.main()
