"""
The person's own account from the CLI (api.md "CLI additions"):
`latchkey sessions list`, `sessions revoke ID`, `password`.

- sessions list: a table (ID, THIS, ADDRESS, DEVICE, CREATED, LAST SEEN)
  with every browser session of the account; --json is the API's page;
  with a personal key no row is marked as this one.
- sessions revoke ID: that session is refused at once; an ID that is not
  a session ID is a usage error (2); an unknown one 1 with the server's
  message.
- password: on a terminal, asks for the current password and the new one
  twice without echo; a mismatch changes nothing; a wrong current password
  is refused (1); success ends every browser session and keeps the key;
  without a terminal it refuses (2) and reads nothing.
"""
import json
import unittest

import lkserver
from clitest import PASSWORD, CliTestCase

NEW = "a different passphrase"


class Account(CliTestCase):
    def setUp(self):
        super().setUp()
        self.u = self.new_user()
        self.token = self.personal_token(self.u)
        self.envk = self.env(LATCHKEY_TOKEN=self.token)

    def browser(self, ua="Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"):
        c = lkserver.Client(self.url)
        r = c.post("/v1/auth/login", {"email": self.u.email, "password": PASSWORD}, headers={"User-Agent": ua})
        self.assertEqual(r.status, 200, r)
        c.csrf = r.json["csrf_token"]
        return c

    def test_sessions_list_and_revoke(self):
        b = self.browser()
        r = self.cli("sessions", "list", env=self.envk)
        self.assertRc(r, 0)
        head = r.out.splitlines()[0].split()
        self.assertEqual(head[:3], ["ID", "THIS", "ADDRESS"], r.out)
        self.assertIn("Firefox/120.0", r.out)
        self.assertIn("127.0.0.1", r.out)
        self.assertNotIn(" * ", r.out, "a key is no session, yet a row is marked")
        j = self.cli("sessions", "list", "--json", env=self.envk)
        self.assertRc(j, 0)
        page = json.loads(j.out)
        self.assertEqual(len(page["data"]), 2, page)
        bid = [s for s in page["data"] if (s["user_agent"] or "").startswith("Mozilla")][0]["id"]
        self.assertIn(bid, r.out)
        rv = self.cli("sessions", "revoke", bid, env=self.envk)
        self.assertRc(rv, 0)
        self.assertIn(bid, rv.err)
        self.assertEqual(b.get("/v1/me").status, 401, "the revoked session still works")
        again = self.cli("sessions", "revoke", bid, env=self.envk)
        self.assertRc(again, 1)
        self.assertIn("not found", again.err)
        self.assertRc(self.cli("sessions", "revoke", "key_AAAAAAAAAAAAAAAAAAAA", env=self.envk), 2)
        self.assertRc(self.cli("sessions", "revoke", env=self.envk), 2)

    def test_password_on_a_terminal(self):
        b = self.browser()
        # the new passwords differ: nothing changes
        r = self.cli_pty("password", env=self.envk, script=[("Current password:", PASSWORD),
                                                              ("New password:", NEW),
                                                              ("Repeat the new password:", NEW + "x")])
        self.assertRc(r, 1)
        self.assertIn("do not match", r.out)
        self.assertEqual(b.get("/v1/me").status, 200)
        # wrong current password
        r = self.cli_pty("password", env=self.envk, script=[("Current password:", "not my password"),
                                                              ("New password:", NEW),
                                                              ("Repeat the new password:", NEW)])
        self.assertRc(r, 1)
        self.assertIn("current password", r.out.lower())
        self.assertEqual(b.get("/v1/me").status, 200)
        # the right one
        r = self.cli_pty("password", env=self.envk, script=[("Current password:", PASSWORD),
                                                              ("New password:", NEW),
                                                              ("Repeat the new password:", NEW)])
        self.assertRc(r, 0)
        for secret in (PASSWORD, NEW):
            self.assertNotIn(secret, r.out, "a password was echoed")
        self.assertEqual(b.get("/v1/me").status, 401, "a browser session survived the change")
        self.assertRc(self.cli("whoami", env=self.envk), 0)  # the key keeps working
        lkserver.Client(self.url).login(self.u.email, NEW)

    def test_password_without_a_terminal(self):
        r = self.cli("password", env=self.envk, input=PASSWORD + "\n" + NEW + "\n" + NEW + "\n")
        self.assertRc(r, 2)
        self.assertIn("terminal", r.err)
        lkserver.Client(self.url).login(self.u.email, PASSWORD)  # unchanged


if __name__ == "__main__":
    unittest.main()
