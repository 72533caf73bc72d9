"""
test_audit_wired.py — the audit actions of the 1.1 features (issue 14)
over HTTP: invitations and roles (member.invited, member.joined,
member.role_changed, invitation.revoked), rotation and leaked-token reports
(access_key.rotated, access_key.revoked_leaked), account security
(user.password_changed, user.session_revoked) and device sign-in
(access_key.created in the approver's security log). Each event is checked
for its action, actor, target and details, and that it holds no secret.
"""
import json
import time

from support import PASSWORD, Client, ServerCase, uemail

ORG = "/v1/organizations/%s"
DEVICE_INTERVAL = 5


class Wired(ServerCase):
    def org_events(self, c, org, action):
        body = self.ok(c.get(ORG % org + "/audit-events?action=" + action))
        return body["data"]

    def my_events(self, c, action):
        return self.ok(c.get("/v1/me/audit-events?action=" + action))["data"]

    def one(self, evs, action, actor_type, target_type, target_id, secrets=()):
        self.assertEqual(len(evs), 1, evs)
        e = evs[0]
        self.assertEqual(e["action"], action)
        self.assertEqual(e["actor"]["type"], actor_type, e)
        self.assertEqual(e["target"]["type"], target_type, e)
        self.assertEqual(e["target"]["id"], target_id, e)
        text = json.dumps(e)
        for s in secrets:
            self.assertNotIn(s, text)
        return e

    def test_invite_join_role_change_revoke(self):
        owner = self.user(name="Ada")
        o = self.make_org(owner)["id"]
        bob_email = uemail()
        inv = self.ok(owner.post(ORG % o + "/invitations", {"email": bob_email, "role": "member"}), 201)
        token = inv["url"].rsplit("/", 1)[1]
        e = self.one(self.org_events(owner, o, "member.invited"), "member.invited", "user",
                     "invitation", inv["id"], secrets=(token,))
        self.assertEqual(e["actor"]["id"], owner.user["id"])
        self.assertEqual(e["details"], {"email": bob_email, "role": "member"})

        bob = self.user(email=bob_email, name="Bob")
        self.ok(bob.post("/v1/invitations/accept", {"token": token}))
        e = self.one(self.org_events(owner, o, "member.joined"), "member.joined", "user", "user",
                     bob.user["id"], secrets=(token,))
        self.assertEqual(e["actor"]["id"], bob.user["id"])
        self.assertEqual(e["details"]["role"], "member")

        self.ok(owner.patch(ORG % o + "/members/" + bob.user["id"], {"role": "owner"}))
        e = self.one(self.org_events(owner, o, "member.role_changed"), "member.role_changed",
                     "user", "user", bob.user["id"])
        self.assertEqual(e["details"], {"from": "member", "to": "owner"})

        inv2 = self.ok(owner.post(ORG % o + "/invitations", {"email": uemail()}), 201)
        self.ok(owner.delete(ORG % o + "/invitations/" + inv2["id"]), 204)
        self.one(self.org_events(owner, o, "invitation.revoked"), "invitation.revoked", "user",
                 "invitation", inv2["id"])

    def test_failed_changes_leave_no_event(self):
        owner = self.user()
        o = self.make_org(owner)["id"]
        # demoting the last owner is refused: no role change recorded
        r = owner.patch(ORG % o + "/members/" + owner.user["id"], {"role": "member"})
        self.assertEqual(r.status, 409, r)
        self.assertEqual(self.org_events(owner, o, "member.role_changed"), [])
        r = owner.delete(ORG % o + "/invitations/inv_" + "a" * 20)
        self.assertEqual(r.status, 404, r)
        self.assertEqual(self.org_events(owner, o, "invitation.revoked"), [])

    def test_rotate_org_and_personal(self):
        c = self.user()
        o = self.make_org(c)["id"]
        ok = self.make_okey(c, o)
        r = self.ok(c.post(ORG % o + "/access-keys/%s/rotate" % ok["id"], {"grace_period_seconds": 600}))
        e = self.one(self.org_events(c, o, "access_key.rotated"), "access_key.rotated", "user",
                     "access_key", ok["id"], secrets=(ok["token"], r["token"]))
        self.assertEqual(e["details"], {"grace_period_seconds": "600"})
        pk = self.make_pkey(c)
        r = self.ok(c.post("/v1/me/access-keys/%s/rotate" % pk["id"], {}))
        e = self.one(self.my_events(c, "access_key.rotated"), "access_key.rotated", "user",
                     "access_key", pk["id"], secrets=(pk["token"], r["token"]))
        self.assertEqual(e["details"], {"grace_period_seconds": "0"})

    def test_leaked_report_revokes_with_an_event(self):
        c = self.user()
        o = self.make_org(c)["id"]
        ok, pk = self.make_okey(c, o), self.make_pkey(c)
        reporter = Client(self.url, source_address=("127.0.4.9", 0))
        url = "https://example.com/" + "x" * 3000
        r = reporter.post("/v1/leaked-tokens", {"tokens": [ok["token"], pk["token"]],
                                                "source": "github", "url": url})
        self.assertIn(r.status, (200, 202, 204), r)
        secrets = (ok["token"], pk["token"])
        e = self.one(self.org_events(c, o, "access_key.revoked_leaked"), "access_key.revoked_leaked",
                     "anonymous", "access_key", ok["id"], secrets=secrets)
        self.assertEqual(e["details"]["source"], "github")
        self.assertEqual(e["details"]["token"], "current")
        self.assertTrue(url.startswith(e["details"]["url"]) and len(e["details"]["url"]) < len(url))
        self.assertEqual(e["ip"], "127.0.4.9")
        self.one(self.my_events(c, "access_key.revoked_leaked"), "access_key.revoked_leaked",
                 "anonymous", "access_key", pk["id"], secrets=secrets)

    def test_password_change_and_session_revoke(self):
        c = self.user()
        other = Client(self.url)
        r = other.post("/v1/auth/login", {"email": c.email, "password": PASSWORD})
        self.assertEqual(r.status, 200, r)
        sessions = self.ok(c.get("/v1/me/sessions"))["data"]
        theirs = [s for s in sessions if not s.get("current")][0]
        self.ok(c.delete("/v1/me/sessions/" + theirs["id"]), 204)
        self.one(self.my_events(c, "user.session_revoked"), "user.session_revoked", "user",
                 "session", theirs["id"])
        new = "a brand new passphrase 42"
        self.ok(c.patch("/v1/me/password", {"current_password": PASSWORD, "new_password": new}), 204)
        e = self.one(self.my_events(c, "user.password_changed"), "user.password_changed", "user",
                     "user", c.user["id"], secrets=(PASSWORD, new))
        self.assertEqual(e["details"], {})

    def test_device_sign_in_key_is_recorded(self):
        c = self.user()
        g = self.ok(self.anon().post("/v1/auth/device", {"client_name": "cli on box"}))
        self.ok(c.post("/v1/auth/device/approve", {"user_code": g["user_code"]}), 204)
        time.sleep(DEVICE_INTERVAL + 0.2)
        body = self.ok(self.anon().post("/v1/auth/device/token", {"device_code": g["device_code"]}))
        e = self.one(self.my_events(c, "access_key.created"), "access_key.created", "user",
                     "access_key", body["key"]["id"], secrets=(body["token"], g["device_code"]))
        self.assertEqual(e["actor"]["id"], c.user["id"])
        self.assertEqual(e["target"]["name"], "cli on box")
