"""`latchkey keys check`: offline, good / corrupted / truncated tokens,
argument and stdin, both output modes."""
import json
import socket
import unittest

from clitest import ALPHABET, CliTestCase, make_token


def flip(token, i):
    c = token[i]
    return token[:i] + (ALPHABET[(ALPHABET.index(c) + 1) % 62]) + token[i + 1:]


class KeysCheck(CliTestCase):
    def offline_env(self):
        # no server at this URL and a junk token around: check must not care
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        return self.env(LATCHKEY_URL="http://127.0.0.1:%d" % port, LATCHKEY_TOKEN="junk")

    def test_good_tokens_of_both_kinds(self):
        for prefix, kind in (("lko_", "organization"), ("lkp_", "personal")):
            tok = make_token(prefix)
            r = self.cli("keys", "check", tok, env=self.offline_env())
            self.assertRc(r, 0)
            self.assertIn(kind, r.out)
            self.assertIn("checksum holds", r.out)
            self.assertNoToken(r.out + r.err, tok)  # shows the redacted form only
            self.assertIn(tok[:8] + "\u2026" + tok[-4:], r.out)

    def test_token_from_the_server(self):
        c = self.new_user()
        tok = self.personal_token(c)
        r = self.cli("keys", "check", tok)
        self.assertRc(r, 0)
        self.assertIn("personal", r.out)
        org = self.new_org(c)
        r = self.cli("keys", "check", self.org_token(c, org["id"]))
        self.assertRc(r, 0)
        self.assertIn("organization", r.out)

    def test_corrupted_checksum(self):
        tok = make_token("lkp_")
        for i in (4, 20, 35, 36, 41):  # random part and checksum part
            bad = flip(tok, i)
            r = self.cli("keys", "check", bad, env=self.offline_env())
            self.assertRc(r, 1)
            self.assertIn("checksum", r.out)
            self.assertIn("personal", r.out)  # the kind is still recognised
            self.assertNotIn(bad, r.out + r.err)

    def test_truncated_and_overlong(self):
        tok = make_token("lko_")
        for bad in (tok[:-1], tok[:20], tok[:4], tok + "A"):
            r = self.cli("keys", "check", bad, env=self.offline_env())
            self.assertRc(r, 1)
            self.assertIn("length", r.out)

    def test_bad_prefix_and_alphabet(self):
        tok = make_token("lko_")
        r = self.cli("keys", "check", "ghp_" + tok[4:], env=self.offline_env())
        self.assertRc(r, 1)
        self.assertIn("prefix", r.out)
        r = self.cli("keys", "check", tok[:10] + "-" + tok[11:], env=self.offline_env())
        self.assertRc(r, 1)
        self.assertIn("character", r.out)

    def test_stdin(self):
        tok = make_token("lkp_")
        r = self.cli("keys", "check", "-", input=tok + "\n", env=self.offline_env())
        self.assertRc(r, 0)
        self.assertIn("personal", r.out)
        r = self.cli("keys", "check", "-", input=flip(tok, 10) + "\n", env=self.offline_env())
        self.assertRc(r, 1)
        r = self.cli("keys", "check", "-", input="", env=self.offline_env())
        self.assertRc(r, 1)

    def test_stdin_on_a_terminal_does_not_echo(self):
        tok = make_token("lko_")
        r = self.cli_pty("keys", "check", "-", script=[("Token:", tok)], env=self.offline_env())
        self.assertRc(r, 0)
        self.assertNotIn(tok, r.out)
        self.assertIn("organization", r.out)

    def test_json(self):
        tok = make_token("lko_")
        r = self.cli("--json", "keys", "check", tok, env=self.offline_env())
        self.assertRc(r, 0)
        j = json.loads(r.out)
        self.assertEqual(j["valid"], True)
        self.assertEqual(j["kind"], "organization")
        self.assertEqual(j["checksum_ok"], True)
        r = self.cli("keys", "check", flip(tok, 9), "--json", env=self.offline_env())
        self.assertRc(r, 1)
        j = json.loads(r.out)
        self.assertEqual(j["valid"], False)
        self.assertEqual(j["checksum_ok"], False)
        self.assertEqual(j["kind"], "organization")
        r = self.cli("keys", "check", "hello", "--json", env=self.offline_env())
        self.assertRc(r, 1)
        self.assertIsNone(json.loads(r.out)["kind"])

    def test_usage(self):
        r = self.cli("keys", "check")
        self.assertRc(r, 2)
        self.assertIn("usage: latchkey keys check", r.err)


if __name__ == "__main__":
    unittest.main()
