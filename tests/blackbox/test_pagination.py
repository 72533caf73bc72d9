"""
test_pagination.py — lists: `{"data": [...], "next_cursor": null | "..."}`,
newest first, `?limit=` (default 100, at most 1000) and `?cursor=` (api.md
"HTTP API"). Every list endpoint is walked with a small limit; the walk must
return each item exactly once, newest first, and stay correct when items
are added or removed between pages.
"""
from support import ServerCase, uemail, uname, PASSWORD
import lkserver

BAD_LIMITS = ["0", "-1", "abc", "1.5", "1e3", "10abc", "0x10", "-0", "%00", "5%00"]
BAD_CURSORS = ["garbage", "!!!!", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "eyJpZCI6ICJvcmdfeCJ9", "%00",
               "x" * 5000, "%ff%fe"]


class ListKinds(ServerCase):
    """Builds N items of one kind and returns (client, path, ids in creation order)."""

    N = 7

    def build(self, kind):
        c = self.user()
        if kind == "orgs":
            ids = [self.make_org(c)["id"] for _ in range(self.N)]
            return c, "/v1/organizations", ids, "id"
        org = self.make_org(c)["id"]
        if kind == "projects":
            return c, "/v1/organizations/%s/projects" % org, [self.make_project(c, org)["id"] for _ in range(self.N)], "id"
        if kind == "envs":
            prj = self.make_project(c, org)["id"]
            return (c, "/v1/organizations/%s/projects/%s/environments" % (org, prj),
                    [self.make_env(c, org, prj)["id"] for _ in range(self.N)], "id")
        if kind == "org_keys":
            return c, "/v1/organizations/%s/access-keys" % org, [self.make_okey(c, org)["id"] for _ in range(self.N)], "id"
        if kind == "personal_keys":
            return c, "/v1/me/access-keys", [self.make_pkey(c)["id"] for _ in range(self.N)], "id"
        if kind == "members":
            ids = [c.user["id"]]
            for _ in range(self.N - 1):
                e = uemail("m")
                u = lkserver.Client(self.url).signup(e, PASSWORD, "M")
                self.add_member(c, org, e)
                ids.append(u["id"])
            return c, "/v1/organizations/%s/members" % org, ids, "user_id"
        raise ValueError(kind)


KINDS = ["orgs", "projects", "envs", "org_keys", "personal_keys", "members"]


def _walk(kind, limit):
    def t(self):
        c, path, ids, idf = self.build(kind)
        got = [x[idf] for x in self.list_all(c, path, limit=limit)]
        self.assertEqual(len(got), len(set(got)), "duplicates in %s walk: %r" % (kind, got))
        self.assertEqual(set(got), set(ids), "%s walk missed or added items" % kind)
        self.assertEqual(got, list(reversed(ids)), "%s not newest first" % kind)
    return t


def _page_sizes(kind):
    def t(self):
        c, path, ids, idf = self.build(kind)
        r = self.ok(c.get(path + "?limit=3"))
        self.assert_list_shape(r)
        self.assertEqual(len(r["data"]), 3)
        self.assertIsNotNone(r["next_cursor"])
        r = self.ok(c.get(path + "?limit=%d" % len(ids)))
        self.assertEqual(len(r["data"]), len(ids))
        if r["next_cursor"] is not None:
            r2 = self.ok(c.get(path + "?limit=%d&cursor=%s" % (len(ids), r["next_cursor"])))
            self.assertEqual(r2["data"], [])
            self.assertIsNone(r2["next_cursor"])
        r = self.ok(c.get(path + "?limit=%d" % (len(ids) + 1)))
        self.assertEqual(len(r["data"]), len(ids))
        self.assertIsNone(r["next_cursor"])
        r = self.ok(c.get(path))
        self.assertEqual(len(r["data"]), len(ids))
        self.assertIsNone(r["next_cursor"])
    return t


def _bad_params(kind):
    def t(self):
        c, path, ids, idf = self.build(kind)
        for v in BAD_LIMITS:
            with self.subTest(limit=v):
                self.assert_error(c.get(path + "?limit=" + v), 400, "validation_failed", field="limit")
        for v in BAD_CURSORS:
            with self.subTest(cursor=v[:20]):
                e = self.assert_error(c.get(path + "?cursor=" + v), 400, "validation_failed")
                # a very long one may be refused as a whole query string
                self.assertIn(e["field"], ("cursor", "query") if len(v) > 1000 else ("cursor",))
    return t


for _k in KINDS:
    setattr(ListKinds, "test_%s__walk_limit_1" % _k, _walk(_k, 1))
    setattr(ListKinds, "test_%s__walk_limit_2" % _k, _walk(_k, 2))
    setattr(ListKinds, "test_%s__walk_limit_5" % _k, _walk(_k, 5))
    setattr(ListKinds, "test_%s__page_sizes" % _k, _page_sizes(_k))
    setattr(ListKinds, "test_%s__bad_limit_and_cursor_400" % _k, _bad_params(_k))


class Stability(ServerCase):
    def _setup(self, n=12):
        c = self.user()
        org = self.make_org(c)["id"]
        path = "/v1/organizations/%s/projects" % org
        ids = [self.make_project(c, org, "p%02d" % i)["id"] for i in range(n)]
        return c, org, path, ids

    def test_insert_between_pages(self):
        c, org, path, ids = self._setup()
        p1 = self.ok(c.get(path + "?limit=5"))
        self.assertEqual([x["id"] for x in p1["data"]], list(reversed(ids))[:5])
        new = [self.make_project(c, org)["id"] for _ in range(3)]
        rest, cur = [], p1["next_cursor"]
        while cur:
            p = self.ok(c.get(path + "?limit=5&cursor=" + cur))
            rest += [x["id"] for x in p["data"]]
            cur = p["next_cursor"]
        self.assertEqual(rest, list(reversed(ids))[5:], "inserts shifted the later pages")
        for n in new:
            self.assertNotIn(n, rest)
        # a fresh walk sees everything
        self.assertEqual([x["id"] for x in self.list_all(c, path, limit=4)], list(reversed(ids + new)))

    def test_delete_between_pages(self):
        c, org, path, ids = self._setup()
        newest_first = list(reversed(ids))
        p1 = self.ok(c.get(path + "?limit=5"))
        gone = [newest_first[2], newest_first[6], newest_first[7]]   # one seen, two unseen
        for g in gone:
            self.assertEqual(c.delete("%s/%s" % (path, g)).status, 204)
        rest, cur = [], p1["next_cursor"]
        while cur:
            p = self.ok(c.get(path + "?limit=5&cursor=" + cur))
            rest += [x["id"] for x in p["data"]]
            cur = p["next_cursor"]
        self.assertEqual(rest, [i for i in newest_first[5:] if i not in gone])

    def test_cursor_with_deleted_anchor(self):
        c, org, path, ids = self._setup()
        newest_first = list(reversed(ids))
        p1 = self.ok(c.get(path + "?limit=5"))
        # the last item of page 1 (what a cursor is likely built from) vanishes
        self.assertEqual(c.delete("%s/%s" % (path, newest_first[4])).status, 204)
        p2 = self.ok(c.get(path + "?limit=5&cursor=" + p1["next_cursor"]))
        self.assertEqual([x["id"] for x in p2["data"]], newest_first[5:10])

    def test_created_at_never_increases(self):
        c, org, path, ids = self._setup()
        items = self.list_all(c, path, limit=3)
        ts = [x["created_at"] for x in items]
        self.assertEqual(ts, sorted(ts, reverse=True))

    def test_cursor_of_one_list_used_on_another(self):
        a = self.user()
        oa, ob = self.make_org(a)["id"], self.make_org(a)["id"]
        for i in range(4):
            self.make_project(a, oa, "a-%d" % i)
            self.make_project(a, ob, "b-%d" % i)
        cur = self.ok(a.get("/v1/organizations/%s/projects?limit=1" % oa))["next_cursor"]
        r = a.get("/v1/organizations/%s/projects?limit=10&cursor=%s" % (ob, cur))
        if r.status == 400:
            self.assert_error(r, 400, "validation_failed", field="cursor")
        else:
            self.assertEqual(r.status, 200, r)
            for p in r.json["data"]:
                self.assertEqual(p["organization_id"], ob, "a cursor carried items across orgs")


class BigList(ServerCase):
    """Default 100 and maximum 1000 need more than 1000 items."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        tc = cls("run")
        c = tc.user()
        cls.org = tc.make_org(c)["id"]
        cls.b = lkserver.Client(cls.srv.url, token=tc.make_pkey(c)["token"])
        cls.path = "/v1/organizations/%s/projects" % cls.org
        cls.ids = []
        for i in range(1003):
            r = cls.b.post(cls.path, {"name": "p%04d" % i})
            assert r.status == 201, r
            cls.ids.append(r.json["id"])

    def test_default_limit_is_100(self):
        r = self.ok(self.b.get(self.path))
        self.assertEqual(len(r["data"]), 100)
        self.assertIsNotNone(r["next_cursor"])
        self.assertEqual([x["id"] for x in r["data"]], list(reversed(self.ids))[:100])

    def test_limit_1000(self):
        r = self.ok(self.b.get(self.path + "?limit=1000"))
        self.assertEqual(len(r["data"]), 1000)
        self.assertIsNotNone(r["next_cursor"])
        r2 = self.ok(self.b.get(self.path + "?limit=1000&cursor=" + r["next_cursor"]))
        self.assertEqual(len(r2["data"]), 3)
        self.assertIsNone(r2["next_cursor"])

    def test_limit_over_1000_never_gives_more(self):
        for v in ("1001", "5000", "99999999999999999999"):
            r = self.b.get(self.path + "?limit=" + v)
            if r.status == 400:
                self.assert_error(r, 400, "validation_failed", field="limit")
            else:
                self.assertEqual(r.status, 200, r)
                self.assertLessEqual(len(r.json["data"]), 1000)

    def test_full_walk(self):
        got = [x["id"] for x in self.list_all(self.b, self.path, limit=77)]
        self.assertEqual(got, list(reversed(self.ids)))
        got = [x["id"] for x in self.list_all(self.b, self.path)]
        self.assertEqual(got, list(reversed(self.ids)))
