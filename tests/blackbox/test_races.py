"""
test_races.py — the same write raced from several connections: the
outcome is fixed by the contract whatever the interleaving (one 201, the
rest 409; never a 500, never two of a kind).
"""
import threading

from support import ServerCase, uemail, PASSWORD
import lkserver


def race(n, fn):
    """Run fn(i) in n threads released together; return the results."""
    barrier = threading.Barrier(n)
    out = [None] * n

    def run(i):
        barrier.wait()
        out[i] = fn(i)

    ts = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    return out


class Races(ServerCase):
    def test_same_email_signup_race(self):
        e = uemail("race")
        rs = race(8, lambda i: lkserver.Client(self.url).post(
            "/v1/auth/signup", {"email": e if i % 2 else e.upper(), "password": PASSWORD, "name": "R%d" % i}))
        st = sorted(r.status for r in rs)
        self.assertEqual(st.count(201), 1, rs)
        for r in rs:
            if r.status != 201:
                self.assert_error(r, 409, "conflict")

    def test_same_member_add_race(self):
        owner, m = self.user(), self.user()
        org = self.make_org(owner)["id"]
        token = self.make_pkey(owner)["token"]
        rs = race(8, lambda i: lkserver.Client(self.url, token=token).post(
            "/v1/organizations/%s/members" % org, {"email": m.email}))
        self.assertEqual([r.status for r in rs].count(201), 1, rs)
        for r in rs:
            if r.status != 201:
                self.assert_error(r, 409, "conflict")
        ms = self.list_all(owner, "/v1/organizations/%s/members" % org)
        self.assertEqual(len(ms), 2)

    def test_last_two_members_leave_at_once(self):
        for _ in range(5):
            a, b = self.user(), self.user()
            org = self.make_org(a)["id"]
            self.add_member(a, org, b.email)
            ka, kb = self.make_pkey(a)["token"], self.make_pkey(b)["token"]
            who = [(ka, a.user["id"]), (kb, b.user["id"])]
            rs = race(2, lambda i: lkserver.Client(self.url, token=who[i][0]).delete(
                "/v1/organizations/%s/members/%s" % (org, who[i][1])))
            self.assertEqual(sorted(r.status for r in rs), [204, 409], rs)
            ms = self.list_all(lkserver.Client(self.url, token=ka if rs[1].status == 204 else kb),
                               "/v1/organizations/%s/members" % org)
            self.assertEqual(len(ms), 1)

    def test_double_delete_race(self):
        c = self.user()
        token = self.make_pkey(c)["token"]
        k = self.make_pkey(c)
        rs = race(6, lambda i: lkserver.Client(self.url, token=token).delete("/v1/me/access-keys/" + k["id"]))
        self.assertEqual([r.status for r in rs].count(204), 1, rs)
        for r in rs:
            if r.status != 204:
                self.assert_error(r, 404, "not_found")
        self.assert_error(self.bearer(k["token"]).get("/v1/me"), 401, "unauthenticated")

    def test_parallel_creates_all_land(self):
        c = self.user()
        org = self.make_org(c)["id"]
        token = self.make_pkey(c)["token"]

        def mk(i):
            cl = lkserver.Client(self.url, token=token)
            return [cl.post("/v1/organizations/%s/projects" % org, {"name": "p%d-%d" % (i, j)}) for j in range(25)]

        rs = [r for batch in race(8, mk) for r in batch]
        for r in rs:
            self.assertEqual(r.status, 201, r)
        ids = [x["id"] for x in self.list_all(c, "/v1/organizations/%s/projects" % org, limit=1000)]
        self.assertEqual(len(ids), 200)
        self.assertEqual(set(ids), {r.json["id"] for r in rs})
