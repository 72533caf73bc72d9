"""
Brute force and enumeration.

- Failed Bearer attempts are throttled per client address: past the limit
  (LATCHKEY_BEARER_FAIL_LIMIT=10 here) that address gets 429 with
  Retry-After, while valid keys — from another address (127.0.0.2, the
  client socket bound to it) and from the throttled one — keep working,
  and another address's bad attempts still get a plain 401.
- Unknown, deleted, expired-looking and malformed tokens get byte-identical
  answers (status, body, WWW-Authenticate); so do another user's key IDs
  and IDs that never existed (404), and another user's org and a
  nonexistent org.
"""
import lkserver
from hostile import ServerCase

LIMIT = 10


def answer(r):
    """What a caller can compare: status, body, the headers that vary by
    outcome (Date and the like excluded)."""
    keep = ("content-type", "www-authenticate", "retry-after", "content-length", "cache-control")
    return (r.status, r.body, tuple(sorted((k.lower(), v) for k, v in r.headers if k.lower() in keep)))


class Bruteforce(ServerCase):
    ENV = {"LATCHKEY_BEARER_FAIL_LIMIT": str(LIMIT)}

    def test_throttle_per_address(self):
        owner = lkserver.new_user(self.url)
        r = owner.post("/v1/me/access-keys", {"name": "valid"})
        self.assertEqual(r.status, 201, r)
        good = r.json["token"]
        # a source address no other test uses, so the count starts at zero
        attacker = lkserver.Client(self.url, source_address=("127.0.0.3", 0))
        other = lkserver.Client(self.url, source_address=("127.0.0.2", 0))
        statuses = []
        for i in range(LIMIT + 5):
            statuses.append(attacker.get("/v1/whoami", token=lkserver.forge_token("o")).status)
        self.assertEqual(statuses[:LIMIT], [401] * LIMIT, statuses)
        self.assertIn(429, statuses[LIMIT:], statuses)
        r = attacker.get("/v1/whoami", token=lkserver.forge_token("p"))
        self.assertEqual(r.status, 429, r)
        self.assertEqual(r.code, "rate_limited")
        ra = r.header("Retry-After")
        self.assertIsNotNone(ra)
        self.assertTrue(ra.isdigit() and 1 <= int(ra) <= 3600, ra)
        # malformed tokens count too (they are failures like any other)
        self.assertEqual(attacker.get("/v1/whoami", token="not-a-token").status, 429)
        # another address: valid key fine, bad key a plain 401 (not 429)
        self.assertEqual(other.get("/v1/whoami", token=good).status, 200)
        r = other.get("/v1/whoami", token=lkserver.forge_token("o"))
        self.assertEqual(r.status, 401, r)
        for _ in range(20):
            self.assertEqual(other.get("/v1/whoami", token=good).status, 200)
        # the throttled address itself: a valid key is never refused
        self.assertEqual(attacker.get("/v1/whoami", token=good).status, 200)
        # and a throttled address's session (no bearer) is unaffected
        self.assertEqual(owner.get("/v1/me").status, 200)

    def test_unknown_deleted_malformed_identical(self):
        c = lkserver.new_user(self.url)
        r = c.post("/v1/me/access-keys", {"name": "to delete"})
        self.assertEqual(r.status, 201, r)
        deleted, kid = r.json["token"], r.json["id"]
        self.assertEqual(c.delete("/v1/me/access-keys/" + kid).status, 204)
        r = c.post("/v1/organizations", {"name": "o"})
        org = r.json["id"]
        r = c.post("/v1/organizations/%s/access-keys" % org, {"name": "org key"})
        org_deleted = r.json["token"]
        self.assertEqual(c.delete("/v1/organizations/%s" % org).status, 204)  # revokes its keys
        probe = lkserver.Client(self.url, source_address=("127.0.0.4", 0))
        cases = {
            "deleted personal": deleted,
            "unknown personal": lkserver.forge_token("p"),
            "key of a deleted org": org_deleted,
            "unknown org": lkserver.forge_token("o"),
            "bad checksum": lkserver.forge_token("o", checksum=False),
            "malformed": "lko_short",
            "garbage": "x" * 42,
        }
        answers = {name: answer(probe.get("/v1/whoami", token=tok)) for name, tok in cases.items()}
        first = answers["deleted personal"]
        self.assertEqual(first[0], 401)
        for name, a in answers.items():
            self.assertEqual(a, first, "%s answers differently from a deleted key" % name)
        # on another endpoint too
        a1 = answer(probe.get("/v1/organizations", token=deleted))
        a2 = answer(probe.get("/v1/organizations", token=lkserver.forge_token("p")))
        self.assertEqual(a1, a2)

    def test_foreign_ids_look_nonexistent(self):
        alice = lkserver.new_user(self.url)
        bob = lkserver.new_user(self.url)
        r = alice.post("/v1/me/access-keys", {"name": "alice key"})
        akey = r.json["id"]
        r = alice.post("/v1/organizations", {"name": "alice org"})
        aorg = r.json["id"]
        r = alice.post("/v1/organizations/%s/access-keys" % aorg, {"name": "alice org key"})
        aokey = r.json["id"]
        r = bob.post("/v1/organizations", {"name": "bob org"})
        borg = r.json["id"]
        r = bob.post("/v1/me/access-keys", {"name": "bob key"})
        bob_token = r.json["token"]
        bob_bearer = lkserver.Client(self.url, token=bob_token)
        nokey = "key_" + "A" * 20
        noorg = "org_" + "A" * 20
        for who, cl in (("bob session", bob), ("bob bearer", bob_bearer)):
            # alice's personal key through bob's /v1/me
            for method, body in (("PATCH", {"name": "x"}), ("DELETE", None)):
                a = answer(cl.request(method, "/v1/me/access-keys/" + akey, json=body))
                b = answer(cl.request(method, "/v1/me/access-keys/" + nokey, json=body))
                self.assertEqual(a[0], 404, (who, method, a))
                self.assertEqual(a, b, "%s %s: alice's key vs none" % (who, method))
            # alice's org key through bob's own org
            a = answer(cl.request("PATCH", "/v1/organizations/%s/access-keys/%s" % (borg, aokey),
                                  json={"name": "x"}))
            b = answer(cl.request("PATCH", "/v1/organizations/%s/access-keys/%s" % (borg, nokey),
                                  json={"name": "x"}))
            self.assertEqual(a[0], 404, (who, a))
            self.assertEqual(a, b, who)
            # alice's org vs a nonexistent one, on every kind of request
            for path in ("", "/access-keys", "/members", "/projects", "/billing"):
                a = answer(cl.get("/v1/organizations/%s%s" % (aorg, path)))
                b = answer(cl.get("/v1/organizations/%s%s" % (noorg, path)))
                self.assertEqual(a[0], 404, (who, path, a))
                self.assertEqual(a, b, "%s GET org%s" % (who, path))
            a = answer(cl.request("DELETE", "/v1/organizations/%s/access-keys/%s" % (aorg, aokey)))
            b = answer(cl.request("DELETE", "/v1/organizations/%s/access-keys/%s" % (noorg, nokey)))
            self.assertEqual(a, b, who)
        # alice's things are untouched
        self.assertEqual(alice.get("/v1/organizations/%s" % aorg).status, 200)
        names = [k["name"] for k in alice.get("/v1/me/access-keys").json["data"]]
        self.assertEqual(names, ["alice key"])
