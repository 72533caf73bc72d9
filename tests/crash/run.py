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

  5. The audit log agrees with the data, whatever the kill interrupted
     (every change and its event are one transaction): per key, its events
     in order are access_key.created, then renames whose "from" is the
     name before, then at most one access_key.deleted, last; a key that is
     listed has its created event and is named as its last rename says; a
     key with a deleted event is gone; a key that is gone (and the model
     knows it was created) has its deleted event. So no surviving change
     lacks its event and no event describes a change that is not there.

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


def all_events(c, path):
    """Every event at path, oldest first (all pages)."""
    out, cursor = [], None
    while True:
        q = path + "?limit=1000" + ("&cursor=" + cursor if cursor else "")
        r = c.get(q)
        if r.status != 200:
            raise AssertionError("list %s -> %r" % (q, r))
        out.extend(r.json["data"])
        cursor = r.json.get("next_cursor")
        if not cursor:
            return list(reversed(out))


def audit_events(sess, org_id):
    """The access-key events of the org's log and of the person's own log."""
    evs = all_events(sess, "/v1/organizations/%s/audit-events" % org_id)
    evs += all_events(sess, "/v1/me/audit-events")
    return [e for e in evs if e["action"].startswith("access_key.")]


def audit_consistency(events, listed, keys):
    """Failures where the audit log and the keys disagree (see step 5)."""
    bad, by_key = [], {}
    for e in events:
        by_key.setdefault(e["target"]["id"], []).append(e)
    for kid, evs in by_key.items():
        if evs[0]["action"] != "access_key.created":
            bad.append("AUDIT: key %s: first event is %s, not access_key.created" % (kid, evs[0]["action"]))
            continue
        name, gone = evs[0]["target"]["name"], False
        for e in evs[1:]:
            if gone:
                bad.append("AUDIT: key %s: %s after access_key.deleted" % (kid, e["action"]))
            elif e["action"] == "access_key.renamed":
                if e["details"].get("from") != name:
                    bad.append("AUDIT: key %s renamed from %r but was %r (an event is missing)"
                               % (kid, e["details"].get("from"), name))
                name = e["details"].get("to")
            elif e["action"] == "access_key.deleted":
                gone = True
        if gone and kid in listed:
            bad.append("AUDIT: key %s has access_key.deleted but still exists" % kid)
        elif not gone and kid not in listed:
            bad.append("AUDIT: key %s is gone without an access_key.deleted event" % kid)
        elif not gone and listed[kid] != name:
            bad.append("AUDIT: key %s is named %r, its events say %r" % (kid, listed[kid], name))
    for kid in listed:
        if kid not in by_key:
            bad.append("AUDIT: key %s exists without an access_key.created event" % kid)
    for k in keys:
        if k.id not in by_key:
            bad.append("AUDIT: acknowledged key %s has no events" % k.id)
    return bad


def audit_check(sess, org_id, keys):
    listed = list_names(sess, "/v1/me/access-keys")
    listed.update(list_names(sess, "/v1/organizations/%s/access-keys" % org_id))
    events = audit_events(sess, org_id)
    return audit_consistency(events, listed, keys), events, listed


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
            problems += audit_check(sess, org_id, keys)[0]
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
        audit_bad, events, listed = audit_check(sess, org_id, keys)
        bad += audit_bad
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
        # the same for the audit check: a log missing one rename, and one
        # with a deleted event for a key that exists, must be reported
        renames = [e for e in events
                   if e["action"] == "access_key.renamed" and e["target"]["id"] in listed]
        lost = [e for e in events if e is not (renames[0] if renames else None)]
        kid = next(iter(listed), None)
        forged = events + [{"action": "access_key.deleted", "target": {"id": kid}, "details": {}}]
        n_lost = len(audit_consistency(lost, listed, keys)) if renames else 0
        n_forged = len(audit_consistency(forged, listed, keys)) if kid else 0
        if n_lost and n_forged:
            passed += 1
            print("control: a log missing an event, and one with an event for a change that "
                  "did not happen, are caught (%d, %d findings); %d events checked"
                  % (n_lost, n_forged, len(events)))
        else:
            failed += 1
            print("control: FAIL, a wrong audit log went unnoticed (%d, %d)" % (n_lost, n_forged))
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
