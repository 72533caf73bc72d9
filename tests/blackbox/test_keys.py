"""
test_keys.py — access keys as the contract describes them: the JSON shape,
the token returned exactly once, the redacted preview, revocation on the
very next request, expiry, and who a personal or organization key reaches
as memberships change (api.md "Tokens", the key rows of "Endpoints", the
paragraph under "Who may do what").
"""
import math
import time

from support import ServerCase, fmt_time, parse_time, redact, uname


class KeyShape(ServerCase):
    def test_personal_key_create_shape(self):
        c = self.user()
        r = c.post("/v1/me/access-keys", {"name": "laptop"})
        k = self.ok(r, 201)
        self.assert_key_shape(k, "personal", with_token=True)
        self.assertEqual(k["name"], "laptop")
        self.assertEqual(k["created_by"], c.user["id"])
        self.assertIsNone(k["last_used_at"])
        self.assertIsNone(k["expires_at"])
        self.assertNotIn("organization_id", k)

    def test_org_key_create_shape(self):
        c = self.user()
        org = self.make_org(c)["id"]
        k = self.ok(c.post("/v1/organizations/%s/access-keys" % org, {"name": "ci"}), 201)
        self.assert_key_shape(k, "organization", with_token=True, org_id=org)
        self.assertEqual(k["name"], "ci")
        self.assertEqual(k["created_by"], c.user["id"])
        self.assertIsNone(k["last_used_at"])

    def test_personal_key_created_by_a_personal_key(self):
        c = self.user()
        pk = self.make_pkey(c)["token"]
        k = self.ok(self.bearer(pk).post("/v1/me/access-keys", {"name": "child"}), 201)
        self.assert_key_shape(k, "personal", with_token=True)
        self.assertEqual(k["created_by"], c.user["id"])

    def test_token_never_returned_again(self):
        c = self.user()
        org = self.make_org(c)["id"]
        pk = self.make_pkey(c)
        ok = self.make_okey(c, org)
        bodies = []
        for path, kind, key in (("/v1/me/access-keys", "personal", pk),
                                ("/v1/organizations/%s/access-keys" % org, "organization", ok)):
            r = c.get(path)
            bodies.append(r.body)
            lst = self.ok(r)["data"]
            mine = [k for k in lst if k["id"] == key["id"]]
            self.assertEqual(len(mine), 1)
            self.assert_key_shape(mine[0], kind)
            self.assertEqual(mine[0]["redacted"], key["redacted"])
            self.assertEqual(mine[0]["created_at"], key["created_at"])
            r = c.patch(path + "/" + key["id"], {"name": "renamed"})
            bodies.append(r.body)
            k2 = self.ok(r)
            self.assert_key_shape(k2, kind)
            self.assertEqual(k2["name"], "renamed")
            self.assertEqual(k2["id"], key["id"])
            self.assertEqual(k2["redacted"], key["redacted"])
        for who in (c, self.bearer(pk["token"]), self.bearer(ok["token"])):
            bodies.append(who.get("/v1/whoami").body)
        bodies.append(c.get("/v1/organizations/" + org).body)
        for b in bodies:
            self.assertNotIn(pk["token"], b)
            self.assertNotIn(ok["token"], b)
            self.assertNotIn(pk["token"][8:-4], b)
            self.assertNotIn(ok["token"][8:-4], b)

    def test_redacted_matches_token(self):
        c = self.user()
        for _ in range(5):
            k = self.make_pkey(c)
            self.assertEqual(k["redacted"], redact(k["token"]))
            self.assertEqual(k["redacted"][:8], k["token"][:8])
            self.assertEqual(k["redacted"][-4:], k["token"][-4:])
            self.assertEqual(k["redacted"][8], "\u2026")

    def test_rename_trims_and_validates(self):
        c = self.user()
        k = self.make_pkey(c)
        self.assert_error(c.patch("/v1/me/access-keys/" + k["id"], {"name": "  "}), 400, "validation_failed",
                          field="name")
        self.assert_error(c.patch("/v1/me/access-keys/" + k["id"], {"name": "x" * 101}), 400,
                          "validation_failed", field="name")
        self.assertEqual(self.ok(c.patch("/v1/me/access-keys/" + k["id"], {"name": "y" * 100}))["name"], "y" * 100)

    def test_unknown_key_ids_404(self):
        c = self.user()
        org = self.make_org(c)["id"]
        for bad in ("key_" + "A" * 20, "key_doesnotexist", "org_" + "A" * 20, "nope", "0", "key_"):
            for path in ("/v1/me/access-keys/" + bad, "/v1/organizations/%s/access-keys/%s" % (org, bad)):
                with self.subTest(path=path):
                    self.assert_error(c.patch(path, {"name": "x"}), 404, "not_found")
                    self.assert_error(c.delete(path), 404, "not_found")

    def test_delete_twice_404(self):
        c = self.user()
        k = self.make_pkey(c)
        self.assertEqual(c.delete("/v1/me/access-keys/" + k["id"]).status, 204)
        self.assert_error(c.delete("/v1/me/access-keys/" + k["id"]), 404, "not_found")
        self.assert_error(c.patch("/v1/me/access-keys/" + k["id"], {"name": "x"}), 404, "not_found")


class Revocation(ServerCase):
    def test_personal_key_revoked_on_next_request(self):
        c = self.user()
        for i in range(10):
            k = self.make_pkey(c)
            b = self.bearer(k["token"])
            self.ok(b.get("/v1/me"))          # warm any cache
            r = c.delete("/v1/me/access-keys/" + k["id"])
            self.assertEqual(r.status, 204, r)
            self.assert_error(b.get("/v1/me"), 401, "unauthenticated", msg="round %d" % i)
            ids = [x["id"] for x in self.list_all(c, "/v1/me/access-keys")]
            self.assertNotIn(k["id"], ids)

    def test_org_key_revoked_on_next_request(self):
        c = self.user()
        org = self.make_org(c)["id"]
        for i in range(10):
            k = self.make_okey(c, org)
            b = self.bearer(k["token"])
            self.ok(b.get("/v1/organizations/" + org))
            r = c.delete("/v1/organizations/%s/access-keys/%s" % (org, k["id"]))
            self.assertEqual(r.status, 204, r)
            self.assert_error(b.get("/v1/organizations/" + org), 401, "unauthenticated", msg="round %d" % i)

    def test_personal_key_deletes_itself(self):
        c = self.user()
        k = self.make_pkey(c)
        b = self.bearer(k["token"])
        self.assertEqual(b.delete("/v1/me/access-keys/" + k["id"]).status, 204)
        self.assert_error(b.get("/v1/me"), 401, "unauthenticated")

    def test_revoking_one_key_leaves_others(self):
        c = self.user()
        k1, k2 = self.make_pkey(c), self.make_pkey(c)
        self.assertEqual(c.delete("/v1/me/access-keys/" + k1["id"]).status, 204)
        self.ok(self.bearer(k2["token"]).get("/v1/me"))


class Expiry(ServerCase):
    def test_expires_at_in_the_past_400(self):
        c = self.user()
        org = self.make_org(c)["id"]
        for when in (fmt_time(time.time() - 3600), "2000-01-01T00:00:00Z", fmt_time(time.time() - 1)):
            for path in ("/v1/me/access-keys", "/v1/organizations/%s/access-keys" % org):
                with self.subTest(path=path, when=when):
                    r = c.post(path, {"name": "old", "expires_at": when})
                    self.assert_error(r, 400, "validation_failed", field="expires_at")

    def test_expires_at_bad_values_400(self):
        c = self.user()
        for when in ("tomorrow", "", "2099-13-01T00:00:00Z", "2099-02-30T00:00:00Z",
                     "2099-01-01T25:00:00Z", "01/01/2099", 4102444800, True, ["2099-01-01T00:00:00Z"], {"at": 1}):
            with self.subTest(when=when):
                r = c.post("/v1/me/access-keys", {"name": "bad", "expires_at": when})
                self.assert_error(r, 400, "validation_failed", field="expires_at")

    def test_expires_at_echoed(self):
        c = self.user()
        when = "2099-06-01T12:00:00Z"
        k = self.make_pkey(c, expires_at=when)
        self.assertEqual(parse_time(k["expires_at"]), parse_time(when))
        lst = [x for x in self.list_all(c, "/v1/me/access-keys") if x["id"] == k["id"]]
        self.assertEqual(parse_time(lst[0]["expires_at"]), parse_time(when))
        self.ok(self.bearer(k["token"]).get("/v1/me"))

    def test_key_expires(self):
        c = self.user()
        org = self.make_org(c)["id"]
        # whole seconds, a few seconds ahead: the keys work now...
        expires = math.ceil(time.time()) + 4
        when = fmt_time(expires)
        pk = self.make_pkey(c, expires_at=when)
        ok = self.make_okey(c, org, expires_at=when)
        keep = self.make_pkey(c)
        self.assertEqual(parse_time(pk["expires_at"]), expires)
        if time.time() < expires - 1:
            self.ok(self.bearer(pk["token"]).get("/v1/me"))
            self.ok(self.bearer(ok["token"]).get("/v1/organizations/" + org))
        # ...and not once the moment has passed
        while time.time() < expires + 1.5:
            time.sleep(0.25)
        self.assert_error(self.bearer(pk["token"]).get("/v1/me"), 401, "unauthenticated")
        self.assert_error(self.bearer(ok["token"]).get("/v1/organizations/" + org), 401, "unauthenticated")
        pids = [x["id"] for x in self.list_all(c, "/v1/me/access-keys")]
        oids = [x["id"] for x in self.list_all(c, "/v1/organizations/%s/access-keys" % org)]
        self.assertNotIn(pk["id"], pids, "expired personal key still listed")
        self.assertNotIn(ok["id"], oids, "expired org key still listed")
        self.assertIn(keep["id"], pids)
        self.ok(self.bearer(keep["token"]).get("/v1/me"))
        # treated as deleted: it cannot be renamed or deleted either
        self.assert_error(c.patch("/v1/me/access-keys/" + pk["id"], {"name": "x"}), 404, "not_found")
        self.assert_error(c.delete("/v1/me/access-keys/" + pk["id"]), 404, "not_found")
        okp = "/v1/organizations/%s/access-keys/%s" % (org, ok["id"])
        self.assert_error(c.patch(okp, {"name": "x"}), 404, "not_found")
        self.assert_error(c.delete(okp), 404, "not_found")


class Membership(ServerCase):
    def test_personal_key_loses_org_when_user_removed(self):
        owner, m = self.user(), self.user()
        org = self.make_org(owner)["id"]
        self.add_member(owner, org, m.email)
        pk = self.make_pkey(m)["token"]
        b = self.bearer(pk)
        self.ok(b.get("/v1/organizations/" + org))
        self.ok(b.get("/v1/organizations/%s/projects" % org))
        self.assertEqual(owner.delete("/v1/organizations/%s/members/%s" % (org, m.user["id"])).status, 204)
        self.assert_error(b.get("/v1/organizations/" + org), 404, "not_found")
        self.assert_error(b.get("/v1/organizations/%s/projects" % org), 404, "not_found")
        self.assert_error(b.post("/v1/organizations/%s/projects" % org, {"name": "x"}), 404, "not_found")
        self.assertNotIn(org, [o["id"] for o in self.list_all(b, "/v1/organizations")])
        self.ok(b.get("/v1/me"))  # the key itself still works
        self.assert_error(m.get("/v1/organizations/" + org), 404, "not_found")

    def test_personal_key_gains_org_when_user_added(self):
        owner, m = self.user(), self.user()
        org = self.make_org(owner)["id"]
        pk = self.make_pkey(m)["token"]
        self.assert_error(self.bearer(pk).get("/v1/organizations/" + org), 404, "not_found")
        self.add_member(owner, org, m.email)
        self.ok(self.bearer(pk).get("/v1/organizations/" + org))

    def test_org_key_outlives_creator_membership(self):
        creator, other = self.user(), self.user()
        org = self.make_org(creator)["id"]
        self.add_member(creator, org, other.email)
        k = self.make_okey(creator, org)
        # roles (1.1): the last owner cannot leave, so another owner first
        self.ok(creator.patch("/v1/organizations/%s/members/%s" % (org, other.user["id"]), {"role": "owner"}))
        # the creator leaves
        self.assertEqual(creator.delete("/v1/organizations/%s/members/%s" % (org, creator.user["id"])).status, 204)
        self.assert_error(creator.get("/v1/organizations/" + org), 404, "not_found")
        b = self.bearer(k["token"])
        self.ok(b.get("/v1/organizations/" + org))
        self.ok(b.post("/v1/organizations/%s/projects" % org, {"name": "after"}), 201)
        keys = self.list_all(other, "/v1/organizations/%s/access-keys" % org)
        self.assertIn(k["id"], [x["id"] for x in keys])

    def test_deleting_org_revokes_its_keys_and_hides_resources(self):
        c = self.user()
        org = self.make_org(c)["id"]
        prj = self.make_project(c, org)["id"]
        env = self.make_env(c, org, prj)["id"]
        ok = self.make_okey(c, org)
        pk = self.make_pkey(c)
        self.ok(self.bearer(ok["token"]).get("/v1/organizations/" + org))
        self.assertEqual(c.delete("/v1/organizations/" + org).status, 204)
        self.assert_error(self.bearer(ok["token"]).get("/v1/organizations/" + org), 401, "unauthenticated")
        self.assert_error(self.bearer(ok["token"]).get("/v1/whoami"), 401, "unauthenticated")
        base = "/v1/organizations/" + org
        for who in (c, self.bearer(pk["token"])):
            for path in (base, base + "/projects", base + "/projects/" + prj,
                         base + "/projects/%s/environments" % prj, base + "/projects/%s/environments/%s" % (prj, env),
                         base + "/billing", base + "/members", base + "/access-keys"):
                with self.subTest(path=path):
                    self.assert_error(who.get(path), 404, "not_found")
            self.assert_error(who.delete(base), 404, "not_found")
            self.assert_error(who.patch(base, {"name": "x"}), 404, "not_found")
        self.assertNotIn(org, [o["id"] for o in self.list_all(c, "/v1/organizations")])
        self.ok(self.bearer(pk["token"]).get("/v1/me"))


class SharedStoreBase(ServerCase):
    """"once DELETE has answered, no request with that token succeeds, on
    any server process that shares the store": a second latchkeyd on the
    same database, and every revocation checked on the other process."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        from support import Server, BACKEND
        cls.srv2 = Server(backend=BACKEND, db_url=cls.srv.db_url)
        try:
            cls.srv2.start()
        except Exception:
            cls.srv2.cleanup()
            super().tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.srv2.cleanup()
        super().tearDownClass()

    def other(self, token=None):
        import lkserver
        return lkserver.Client(self.srv2.url, token=token)


class SharedStore(SharedStoreBase):
    def test_key_deleted_on_one_process_dead_on_the_other(self):
        c = self.user()
        org = self.make_org(c)["id"]
        for i in range(5):
            pk, ok = self.make_pkey(c), self.make_okey(c, org)
            self.ok(self.other(pk["token"]).get("/v1/me"))     # warm process 2
            self.ok(self.other(ok["token"]).get("/v1/organizations/" + org))
            self.assertEqual(c.delete("/v1/me/access-keys/" + pk["id"]).status, 204)
            self.assertEqual(c.delete("/v1/organizations/%s/access-keys/%s" % (org, ok["id"])).status, 204)
            self.assert_error(self.other(pk["token"]).get("/v1/me"), 401, "unauthenticated", msg="round %d" % i)
            self.assert_error(self.other(ok["token"]).get("/v1/organizations/" + org), 401, "unauthenticated")

    def test_key_created_on_one_process_works_on_the_other(self):
        c = self.user()
        pk = self.make_pkey(c)
        self.ok(self.other(pk["token"]).get("/v1/me"))

    def test_logout_on_one_process_ends_session_on_the_other(self):
        c = self.user()
        cookie = {"Cookie": "latchkey_session=" + c.cookies["latchkey_session"]}
        self.ok(self.other().get("/v1/me", headers=cookie, cookies=False))
        self.assertEqual(c.post("/v1/auth/logout").status, 204)
        self.assert_error(self.other().get("/v1/me", headers=cookie, cookies=False), 401, "unauthenticated")

    def test_membership_removed_on_one_process_seen_on_the_other(self):
        owner, m = self.user(), self.user()
        org = self.make_org(owner)["id"]
        self.add_member(owner, org, m.email)
        pk = self.make_pkey(m)["token"]
        self.ok(self.other(pk).get("/v1/organizations/" + org))
        self.assertEqual(owner.delete("/v1/organizations/%s/members/%s" % (org, m.user["id"])).status, 204)
        self.assert_error(self.other(pk).get("/v1/organizations/" + org), 404, "not_found")

    def test_org_deleted_on_one_process_revokes_on_the_other(self):
        c = self.user()
        org = self.make_org(c)["id"]
        ok = self.make_okey(c, org)["token"]
        self.ok(self.other(ok).get("/v1/organizations/" + org))
        self.assertEqual(c.delete("/v1/organizations/" + org).status, 204)
        self.assert_error(self.other(ok).get("/v1/organizations/" + org), 401, "unauthenticated")


class ExpiresAtForms(ServerCase):
    def test_offset_and_fraction_normalised_to_utc(self):
        c = self.user()
        for sent, want in (("2099-01-01T02:00:00+02:00", "2099-01-01T00:00:00Z"),
                           ("2098-12-31T19:00:00-05:00", "2099-01-01T00:00:00Z"),
                           ("2099-01-01T00:00:00.000Z", "2099-01-01T00:00:00Z"),
                           ("2099-01-01t00:00:00z", "2099-01-01T00:00:00Z")):
            with self.subTest(sent=sent):
                k = self.ok(c.post("/v1/me/access-keys", {"name": "tz", "expires_at": sent}), 201)
                self.assertTrue(k["expires_at"].endswith("Z"), k["expires_at"])
                self.assertEqual(parse_time(k["expires_at"]), parse_time(want))

    def test_far_future(self):
        c = self.user()
        k = self.ok(c.post("/v1/me/access-keys", {"name": "far", "expires_at": "9999-12-31T23:59:59Z"}), 201)
        self.assertEqual(parse_time(k["expires_at"]), parse_time("9999-12-31T23:59:59Z"))
        self.ok(self.bearer(k["token"]).get("/v1/me"))


class RevocationUnderLoad(SharedStoreBase):
    """Readers hammer both processes with a token while it is deleted: no
    request *sent after* the DELETE was answered may succeed. (The check is
    on the order of events, not on how fast anything is.)"""

    def test_no_success_after_delete_answered(self):
        import threading
        import time as _t
        import lkserver
        c = self.user()
        org = self.make_org(c)["id"]
        for kind in ("personal", "organization"):
            k = self.make_pkey(c) if kind == "personal" else self.make_okey(c, org)
            path = "/v1/me" if kind == "personal" else "/v1/organizations/" + org
            log, stop = [], threading.Event()
            lock = threading.Lock()

            def reader(url):
                # stops after a few refusals, to stay far below any
                # per-client throttle on failed bearer attempts
                cl = lkserver.Client(url, token=k["token"])
                refused = 0
                while not stop.is_set() and refused < 5:
                    t0 = _t.monotonic()
                    r = cl.get(path)
                    refused += r.status != 200
                    with lock:
                        log.append((t0, r.status))

            ts = [threading.Thread(target=reader, args=(u,)) for u in (self.url, self.srv2.url) * 2]
            for t in ts:
                t.start()
            while True:
                with lock:
                    if sum(1 for _, s in log if s == 200) >= 20:
                        break
                _t.sleep(0.005)
            dpath = ("/v1/me/access-keys/" if kind == "personal" else "/v1/organizations/%s/access-keys/" % org) + k["id"]
            r = c.delete(dpath)
            answered = _t.monotonic()
            self.assertEqual(r.status, 204, r)
            for t in ts:
                t.join(10)
            stop.set()
            for t in ts:
                t.join(10)
            late = [(t0 - answered, s) for t0, s in log if t0 > answered and s == 200]
            self.assertEqual(late, [], "%s key still worked after its DELETE was answered" % kind)
            after = [s for t0, s in log if t0 > answered]
            self.assertTrue(after, "no request was sent after the delete")
            # 401, or 429 once the server throttles this client's failures
            self.assertLessEqual(set(after), {401, 429}, after[:10])
            self.assertIn(401, after)
