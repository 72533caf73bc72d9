"""Credentials: the three sources and their precedence, the credentials file
(place, mode, refusal), login/logout with and without a terminal, and the
exit codes 2, 3 and 4."""
import json
import os
import socket
import stat
import unittest


from clitest import PASSWORD, CliTestCase, lkserver, make_token


class Credentials(CliTestCase):
    def whoami_email(self, res):
        self.assertRc(res, 0)
        return json.loads(res.out)["user"]["email"]

    def test_precedence_flag_env_file(self):
        a, b, c = self.new_user("A"), self.new_user("B"), self.new_user("C")
        r = self.login_pty(a.email)
        self.assertRc(r, 0)
        tb, tc = self.personal_token(b), self.personal_token(c)
        # file only
        self.assertEqual(self.whoami_email(self.cli("whoami", "--json")), a.email)
        # env beats file
        self.assertEqual(self.whoami_email(self.cli("whoami", "--json", env=self.env(LATCHKEY_TOKEN=tb))),
                         b.email)
        # flag beats env and file
        self.assertEqual(self.whoami_email(self.cli("--token", tc, "whoami", "--json",
                                                    env=self.env(LATCHKEY_TOKEN=tb))), c.email)
        # flag after the command, --flag=value form
        self.assertEqual(self.whoami_email(self.cli("whoami", "--json", "--token=" + tc)), c.email)
        # an empty LATCHKEY_TOKEN does not count
        self.assertEqual(self.whoami_email(self.cli("whoami", "--json", env=self.env(LATCHKEY_TOKEN=""))),
                         a.email)

    def test_no_credential_exits_3_and_says_how(self):
        r = self.cli("keys", "list")
        self.assertRc(r, 3)
        self.assertIn("--token", r.err)
        self.assertIn("LATCHKEY_TOKEN", r.err)
        self.assertIn("latchkey login", r.err)
        self.assertEqual(r.out, "")

    def test_unknown_or_revoked_token_exits_3_without_printing_it(self):
        tok = make_token("lkp_")
        r = self.cli("whoami", env=self.env(LATCHKEY_TOKEN=tok))
        self.assertRc(r, 3)
        self.assertIn("unauthenticated", r.err)
        self.assertIn("LATCHKEY_TOKEN", r.err)
        self.assertNoToken(r.out + r.err, tok)
        # a real key, deleted
        c = self.new_user()
        r = c.post("/v1/me/access-keys", {"name": "gone"})
        tok, kid = r.json["token"], r.json["id"]
        self.assertEqual(c.delete("/v1/me/access-keys/" + kid).status, 204)
        r = self.cli("--token", tok, "keys", "list")
        self.assertRc(r, 3)
        self.assertNoToken(r.out + r.err, tok)

    def test_malformed_token_is_refused_offline(self):
        tok = make_token("lko_")
        bad = tok[:-1] + ("A" if tok[-1] != "A" else "B")
        r = self.cli("whoami", "--token", bad, env=self.env(LATCHKEY_URL="http://127.0.0.1:9"))
        self.assertRc(r, 3)  # not 4: it never tried the network
        self.assertIn("checksum", r.err)
        self.assertNoToken(r.err, bad)

    def test_login_writes_private_file_and_logout_revokes(self):
        u = self.new_user("Lou")
        r = self.login_pty(u.email)
        self.assertRc(r, 0)
        self.assertNotIn(PASSWORD, r.out)  # no echo
        path = self.cred_path()
        st = os.stat(path)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
        self.assertEqual(stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode), 0o700)
        with open(path) as f:
            token = [l.split("=", 1)[1].strip() for l in f if l.startswith("token=")][0]
        self.assertNotIn(token, r.out)  # login never shows the token
        # a personal key named after the host, made through the session
        who = json.loads(self.cli("whoami", "--json").out)
        self.assertEqual(who["principal"], "personal_key")
        self.assertIn(os.uname().nodename[:20], who["key"]["name"])
        keys = u.get("/v1/me/access-keys").json["data"]
        self.assertIn(who["key"]["id"], [k["id"] for k in keys])
        # the session used for it was ended: only the key remains
        r = self.cli("logout")
        self.assertRc(r, 0)
        self.assertFalse(os.path.exists(path))
        self.assertEqual(lkserver.Client(self.url, token=token).get("/v1/whoami").status, 401)
        keys = u.get("/v1/me/access-keys").json["data"]
        self.assertNotIn(who["key"]["id"], [k["id"] for k in keys])
        # now there is no credential
        self.assertRc(self.cli("whoami"), 3)
        self.assertRc(self.cli("logout"), 3)

    def test_logout_when_the_key_is_already_gone(self):
        u = self.new_user()
        self.assertRc(self.login_pty(u.email), 0)
        kid = json.loads(self.cli("whoami", "--json").out)["key"]["id"]
        self.assertEqual(u.delete("/v1/me/access-keys/" + kid).status, 204)
        r = self.cli("logout")
        self.assertRc(r, 0)
        self.assertIn("already", r.err)
        self.assertFalse(os.path.exists(self.cred_path()))

    def test_logout_unreachable_keeps_the_file(self):
        # a second real server that goes away after the login
        srv = lkserver.Server(backend=self.server.backend).start()
        self.addCleanup(srv.cleanup)
        u = lkserver.new_user(srv.url, password=PASSWORD)
        env = self.env(LATCHKEY_URL=srv.url)
        self.assertRc(self.login_pty(u.email, env=env), 0)
        srv.stop()
        r = self.cli("logout", env=env)
        self.assertRc(r, 4)
        self.assertIn(srv.url, r.err)
        self.assertTrue(os.path.exists(self.cred_path()))
        srv.start()
        self.assertRc(self.cli("whoami", env=env), 0)  # still logged in
        self.assertRc(self.cli("logout", env=env), 0)
        self.assertFalse(os.path.exists(self.cred_path()))

    def test_logout_never_sends_the_key_elsewhere(self):
        u = self.new_user()
        self.assertRc(self.login_pty(u.email), 0)
        r = self.cli("logout", "--url", "http://127.0.0.1:9")
        self.assertRc(r, 3)
        self.assertIn("stored credential is for", r.err)
        self.assertTrue(os.path.exists(self.cred_path()))

    def test_login_again_replaces_the_previous_key(self):
        u = self.new_user()
        self.assertRc(self.login_pty(u.email), 0)
        first = json.loads(self.cli("whoami", "--json").out)["key"]["id"]
        self.assertRc(self.login_pty(u.email), 0)
        second = json.loads(self.cli("whoami", "--json").out)["key"]["id"]
        self.assertNotEqual(first, second)
        ids = [k["id"] for k in u.get("/v1/me/access-keys").json["data"]]
        self.assertNotIn(first, ids)
        self.assertIn(second, ids)

    def test_login_respects_xdg_config_home(self):
        u = self.new_user()
        xdg = os.path.join(self.home, "xdg")
        env = self.env(XDG_CONFIG_HOME=xdg)
        self.assertRc(self.login_pty(u.email, env=env), 0)
        self.assertTrue(os.path.exists(self.cred_path(xdg)))
        self.assertFalse(os.path.exists(self.cred_path()))
        self.assertRc(self.cli("whoami", env=env), 0)
        self.assertRc(self.cli("whoami"), 3)

    def test_login_wrong_password_exits_3(self):
        u = self.new_user()
        r = self.login_pty(u.email, password="not the password")
        self.assertRc(r, 3)
        self.assertIn("unauthenticated", r.out)
        self.assertFalse(os.path.exists(self.cred_path()))

    def test_login_without_terminal_points_to_env(self):
        u = self.new_user()
        r = self.cli("login", input=u.email + "\n" + PASSWORD + "\n")
        self.assertNotEqual(r.rc, 0)
        self.assertIn("LATCHKEY_TOKEN", r.err)
        self.assertNotIn("Password", r.err)
        self.assertFalse(os.path.exists(self.cred_path()))

    def test_readable_file_is_refused_with_a_fix(self):
        u = self.new_user()
        self.assertRc(self.login_pty(u.email), 0)
        path = self.cred_path()
        for mode in (0o644, 0o640, 0o604):
            os.chmod(path, mode)
            r = self.cli("whoami")
            self.assertRc(r, 3)
            self.assertIn("chmod 600", r.err)
            self.assertIn(path, r.err)
            self.assertEqual(r.out, "")
        # but a token from the environment does not need the file
        tok = self.personal_token(u)
        self.assertRc(self.cli("whoami", env=self.env(LATCHKEY_TOKEN=tok)), 0)
        os.chmod(path, 0o600)
        self.assertRc(self.cli("whoami"), 0)

    def test_stored_credential_is_not_sent_elsewhere(self):
        u = self.new_user()
        self.assertRc(self.login_pty(u.email), 0)
        r = self.cli("whoami", env=self.env(LATCHKEY_URL="http://127.0.0.1:9"))
        self.assertRc(r, 3)
        self.assertIn("stored credential is for", r.err)
        # the URL stored by login is used when none is given
        r = self.cli("whoami", env=self.env(LATCHKEY_URL=None))
        self.assertRc(r, 0)


class ExitCodes(CliTestCase):
    def closed_port(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        return port

    def test_connection_refused_exits_4_naming_url(self):
        url = "http://127.0.0.1:%d" % self.closed_port()
        tok = make_token("lkp_")
        r = self.cli("--url", url, "whoami", env=self.env(LATCHKEY_TOKEN=tok))
        self.assertRc(r, 4)
        self.assertIn(url, r.err)
        self.assertNoToken(r.err, tok)
        self.assertEqual(len(r.err.strip().splitlines()), 1)

    def test_dns_failure_exits_4(self):
        r = self.cli("whoami", env=self.env(LATCHKEY_URL="http://no-such-host.invalid:8080",
                                            LATCHKEY_TOKEN=make_token("lkp_")))
        self.assertRc(r, 4)
        self.assertIn("no-such-host.invalid", r.err)

    def test_timeout_exits_4(self):
        # a socket that accepts connections (backlog) but never answers
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        self.addCleanup(s.close)
        url = "http://127.0.0.1:%d" % s.getsockname()[1]
        r = self.cli("whoami", env=self.env(LATCHKEY_URL=url, LATCHKEY_TIMEOUT="1",
                                            LATCHKEY_TOKEN=make_token("lkp_")))
        self.assertRc(r, 4)
        self.assertIn(url, r.err)

    def test_server_refusal_exits_1_with_message_and_code(self):
        c = self.new_user()
        tok = self.personal_token(c)
        r = self.cli("projects", "list", "--org", "org_doesnotexist0000000", "--token", tok)
        self.assertRc(r, 1)
        self.assertIn("not_found", r.err)
        self.assertEqual(len(r.err.strip().splitlines()), 1)
        self.assertEqual(r.out, "")
        r = self.cli("orgs", "create", " ", "--token", tok)
        self.assertRc(r, 1)
        self.assertIn("validation_failed", r.err)

    def test_usage_errors_exit_2_with_usage_line(self):
        cases = [
            (["frobnicate"], "usage: latchkey"),
            ([], "usage: latchkey"),
            (["keys"], "usage: latchkey keys list"),
            (["keys", "create"], "usage: latchkey keys create NAME"),
            (["keys", "create", "a", "b"], "usage: latchkey keys create NAME"),
            (["projects", "list"], "usage: latchkey projects list --org ORG"),
            (["envs", "list", "--org", "x"], "usage: latchkey envs list --org ORG --project PRJ"),
            (["keys", "list", "--bogus"], "usage: latchkey keys list"),
            (["keys", "list", "--yes"], "usage: latchkey keys list"),
            (["keys", "create", "x", "--expires", "next tuesday"], "usage: latchkey keys create"),
            (["orgs", "list", "--org"], "usage: latchkey orgs list"),
        ]
        for args, want in cases:
            r = self.cli(*args, env=self.env(LATCHKEY_TOKEN=make_token("lkp_")))
            self.assertRc(r, 2)
            self.assertIn(want, r.err, args)
            self.assertEqual(r.out, "")

    def test_help(self):
        r = self.cli("--help")
        self.assertRc(r, 0)
        for cmd in ("login", "logout", "whoami", "orgs create NAME", "members remove USER --org ORG",
                    "projects delete PRJ --org ORG", "envs create NAME --org ORG --project PRJ",
                    "keys rename KEY NEW_NAME", "keys delete KEY [--org ORG] [--yes]", "keys check"):
            self.assertIn(cmd, r.out)
        r = self.cli("keys", "create", "--help")
        self.assertRc(r, 0)
        self.assertIn("--expires DATE", r.out)
        r = self.cli("keys", "--help")
        self.assertRc(r, 0)
        self.assertIn("keys rename", r.out)
        self.assertNotIn("orgs create", r.out)
        r = self.cli("--version")
        self.assertRc(r, 0)
        self.assertTrue(r.out.startswith("latchkey "))


if __name__ == "__main__":
    unittest.main()
