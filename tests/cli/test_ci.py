"""A CI-style shell script: no terminal anywhere, the token from the
environment; list -> create -> use -> delete."""
import os
import subprocess
import unittest

from clitest import LATCHKEY, CliTestCase

SCRIPT = r"""
set -euo pipefail
latchkey() { "$LATCHKEY_BIN" "$@"; }

latchkey keys list >/dev/null
ORG=$(latchkey orgs create "ci org")
case "$ORG" in org_*) ;; *) echo "bad org id: $ORG" >&2; exit 10 ;; esac

DEPLOY=$(latchkey keys create deploy --org "$ORG" --expires 2099-12-31)
case "$DEPLOY" in lko_*) ;; *) echo "bad token" >&2; exit 11 ;; esac
latchkey keys check - <<<"$DEPLOY" >/dev/null

# use it: the org key creates a project and an environment
PRJ=$(LATCHKEY_TOKEN=$DEPLOY latchkey projects create api --org "$ORG")
LATCHKEY_TOKEN=$DEPLOY latchkey envs create prod --org "$ORG" --project "$PRJ" >/dev/null
LATCHKEY_TOKEN=$DEPLOY latchkey envs list --org "$ORG" --project "$PRJ" --json | grep -q '"prod"'
LATCHKEY_TOKEN=$DEPLOY latchkey whoami | grep -q organization_key

# without a terminal, delete refuses unless --yes
if latchkey keys delete deploy --org "$ORG" </dev/null 2>/dev/null; then exit 12; fi
latchkey keys delete deploy --org "$ORG" --yes
set +e
LATCHKEY_TOKEN=$DEPLOY latchkey projects list --org "$ORG" >/dev/null 2>&1
rc=$?
set -e
[ "$rc" = 3 ] || { echo "revoked key: exit $rc" >&2; exit 13; }
echo CI-OK
"""


class CiScript(CliTestCase):
    def test_ci_script(self):
        u = self.new_user("CI")
        tok = self.personal_token(u, "ci bootstrap")
        env = self.env(LATCHKEY_TOKEN=tok, LATCHKEY_BIN=LATCHKEY)
        p = subprocess.run(["bash", "-c", SCRIPT], env=env, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120,
                           start_new_session=True)  # no controlling terminal
        out, err = p.stdout.decode(), p.stderr.decode()
        self.assertEqual(p.returncode, 0, (out, err))
        self.assertIn("CI-OK", out)
        self.assertNotIn(tok, out + err)
        # the deploy key is gone on the server
        orgs = u.get("/v1/organizations").json["data"]
        org = [o for o in orgs if o["name"] == "ci org"][0]
        self.assertEqual(u.get("/v1/organizations/%s/access-keys" % org["id"]).json["data"], [])


if __name__ == "__main__":
    unittest.main()
