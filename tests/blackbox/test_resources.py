"""
test_resources.py — the user, organizations, members, projects, environments
and billing: shapes, status codes, what each change leaves behind, unknown
and wrongly-typed IDs (api.md "Endpoints").
"""
import time

from support import ServerCase, uemail, PASSWORD
import lkserver


class Me(ServerCase):
    def test_get_me(self):
        c = self.user(name="Grace")
        u = self.ok(c.get("/v1/me"))
        self.assert_user_shape(u, email=c.email)
        self.assertEqual(u["name"], "Grace")
        self.assertEqual(u, c.user)

    def test_patch_me_name(self):
        c = self.user(name="Before")
        u = self.ok(c.patch("/v1/me", {"name": "After"}))
        self.assertEqual(u["name"], "After")
        self.assertEqual(self.ok(c.get("/v1/me"))["name"], "After")
        self.assertEqual(u["id"], c.user["id"])
        self.assertEqual(u["created_at"], c.user["created_at"])

    def test_patch_me_ignores_email_and_unknown_fields(self):
        c = self.user()
        u = self.ok(c.patch("/v1/me", {"name": "N", "id": "usr_x", "created_at": "2000-01-01T00:00:00Z",
                                       "unknown": [1, 2]}))
        self.assertEqual(u["id"], c.user["id"])
        self.assertEqual(u["created_at"], c.user["created_at"])

    def test_personal_key_sees_its_user(self):
        c = self.user()
        pk = self.make_pkey(c)["token"]
        self.assertEqual(self.ok(self.bearer(pk).get("/v1/me"))["id"], c.user["id"])
        self.assertEqual(self.ok(self.bearer(pk).patch("/v1/me", {"name": "ByKey"}))["name"], "ByKey")


class Orgs(ServerCase):
    def test_create_get_patch_delete(self):
        c = self.user()
        r = c.post("/v1/organizations", {"name": "Acme"})
        o = self.ok(r, 201)
        self.assertEqual(set(["id", "name", "created_at"]) - set(o), set())
        self.assert_id(o["id"], "org")
        self.assertEqual(o["name"], "Acme")
        self.assert_time(o["created_at"], near=time.time())
        self.assertEqual(self.ok(c.get("/v1/organizations/" + o["id"])), o)
        p = self.ok(c.patch("/v1/organizations/" + o["id"], {"name": "Acme 2"}))
        self.assertEqual(p["name"], "Acme 2")
        self.assertEqual(p["id"], o["id"])
        self.assertEqual(p["created_at"], o["created_at"])
        self.assertEqual(self.ok(c.get("/v1/organizations/" + o["id"]))["name"], "Acme 2")
        r = c.delete("/v1/organizations/" + o["id"])
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.body, "")
        self.assert_error(c.get("/v1/organizations/" + o["id"]), 404, "not_found")
        self.assert_error(c.delete("/v1/organizations/" + o["id"]), 404, "not_found")

    def test_creator_is_member(self):
        c = self.user(name="Founder")
        o = self.make_org(c)
        ms = self.ok(c.get("/v1/organizations/%s/members" % o["id"]))
        self.assert_list_shape(ms)
        self.assertEqual(len(ms["data"]), 1)
        m = ms["data"][0]
        self.assertEqual(m["user_id"], c.user["id"])
        self.assertEqual(m["email"].lower(), c.email.lower())
        self.assertEqual(m["name"], "Founder")
        self.assert_time(m["joined_at"], near=time.time())
        self.assertIn(o["id"], [x["id"] for x in self.list_all(c, "/v1/organizations")])

    def test_names_need_not_be_unique(self):
        c = self.user()
        a, b = self.make_org(c, "Same"), self.make_org(c, "Same")
        self.assertNotEqual(a["id"], b["id"])

    def test_name_is_trimmed_to_fit(self):
        c = self.user()
        o = self.ok(c.post("/v1/organizations", {"name": "  " + "x" * 100 + "  "}), 201)
        self.assertEqual(o["name"].strip(), "x" * 100)

    def test_unknown_and_wrong_type_ids_404(self):
        c = self.user()
        prj_like = self.make_project(c, self.make_org(c)["id"])["id"]
        for bad in ("org_" + "Z" * 20, "org_nothere", prj_like, c.user["id"], "key_" + "a" * 20, "x",
                    "org_" + "A" * 300):
            base = "/v1/organizations/" + bad
            with self.subTest(id=bad):
                for r in (c.get(base), c.patch(base, {"name": "x"}), c.delete(base), c.get(base + "/projects"),
                          c.get(base + "/members"), c.get(base + "/billing"), c.get(base + "/access-keys"),
                          c.post(base + "/projects", {"name": "x"})):
                    self.assert_error(r, 404, "not_found")


class Members(ServerCase):
    def test_add_list_remove(self):
        owner, m = self.user(), self.user(name="Newbie")
        org = self.make_org(owner)["id"]
        r = owner.post("/v1/organizations/%s/members" % org, {"email": m.email})
        added = self.ok(r, 201)
        self.assertEqual(added["user_id"], m.user["id"])
        self.assertEqual(added["name"], "Newbie")
        self.assert_time(added["joined_at"], near=time.time())
        ids = {x["user_id"] for x in self.list_all(owner, "/v1/organizations/%s/members" % org)}
        self.assertEqual(ids, {owner.user["id"], m.user["id"]})
        self.ok(m.get("/v1/organizations/" + org))
        self.assertIn(org, [o["id"] for o in self.list_all(m, "/v1/organizations")])
        r = owner.delete("/v1/organizations/%s/members/%s" % (org, m.user["id"]))
        self.assertEqual(r.status, 204, r)
        self.assert_error(m.get("/v1/organizations/" + org), 404, "not_found")
        ids = {x["user_id"] for x in self.list_all(owner, "/v1/organizations/%s/members" % org)}
        self.assertEqual(ids, {owner.user["id"]})

    def test_add_by_email_case_insensitive(self):
        owner, m = self.user(), self.user()
        org = self.make_org(owner)["id"]
        self.ok(owner.post("/v1/organizations/%s/members" % org, {"email": m.email.upper()}), 201)
        self.ok(m.get("/v1/organizations/" + org))

    def test_add_unknown_user_404(self):
        owner = self.user()
        org = self.make_org(owner)["id"]
        self.assert_error(owner.post("/v1/organizations/%s/members" % org, {"email": uemail("ghost")}),
                          404, "not_found")

    def test_add_twice_409(self):
        owner, m = self.user(), self.user()
        org = self.make_org(owner)["id"]
        self.add_member(owner, org, m.email)
        self.assert_error(owner.post("/v1/organizations/%s/members" % org, {"email": m.email}), 409, "conflict")
        self.assert_error(owner.post("/v1/organizations/%s/members" % org, {"email": owner.email}), 409, "conflict")

    def test_add_bad_email_400(self):
        owner = self.user()
        org = self.make_org(owner)["id"]
        for e in (None, 5, "", "no-at", ["a@b.io"]):
            with self.subTest(email=e):
                self.assert_error(owner.post("/v1/organizations/%s/members" % org, {"email": e}),
                                  400, "validation_failed", field="email")

    def test_member_leaves(self):
        owner, m = self.user(), self.user()
        org = self.make_org(owner)["id"]
        self.add_member(owner, org, m.email)
        self.assertEqual(m.delete("/v1/organizations/%s/members/%s" % (org, m.user["id"])).status, 204)
        self.assert_error(m.get("/v1/organizations/" + org), 404, "not_found")
        self.ok(owner.get("/v1/organizations/" + org))

    def test_owner_removes_another_member_does_not(self):
        # roles (1.1): removing someone else is an owner's (test_roles.py has the rest)
        a, b, c = self.user(), self.user(), self.user()
        org = self.make_org(a)["id"]
        self.add_member(a, org, b.email)
        self.add_member(a, org, c.email)
        self.assert_error(b.delete("/v1/organizations/%s/members/%s" % (org, c.user["id"])), 403, "forbidden")
        self.assertEqual(a.delete("/v1/organizations/%s/members/%s" % (org, c.user["id"])).status, 204)
        self.assert_error(c.get("/v1/organizations/" + org), 404, "not_found")

    def test_last_member_cannot_leave_409(self):
        c = self.user()
        org = self.make_org(c)["id"]
        self.assert_error(c.delete("/v1/organizations/%s/members/%s" % (org, c.user["id"])), 409, "conflict")
        self.ok(c.get("/v1/organizations/" + org))
        pk = self.make_pkey(c)["token"]
        self.assert_error(self.bearer(pk).delete("/v1/organizations/%s/members/%s" % (org, c.user["id"])),
                          409, "conflict")
        self.ok(c.get("/v1/organizations/" + org))

    def test_last_member_after_others_left_409(self):
        a, b = self.user(), self.user()
        org = self.make_org(a)["id"]
        self.add_member(a, org, b.email)
        self.assertEqual(a.delete("/v1/organizations/%s/members/%s" % (org, b.user["id"])).status, 204)
        self.assert_error(a.delete("/v1/organizations/%s/members/%s" % (org, a.user["id"])), 409, "conflict")

    def test_remove_non_member_404(self):
        owner, stranger = self.user(), self.user()
        org = self.make_org(owner)["id"]
        for uid in (stranger.user["id"], "usr_" + "Q" * 20, "org_" + "Q" * 20, "nope"):
            with self.subTest(uid=uid):
                self.assert_error(owner.delete("/v1/organizations/%s/members/%s" % (org, uid)), 404, "not_found")

    def test_removed_member_can_be_added_again(self):
        owner, m = self.user(), self.user()
        org = self.make_org(owner)["id"]
        self.add_member(owner, org, m.email)
        self.assertEqual(owner.delete("/v1/organizations/%s/members/%s" % (org, m.user["id"])).status, 204)
        self.add_member(owner, org, m.email)
        self.ok(m.get("/v1/organizations/" + org))


class Projects(ServerCase):
    def test_project_crud(self):
        c = self.user()
        org = self.make_org(c)["id"]
        base = "/v1/organizations/%s/projects" % org
        p = self.ok(c.post(base, {"name": "web"}), 201)
        self.assert_id(p["id"], "prj")
        self.assertEqual(p["name"], "web")
        self.assertEqual(p["organization_id"], org)
        self.assert_time(p["created_at"], near=time.time())
        self.assertEqual(self.ok(c.get(base + "/" + p["id"])), p)
        self.assertIn(p, self.ok(c.get(base))["data"])
        q = self.ok(c.patch(base + "/" + p["id"], {"name": "api"}))
        self.assertEqual((q["id"], q["name"], q["organization_id"], q["created_at"]),
                         (p["id"], "api", org, p["created_at"]))
        r = c.delete(base + "/" + p["id"])
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.body, "")
        self.assert_error(c.get(base + "/" + p["id"]), 404, "not_found")
        self.assertNotIn(p["id"], [x["id"] for x in self.ok(c.get(base))["data"]])

    def test_env_crud(self):
        c = self.user()
        org = self.make_org(c)["id"]
        prj = self.make_project(c, org)["id"]
        base = "/v1/organizations/%s/projects/%s/environments" % (org, prj)
        e = self.ok(c.post(base, {"name": "staging"}), 201)
        self.assert_id(e["id"], "env")
        self.assertEqual(e["name"], "staging")
        self.assertEqual(e["project_id"], prj)
        self.assert_time(e["created_at"], near=time.time())
        self.assertEqual(self.ok(c.get(base + "/" + e["id"])), e)
        self.assertIn(e, self.ok(c.get(base))["data"])
        f = self.ok(c.patch(base + "/" + e["id"], {"name": "production"}))
        self.assertEqual((f["id"], f["name"], f["project_id"]), (e["id"], "production", prj))
        self.assertEqual(c.delete(base + "/" + e["id"]).status, 204)
        self.assert_error(c.get(base + "/" + e["id"]), 404, "not_found")

    def test_deleting_project_hides_its_envs(self):
        c = self.user()
        org = self.make_org(c)["id"]
        prj = self.make_project(c, org)["id"]
        env = self.make_env(c, org, prj)["id"]
        self.assertEqual(c.delete("/v1/organizations/%s/projects/%s" % (org, prj)).status, 204)
        self.assert_error(c.get("/v1/organizations/%s/projects/%s/environments" % (org, prj)), 404, "not_found")
        self.assert_error(c.get("/v1/organizations/%s/projects/%s/environments/%s" % (org, prj, env)), 404,
                          "not_found")

    def test_unknown_and_wrong_type_ids_404(self):
        c = self.user()
        org = self.make_org(c)["id"]
        prj = self.make_project(c, org)["id"]
        env = self.make_env(c, org, prj)["id"]
        for bad in ("prj_" + "Z" * 20, env, org, "zzz"):
            p = "/v1/organizations/%s/projects/%s" % (org, bad)
            with self.subTest(prj=bad):
                for r in (c.get(p), c.patch(p, {"name": "x"}), c.delete(p), c.get(p + "/environments"),
                          c.post(p + "/environments", {"name": "x"})):
                    self.assert_error(r, 404, "not_found")
        for bad in ("env_" + "Z" * 20, prj, "zzz"):
            p = "/v1/organizations/%s/projects/%s/environments/%s" % (org, prj, bad)
            with self.subTest(env=bad):
                for r in (c.get(p), c.patch(p, {"name": "x"}), c.delete(p)):
                    self.assert_error(r, 404, "not_found")


class Billing(ServerCase):
    def test_billing_defaults_and_update(self):
        c = self.user()
        org = self.make_org(c)["id"]
        path = "/v1/organizations/%s/billing" % org
        b = self.ok(c.get(path))
        for k in ("plan", "billing_email", "updated_at"):
            self.assertIn(k, b)
        self.assertIn(b["plan"], ("free", "pro", "enterprise"))
        self.assert_time(b["updated_at"], near=time.time())
        for plan in ("pro", "enterprise", "free"):
            u = self.ok(c.patch(path, {"plan": plan, "billing_email": "billing@example.com"}))
            self.assertEqual(u["plan"], plan)
            self.assertEqual(u["billing_email"], "billing@example.com")
            self.assert_time(u["updated_at"], near=time.time())
            self.assertEqual(self.ok(c.get(path))["plan"], plan)

    def test_billing_partial_patch_keeps_other_field(self):
        c = self.user()
        org = self.make_org(c)["id"]
        path = "/v1/organizations/%s/billing" % org
        self.ok(c.patch(path, {"plan": "pro", "billing_email": "pay@example.com"}))
        self.assertEqual(self.ok(c.patch(path, {"plan": "enterprise"}))["billing_email"], "pay@example.com")
        self.assertEqual(self.ok(c.patch(path, {"billing_email": "new@example.com"}))["plan"], "enterprise")

    def test_billing_bad_values_400(self):
        c = self.user()
        org = self.make_org(c)["id"]
        path = "/v1/organizations/%s/billing" % org
        for body, field in (({"plan": "gold"}, "plan"), ({"plan": "PRO"}, "plan"), ({"plan": ""}, "plan"),
                            ({"plan": 1}, "plan"), ({"plan": None}, "plan"), ({"plan": ["pro"]}, "plan"),
                            ({"billing_email": "nope"}, "billing_email"), ({"billing_email": 7}, "billing_email"),
                            ({"billing_email": "a@b@c"}, "billing_email"),
                            ({"billing_email": "a" * 250 + "@x.io"}, "billing_email")):
            with self.subTest(body=body):
                self.assert_error(c.patch(path, body), 400, "validation_failed", field=field)
        self.assertIn(self.ok(c.get(path))["plan"], ("free", "pro", "enterprise"))

    def test_org_key_reads_and_changes_billing(self):
        c = self.user()
        org = self.make_org(c)["id"]
        k = self.make_okey(c, org)["token"]
        self.assertEqual(self.ok(self.bearer(k).patch("/v1/organizations/%s/billing" % org, {"plan": "pro"}))["plan"],
                         "pro")
