"""
test_audit.py — the audit log (api.md, 1.1 "Audit log") over HTTP: every
action that exists today leaves one event with its actor, target, client
address, User-Agent and details; the two lists with limit/cursor/action/
actor; who may read them; failed sign-ins in the owner's security log; the
deleted-org rule; no call edits or deletes an event; nothing secret in an
event; --audit-retention-days purging old events; its flag validation.
"""
import sqlite3
import subprocess
import time

from support import ServerCase, BACKEND, PASSWORD, uemail
import lkserver

UA = "audit-test/1.0 (+https://example.com)"


def events(case, c, path, **q):
    qs = "&".join("%s=%s" % kv for kv in sorted(q.items()))
    body = case.ok(c.get(path + ("?" + qs if qs else "")))
    case.assert_list_shape(body)
    for e in body["data"]:
        case.assert_event_shape(e)
    return body


class AuditShape(ServerCase):
    def assert_event_shape(self, e):
        self.assertEqual(set(e), {"id", "action", "actor", "target", "organization_id", "ip",
                                  "user_agent", "created_at", "details"}, e)
        self.assertRegex(e["id"], r"^evt_[0-9A-Za-z]{20}$")
        self.assertIn(e["actor"]["type"], ("user", "personal_key", "organization_key", "anonymous"))
        self.assertLessEqual({"type", "id", "name"}, set(e["actor"]))
        self.assertEqual(set(e["target"]), {"type", "id", "name"})
        self.assertIsInstance(e["details"], dict)
        self.assert_time(e["created_at"])


class OrgEvents(AuditShape):
    def org_log(self, c, org, **q):
        return events(self, c, "/v1/organizations/%s/audit-events" % org, **q)

    def test_every_action_with_actor_target_origin_details(self):
        c = self.user(name="Ada")
        h = {"User-Agent": UA}
        org = self.ok(c.post("/v1/organizations", {"name": "Acme"}, headers=h), 201)
        o = org["id"]
        bob = self.user(name="Bob")
        base = "/v1/organizations/" + o
        steps = [
            ("organization.created", "organization", o, "Acme", {}),
        ]
        self.ok(c.patch(base, {"name": "Acme 2"}, headers=h))
        steps.append(("organization.renamed", "organization", o, "Acme 2", {"from": "Acme", "to": "Acme 2"}))
        self.ok(c.post(base + "/members", {"email": bob.email}, headers=h), 201)
        steps.append(("member.added", "user", bob.user["id"], "Bob", {}))
        p = self.ok(c.post(base + "/projects", {"name": "web"}, headers=h), 201)
        steps.append(("project.created", "project", p["id"], "web", {}))
        self.ok(c.patch(base + "/projects/" + p["id"], {"name": "site"}, headers=h))
        steps.append(("project.renamed", "project", p["id"], "site", {"from": "web", "to": "site"}))
        ep = base + "/projects/%s/environments" % p["id"]
        e = self.ok(c.post(ep, {"name": "prod"}, headers=h), 201)
        steps.append(("environment.created", "environment", e["id"], "prod", {"project_id": p["id"]}))
        self.ok(c.patch(ep + "/" + e["id"], {"name": "live"}, headers=h))
        steps.append(("environment.renamed", "environment", e["id"], "live", {"from": "prod", "to": "live"}))
        self.ok(c.delete(ep + "/" + e["id"], headers=h), 204)
        steps.append(("environment.deleted", "environment", e["id"], "live", {}))
        self.ok(c.delete(base + "/projects/" + p["id"], headers=h), 204)
        steps.append(("project.deleted", "project", p["id"], "site", {}))
        self.ok(c.patch(base + "/billing", {"plan": "pro"}, headers=h))
        steps.append(("billing.updated", "billing", o, "pro", None))
        k = self.ok(c.post(base + "/access-keys", {"name": "ci"}, headers=h), 201)
        steps.append(("access_key.created", "access_key", k["id"], "ci", {}))
        self.ok(c.patch(base + "/access-keys/" + k["id"], {"name": "ci-prod"}, headers=h))
        steps.append(("access_key.renamed", "access_key", k["id"], "ci-prod", {"from": "ci", "to": "ci-prod"}))
        self.ok(c.delete(base + "/access-keys/" + k["id"], headers=h), 204)
        steps.append(("access_key.deleted", "access_key", k["id"], "ci-prod", {}))
        self.ok(c.delete(base + "/members/" + bob.user["id"], headers=h), 204)
        steps.append(("member.removed", "user", bob.user["id"], "Bob", {}))

        got = self.list_all(c, base + "/audit-events", limit=3)
        self.assertEqual([g["action"] for g in got], [s[0] for s in reversed(steps)])
        for g, (action, ttype, tid, tname, details) in zip(got, reversed(steps)):
            self.assert_event_shape(g)
            self.assertEqual(g["actor"], {"type": "user", "id": c.user["id"], "name": "Ada",
                                          "user_id": c.user["id"]}, g)
            self.assertEqual(g["target"], {"type": ttype, "id": tid, "name": tname}, g)
            self.assertEqual(g["organization_id"], o)
            self.assertEqual(g["ip"], "127.0.0.1")
            self.assertEqual(g["user_agent"], UA)
            if details is not None:
                self.assertEqual(g["details"], details, action)
        billing = got[[s[0] for s in reversed(steps)].index("billing.updated")]
        self.assertEqual(billing["details"]["plan_from"], "free")
        self.assertEqual(billing["details"]["plan_to"], "pro")
        self.assertEqual(len({g["id"] for g in got}), len(got))

    def test_key_actors_and_filters(self):
        c = self.user(name="Ada")
        o = self.make_org(c)["id"]
        okey = self.make_okey(c, o, name="deploy")
        pkey = self.make_pkey(c, name="laptop")
        ob, pb = self.bearer(okey["token"]), self.bearer(pkey["token"])
        self.ok(ob.post("/v1/organizations/%s/projects" % o, {"name": "by-org-key"}), 201)
        self.ok(pb.post("/v1/organizations/%s/projects" % o, {"name": "by-personal-key"}), 201)
        log = self.org_log(c, o)["data"]
        self.assertEqual(log[0]["actor"], {"type": "personal_key", "id": pkey["id"], "name": "laptop",
                                           "user_id": c.user["id"]})
        self.assertEqual(log[1]["actor"], {"type": "organization_key", "id": okey["id"], "name": "deploy",
                                           "user_id": None})
        # filters
        only = self.org_log(c, o, action="project.created")["data"]
        self.assertEqual([e["target"]["name"] for e in only], ["by-personal-key", "by-org-key"])
        self.assertEqual([e["target"]["name"] for e in self.org_log(c, o, actor=okey["id"])["data"]],
                         ["by-org-key"])
        mine = self.org_log(c, o, actor=c.user["id"])["data"]
        self.assertEqual([e["action"] for e in mine],
                         ["project.created", "access_key.created", "organization.created"])
        self.assertEqual(self.org_log(c, o, action="member.invited")["data"], [])
        for bad in ("Nope", "a%20b", "x" * 60, ""):
            self.assert_error(c.get("/v1/organizations/%s/audit-events?action=%s" % (o, bad)), 400,
                              "validation_failed", field="action")
        for bad in ("usr_short", "org_" + "a" * 20, ""):
            self.assert_error(c.get("/v1/organizations/%s/audit-events?actor=%s" % (o, bad)), 400,
                              "validation_failed", field="actor")
        self.assert_error(c.get("/v1/organizations/%s/audit-events?limit=0" % o), 400,
                          "validation_failed", field="limit")

    def test_who_may_read(self):
        c = self.user()
        o = self.make_org(c)["id"]
        path = "/v1/organizations/%s/audit-events" % o
        other = self.user()
        self.assert_error(other.get(path), 404, "not_found")
        self.assert_error(self.anon().get(path), 401, "unauthenticated")
        self.ok(self.bearer(self.make_okey(c, o)["token"]).get(path))
        other_org = self.make_org(other)["id"]
        self.assert_error(self.bearer(self.make_okey(other, other_org)["token"]).get(path), 404)
        member = self.user()
        self.add_member(c, o, member.email)
        self.ok(member.get(path))

    def test_no_call_edits_or_deletes_an_event(self):
        c = self.user()
        o = self.make_org(c)["id"]
        path = "/v1/organizations/%s/audit-events" % o
        for m in ("POST", "PATCH", "DELETE", "PUT"):
            r = c.request(m, path, json={})
            self.assertEqual(r.status, 405, r)
        e = self.org_log(c, o)["data"][0]
        self.assertEqual(c.delete(path + "/" + e["id"]).status, 404)
        self.assertEqual(self.org_log(c, o)["data"][0], e)

    def test_user_agent_capped_and_cleaned_client_address(self):
        c = self.user()
        c2 = lkserver.Client(self.url, source_address=("127.0.0.2", 0))
        c2.cookies, c2.csrf = c.cookies, c.csrf
        o = self.ok(c2.post("/v1/organizations", {"name": "ua"}, headers={"User-Agent": ("é" + "x" * 600).encode()}), 201)["id"]
        e = self.org_log(c, o)["data"][0]
        self.assertEqual(e["ip"], "127.0.0.2")
        self.assertLessEqual(len(e["user_agent"].encode()), 255)
        self.assertTrue(e["user_agent"].startswith("éxxx"))
        # h2o answers 400 to other control bytes in a header; a tab gets through
        raw = ("POST /v1/organizations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               "Cookie: latchkey_session=%s\r\nX-CSRF-Token: %s\r\nUser-Agent: a\tb\tc\r\n"
               "Content-Length: 14\r\nConnection: close\r\n\r\n{\"name\":\"raw\"}"
               % (c.cookies["latchkey_session"], c.csrf))
        r = lkserver.raw_http(self.url, raw.encode("latin-1"))
        self.assertEqual(r.status, 201, r)
        o2 = r.json["id"]
        self.assertEqual(self.org_log(c, o2)["data"][0]["user_agent"], "abc")


class SecurityLog(AuditShape):
    def my_log(self, c, **q):
        return events(self, c, "/v1/me/audit-events", **q)["data"]

    def test_sign_ins_failed_sign_ins_and_personal_keys(self):
        email = uemail()
        c = self.user(email=email, name="Ada")
        bad = self.anon().post("/v1/auth/login", {"email": email.upper(), "password": "wrong password"})
        self.assert_error(bad, 401, "unauthenticated")
        self.assert_error(self.anon().post("/v1/auth/login", {"email": uemail(), "password": "x" * 10}), 401)
        k = self.make_pkey(c, name="laptop")
        self.ok(c.patch("/v1/me", {"name": "Ada L."}))
        log = self.my_log(c)
        self.assertEqual([e["action"] for e in log],
                         ["user.renamed", "access_key.created", "user.login_failed", "user.logged_in",
                          "user.signed_up"])
        failed = log[2]
        self.assertEqual(failed["actor"]["type"], "anonymous")
        self.assertIsNone(failed["actor"]["id"])
        self.assertEqual(failed["target"]["id"], c.user["id"])
        self.assertEqual(failed["ip"], "127.0.0.1")
        self.assertEqual(log[1]["target"]["id"], k["id"])
        self.assertEqual(log[0]["details"], {"from": "Ada", "to": "Ada L."})
        self.assertEqual([e["action"] for e in self.my_log(c, action="user.login_failed")],
                         ["user.login_failed"])
        # a personal key reads it too; an org key may not
        self.assertEqual(len(self.my_log(self.bearer(k["token"]))), len(log))
        o = self.make_org(c)["id"]
        self.assert_error(self.bearer(self.make_okey(c, o)["token"]).get("/v1/me/audit-events"), 403)
        self.assert_error(self.anon().get("/v1/me/audit-events"), 401)
        # org events are not personal ones; others' events never show
        self.assertNotIn("organization.created", [e["action"] for e in self.my_log(c)])
        other = self.user()
        self.assertEqual([e["action"] for e in self.my_log(other)], ["user.logged_in", "user.signed_up"])

    def test_deleted_org_event_stays_in_the_deleters_log(self):
        c = self.user(name="Ada")
        o = self.make_org(c, "Doomed")["id"]
        self.ok(c.delete("/v1/organizations/" + o), 204)
        self.assert_error(c.get("/v1/organizations/%s/audit-events" % o), 404)
        e = self.my_log(c)[0]
        self.assertEqual(e["action"], "organization.deleted")
        self.assertEqual(e["organization_id"], o)
        self.assertEqual(e["target"], {"type": "organization", "id": o, "name": "Doomed"})
        self.assertEqual(e["actor"]["id"], c.user["id"])

    def test_nothing_secret_in_any_event(self):
        c = self.user()
        o = self.make_org(c)["id"]
        k = self.make_okey(c, o)
        pk = self.make_pkey(c)
        text = c.get("/v1/organizations/%s/audit-events" % o).body + c.get("/v1/me/audit-events").body
        for secret in (k["token"], pk["token"], PASSWORD, c.cookies["latchkey_session"], c.csrf):
            self.assertNotIn(secret, text)


def age_events(srv, days):
    """Move every stored event `days` into the past (the server is stopped)."""
    sql = "UPDATE audit_events SET created_at = created_at - %d" % (days * 86400)
    if BACKEND == "pg":
        subprocess.run([lkserver.pg_bin("psql"), "-q", "-d", srv.db_url, "-c", sql],
                       env=lkserver.pg_env(), check=True, stdout=subprocess.DEVNULL)
    else:
        db = sqlite3.connect(srv.sqlite_path())
        db.execute(sql)
        db.commit()
        db.close()


class Retention(AuditShape):
    server_args = ("--audit-retention-days", "30")
    server_env = {"LATCHKEY_AUDIT_PURGE_INTERVAL_SECS": "1"}

    def test_old_events_are_purged_new_ones_kept(self):
        c = self.user()
        o = self.make_org(c)["id"]
        path = "/v1/organizations/%s/audit-events" % o
        self.assertEqual(len(events(self, c, path)["data"]), 1)
        self.srv.stop()
        age_events(self.srv, 31)
        self.srv.start()
        deadline = time.time() + 10
        while events(self, c, path)["data"] and time.time() < deadline:
            time.sleep(0.1)
        self.assertEqual(events(self, c, path)["data"], [])
        self.assertEqual(events(self, c, "/v1/me/audit-events")["data"], [])
        self.make_project(c, o)
        time.sleep(2.5)  # two more purge rounds: a fresh event stays
        self.assertEqual([e["action"] for e in events(self, c, path)["data"]], ["project.created"])

    def test_flag_validation(self):
        for bad in ("abc", "-1", "36501", "1.5"):
            p = subprocess.run([lkserver.LATCHKEYD, "--audit-retention-days", bad, "--listen", "127.0.0.1:1"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertIn(b"--audit-retention-days", p.stderr)
        p = subprocess.run([lkserver.LATCHKEYD, "--help"], stdout=subprocess.PIPE, timeout=10)
        self.assertIn(b"--audit-retention-days", p.stdout)


class KeepForever(AuditShape):
    server_args = ("--audit-retention-days", "0")
    server_env = {"LATCHKEY_AUDIT_PURGE_INTERVAL_SECS": "1"}

    def test_zero_keeps_every_event(self):
        c = self.user()
        o = self.make_org(c)["id"]
        self.srv.stop()
        age_events(self.srv, 4000)
        self.srv.start()
        time.sleep(1.5)
        log = self.ok(c.get("/v1/organizations/%s/audit-events" % o))["data"]
        self.assertEqual([e["action"] for e in log], ["organization.created"])
