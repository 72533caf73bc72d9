#!/usr/bin/env python3
"""
tests/crash/run.py — latchkeyd loses nothing it acknowledged when it is
SIGKILLed in the middle of concurrent writes.

    python3 tests/crash/run.py --backend sqlite|pg [--rounds N] [--seed S]

One real latchkeyd on a fresh database (tests/lib/lkserver.py). Each round:

  1. WRITERS threads (each with its own connection and session cookie, each
     owning its own keys, so "the last acknowledged rename" of a key is well
     defined) create personal and organization keys, rename them and delete
     them, as fast as the server answers.
  2. After a random 0.2-1.5 s the server is SIGKILLed (no shutdown, no flush).
  3. sqlite: `PRAGMA integrity_check` on the database file must say "ok".
  4. The server is restarted on the same database, and every key the model
     knows is checked:
       - acknowledged create (201 seen), no delete acknowledged or in flight:
         its token authenticates (GET /v1/whoami → 200) and the key is listed
         under the name of its last acknowledged rename (or the rename that
         was in flight at the kill — either outcome is allowed for that one);
       - acknowledged delete (204 seen): its token is refused (401) and it is
         not listed;
       - an operation in flight at the kill may have happened or not: the
         check reads which, and the model adopts it for later rounds.
     Keys created in earlier rounds are re-checked every round (all of them
     in the last round, a sample before), so a later crash that loses older
     data is caught too.

A round passes when every check of it holds. The last line is
`RESULT <passed> <failed>` (one test per round, plus the final full check).
Bearer-failure throttling is set high (LATCHKEY_BEARER_FAIL_LIMIT): refused
tokens are the point here, not brute force (tests/hostile covers that).
"""
import os
import random
import signal
import sqlite3
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import lkserver  # noqa: E402
import lktestrun  # noqa: E402

WRITERS = 6
PASSWORD = "crash test password"


class Key:
    """What the model knows about one key."""

    def __init__(self, kid, token, name, org_id, round_no):
        self.id = kid
        self.token = token
        self.org_id = org_id  # None for a personal key
        self.names = {name}   # allowed current names: last acked (+ one in flight)
        self.state = "live"   # live | deleted | maybe-deleted
        self.round = round_no

    def path(self):
        if self.org_id:
            return "/v1/organizations/%s/access-keys/%s" % (self.org_id, self.id)
        return "/v1/me/access-keys/%s" % self.id


class Writer(threading.Thread):
    def __init__(self, idx, base_url, cookies, csrf, org_id, keys, lock, stop, rnd):
        super().__init__(daemon=True)
        self.idx = idx
        self.c = lkserver.Client(base_url, timeout=10)
        self.c.cookies = dict(cookies)
        self.c.csrf = csrf
        self.org_id = org_id
        self.keys = keys      # this writer's keys (list of Key), shared with main after join
        self.lock = lock
        self.stop = stop
        self.rnd = rnd
        self.round_no = 0
        self.acked = 0
        self.unexpected = []

    def run(self):
        n = 0
        while not self.stop.is_set():
            n += 1
            live = [k for k in self.keys if k.state == "live"]
            op = self.rnd.random()
            try:
                if op < 0.45 or len(live) < 3:
                    self.create(n)
                elif op < 0.8:
                    self.rename(self.rnd.choice(live), n)
                else:
                    self.delete(self.rnd.choice(live))
            except (OSError, lkserver.http.client.HTTPException):
                # the server died under us: whatever was in flight is unknown
                return

    def create(self, n):
        org = self.org_id if self.rnd.random() < 0.5 else None
        name = "w%d-r%d-k%d" % (self.idx, self.round_no, n)
        path = "/v1/organizations/%s/access-keys" % org if org else "/v1/me/access-keys"
        r = self.c.post(path, {"name": name})
        if r.status != 201:
            self.unexpected.append("create %s -> %r" % (path, r))
            return
        k = Key(r.json["id"], r.json["token"], name, org, self.round_no)
        with self.lock:
            self.keys.append(k)
        self.acked += 1

    def rename(self, k, n):
        new = "w%d-r%d-n%d" % (self.idx, self.round_no, n)
        before = set(k.names)
        k.names = before | {new}  # in flight: either may be stored
        r = self.c.patch(k.path(), {"name": new})
        if r.status != 200 or r.json.get("name") != new:
            self.unexpected.append("rename %s -> %r" % (k.id, r))
            k.names = before
            return
        k.names = {new}
        self.acked += 1

    def delete(self, k):
        k.state = "maybe-deleted"
        r = self.c.delete(k.path())
        if r.status != 204:
            self.unexpected.append("delete %s -> %r" % (k.id, r))
            k.state = "live"
            return
        k.state = "deleted"
        self.acked += 1


def list_names(c, path):
    """id -> name for every key under path (all pages)."""
    out, cursor = {}, None
    while True:
        q = path + "?limit=1000" + ("&cursor=" + cursor if cursor else "")
        r = c.get(q)
        if r.status != 200:
            raise AssertionError("list %s -> %r" % (q, r))
        for k in r.json["data"]:
            out[k["id"]] = k["name"]
        cursor = r.json.get("next_cursor")
        if not cursor:
            return out


def integrity_check(path):
    db = sqlite3.connect(path, timeout=30)
    try:
        rows = db.execute("PRAGMA integrity_check").fetchall()
    finally:
        db.close()
    return [r[0] for r in rows]


def verify(srv, sess, org_id, keys, sample, rnd):
    """Check keys against the server; fix up maybe-states. Returns a list of
    failures (strings)."""
    bad = []
    listed = list_names(sess, "/v1/me/access-keys")
    listed.update(list_names(sess, "/v1/organizations/%s/access-keys" % org_id))
    if sample is None:
        chosen = list(keys)
    else:
        # always: this round's keys and every key whose state is uncertain;
        # then a random sample of the rest
        last = max((k.round for k in keys), default=0)
        must = [k for k in keys if k.round == last or k.state == "maybe-deleted" or len(k.names) > 1]
        rest = [k for k in keys if not (k.round == last or k.state == "maybe-deleted" or len(k.names) > 1)]
        chosen = must + rnd.sample(rest, min(len(rest), max(0, sample - len(must))))
    probe = lkserver.Client(srv.url, timeout=10)
    for k in chosen:
        r = probe.get("/v1/whoami", token=k.token)
        if k.state == "maybe-deleted":
            if r.status == 200:
                k.state = "live"
            elif r.status == 401:
                k.state = "deleted"
            else:
                bad.append("key %s (delete in flight): whoami -> %r" % (k.id, r))
                continue
        if k.state == "live":
            if r.status != 200:
                bad.append("LOST: acknowledged key %s (round %d) no longer authenticates: %r"
                           % (k.id, k.round, r))
                continue
            name = listed.get(k.id)
            if name is None:
                bad.append("LOST: acknowledged key %s is not listed" % k.id)
            elif name not in k.names:
                bad.append("key %s is named %r, expected one of %r" % (k.id, name, sorted(k.names)))
            else:
                k.names = {name}
        elif k.state == "deleted":
            if r.status != 401:
                bad.append("RESURRECTED: deleted key %s answers %r" % (k.id, r))
            if k.id in listed:
                bad.append("RESURRECTED: deleted key %s is listed" % k.id)
    probe.close()
    return bad, len(chosen)


def crash_args(ap):
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("LK_CRASH_ROUNDS", "20")))
    ap.add_argument("--seed", type=int, default=None)


def main():
    args = lktestrun.parse_args(__doc__, crash_args)
    problems = lktestrun.preflight(args.backend)
    if problems:
        return lktestrun.refuse("crash", problems)
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rnd = random.Random(seed)
    print("crash: backend %s, %d rounds, %d writers, seed %d" % (args.backend, args.rounds, WRITERS, seed))

    srv = lkserver.Server(backend=args.backend, env={"LATCHKEY_BEARER_FAIL_LIMIT": "100000000"})
    passed = failed = 0
    total_acked = 0
    try:
        srv.start()
        sess = lkserver.new_user(srv.url, email="crash@example.com", password=PASSWORD)
        r = sess.post("/v1/organizations", {"name": "crash org"})
        assert r.status == 201, r
        org_id = r.json["id"]
        writers_keys = [[] for _ in range(WRITERS)]
        lock = threading.Lock()
        for rn in range(1, args.rounds + 1):
            stop = threading.Event()
            ws = []
            for i in range(WRITERS):
                w = Writer(i, srv.url, sess.cookies, sess.csrf, org_id, writers_keys[i], lock, stop,
                           random.Random(rnd.random()))
                w.round_no = rn
                ws.append(w)
            for w in ws:
                w.start()
            time.sleep(rnd.uniform(0.2, 1.5))
            srv.proc.send_signal(signal.SIGKILL)  # the crash
            srv.proc.wait()
            stop.set()
            for w in ws:
                w.join(30)
            acked = sum(w.acked for w in ws)
            total_acked += acked
            problems = [u for w in ws for u in w.unexpected]
            if args.backend == "sqlite":
                res = integrity_check(srv.sqlite_path())
                if res != ["ok"]:
                    problems.append("PRAGMA integrity_check: %r" % res[:5])
            srv.stop()
            srv.port = lkserver.free_port()
            srv.start()
            sess.close()
            sess.port = srv.port
            keys = [k for wk in writers_keys for k in wk]
            bad, checked = verify(srv, sess, org_id, keys, 300, rnd)
            problems += bad
            print("round %2d: killed after %4d acknowledged writes; checked %4d of %5d keys: %s"
                  % (rn, acked, checked, len(keys), "ok" if not problems else "FAIL"))
            for p in problems[:20]:
                print("   ", p)
            if problems:
                failed += 1
            else:
                passed += 1
            sys.stdout.flush()
        # the final, full check of everything ever acknowledged
        keys = [k for wk in writers_keys for k in wk]
        bad, checked = verify(srv, sess, org_id, keys, None, rnd)
        live = sum(1 for k in keys if k.state == "live")
        print("final: %d acknowledged writes in all; %d keys checked (%d live, %d deleted): %s"
              % (total_acked, checked, live, checked - live, "ok" if not bad else "FAIL"))
        for p in bad[:20]:
            print("   ", p)
        if bad:
            failed += 1
        else:
            passed += 1
        # positive control: the checks above can fail. A model that claims a
        # deleted key is live, and a live key under another name, must be
        # reported by verify().
        import copy
        dead = next((k for k in keys if k.state == "deleted"), None)
        alive = next((k for k in keys if k.state == "live"), None)
        if dead is None or alive is None:
            print("control: no deleted or no live key to test the checks with")
            failed += 1
        else:
            d, a = copy.copy(dead), copy.copy(alive)
            d.state = "live"
            a.names = {"never-this-name"}
            bad, _ = verify(srv, sess, org_id, [d, a], None, rnd)
            if len(bad) >= 2:
                passed += 1
                print("control: a wrong model is caught (%d findings)" % len(bad))
            else:
                failed += 1
                print("control: FAIL, a wrong model went unnoticed: %r" % bad)
        if total_acked < args.rounds * 5:
            print("too few acknowledged writes (%d): the test did not exercise anything" % total_acked)
            failed += 1
    except Exception as e:  # noqa: BLE001 — report, then RESULT
        import traceback
        traceback.print_exc()
        print("crash: aborted: %s" % e)
        print(srv.log_text()[-3000:])
        failed += 1
    finally:
        srv.cleanup()
    return lktestrun.report(passed, failed)


if __name__ == "__main__":
    sys.exit(main())
