"""
A short soak (LK_SOAK_SECONDS, default 20): mixed traffic from several
client threads — whoami with personal and org keys, project lists, key
create / rename / delete, sessions, bad tokens, 404s — against one server.

Checks: no 5xx, no failed connection, every answer the one expected; the
server's RSS after the warm-up does not grow by more than 5% (normal build;
under ASan the allocator's quarantine makes RSS meaningless, so there the
proof is LeakSanitizer at exit instead: tearDownClass fails on any
sanitizer report or a non-zero exit status). The 10-minute version at 80%
of the measured maximum is bench/soak.sh.
"""
import os
import random
import threading
import time

import lkserver
from hostile import ServerCase

SECONDS = float(os.environ.get("LK_SOAK_SECONDS", "20"))
THREADS = 4
SANITIZED = bool(os.environ.get("SANITIZE"))


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Soak(ServerCase):
    ENV = {"LATCHKEY_BEARER_FAIL_LIMIT": "100000000"}

    def test_soak(self):
        owner = lkserver.new_user(self.url)
        org = owner.post("/v1/organizations", {"name": "soak"}).json["id"]
        prj = owner.post("/v1/organizations/%s/projects" % org, {"name": "p"}).json["id"]
        ptoken = owner.post("/v1/me/access-keys", {"name": "p"}).json["token"]
        otoken = owner.post("/v1/organizations/%s/access-keys" % org, {"name": "o"}).json["token"]
        stop = threading.Event()
        stats = {"requests": 0, "5xx": [], "errors": [], "unexpected": []}
        lock = threading.Lock()

        def worker(seed):
            rnd = random.Random(seed)
            pc = lkserver.Client(self.url, token=ptoken, timeout=30)
            oc = lkserver.Client(self.url, token=otoken, timeout=30)
            mine = []
            n = 0
            while not stop.is_set():
                x = rnd.random()
                try:
                    if x < 0.35:
                        r, want = pc.get("/v1/whoami"), 200
                    elif x < 0.6:
                        r, want = oc.get("/v1/organizations/%s/projects/%s/environments" % (org, prj)), 200
                    elif x < 0.7:
                        r, want = owner_like(pc, org), 200
                    elif x < 0.78:
                        r = pc.post("/v1/organizations/%s/access-keys" % org, {"name": "k%d" % n})
                        want = 201
                        if r.status == 201:
                            mine.append(r.json["id"])
                    elif x < 0.83 and mine:
                        r, want = pc.patch("/v1/organizations/%s/access-keys/%s" % (org, rnd.choice(mine)),
                                           {"name": "r%d" % n}), 200
                    elif x < 0.91 and mine:
                        kid = mine.pop(rnd.randrange(len(mine)))
                        r, want = pc.delete("/v1/organizations/%s/access-keys/%s" % (org, kid)), 204
                    elif x < 0.95:
                        r, want = pc.get("/v1/whoami", token=lkserver.forge_token("p")), 401
                    else:
                        r, want = pc.get("/v1/organizations/org_%s" % ("Z" * 20)), 404
                except OSError as e:
                    with lock:
                        stats["errors"].append(repr(e))
                    pc.close()
                    oc.close()
                    continue
                n += 1
                with lock:
                    stats["requests"] += 1
                    if r.status >= 500:
                        stats["5xx"].append(repr(r))
                    elif r.status != want:
                        stats["unexpected"].append("want %d: %r" % (want, r))
            pc.close()
            oc.close()

        def owner_like(c, org_id):
            return c.get("/v1/organizations/%s/access-keys?limit=20" % org_id)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
        for t in threads:
            t.start()
        pid = self.srv.proc.pid
        warm = max(3.0, SECONDS * 0.25)
        time.sleep(warm)
        rss0 = rss_kb(pid)
        samples = [rss0]
        end = time.time() + SECONDS - warm
        while time.time() < end:
            time.sleep(1)
            samples.append(rss_kb(pid))
        stop.set()
        for t in threads:
            t.join(60)
        # RSS saws (measured: +1.8 MB over ~10 s, then -2.2 MB at once, about
        # 15 s into the run, in anonymous memory; the cause is not pinned down
        # — LeakSanitizer finds no leak in this test under ASan), so the first
        # and the last sample depend on the phase. A leak raises the troughs:
        # compare the lowest of the first five samples after warm-up with the
        # lowest of the last five.
        rss0 = min(samples[:5])
        rss1 = min(samples[-5:])
        growth = (rss1 - rss0) * 100.0 / max(rss0, 1)
        print("\nsoak: %d requests in %.0f s by %d threads; RSS %d kB -> %d kB (%+.1f%%, max %d kB)%s\n  samples: %r"
              % (stats["requests"], SECONDS, THREADS, rss0, rss1, growth, max(samples),
                 " [ASan: RSS not judged]" if SANITIZED else "", samples))
        self.assertEqual(stats["5xx"], [], "5xx answers")
        self.assertEqual(stats["errors"], [], "failed connections")
        self.assertEqual(stats["unexpected"][:5], [], "unexpected answers")
        self.assertGreater(stats["requests"], 100, "the soak did not run")
        if not SANITIZED:
            self.assertLess(growth, 5.0, "RSS grew by %.1f%% after warm-up (%r)" % (growth, samples))
        self.assert_serving()
