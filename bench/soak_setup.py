#!/usr/bin/env python3
"""
soak_setup.py URL — bench/soak.sh's fixture: signs up a user on the running
latchkeyd at URL, creates an org with one project, a personal key and an
org key, and prints them as shell assignments (LK_ORG, LK_TOKEN, LK_ORGKEY).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "lib"))
import lkserver  # noqa: E402

url = sys.argv[1]
c = lkserver.new_user(url, email="soak@example.com")
org = c.post("/v1/organizations", {"name": "soak"}).json["id"]
assert c.post("/v1/organizations/%s/projects" % org, {"name": "soak project"}).status == 201
tok = c.post("/v1/me/access-keys", {"name": "soak personal"}).json["token"]
otok = c.post("/v1/organizations/%s/access-keys" % org, {"name": "soak org"}).json["token"]
print("LK_ORG=%s LK_TOKEN=%s LK_ORGKEY=%s" % (org, tok, otok))
