"""
--metrics-listen: GET /metrics in the Prometheus text format.

  - promtool accepts scrapes taken while several connections load the
    server, and scrapes from several connections at once all succeed;
    counters never go down between two scrapes; afterwards the request
    counter equals the number of requests made;
  - counters move as expected (table-driven): a request to a route adds 1
    to that route's series, a bad key adds 1 to invalid, an expired key to
    expired, a cookie write without its CSRF token to forbidden, keys
    created/deleted, the store histogram of the hot path's op, open
    connections up and down;
  - throttled Bearer failures count as throttled;
  - the metrics are not on the public port; off unless asked for; the
    listener answers 404/405 elsewhere; bad flags refuse to start.
"""
import subprocess
import threading
import time
import unittest

import opsutil
from opsutil import (BACKEND, Client, Server, auth_series, delta, free_port, metrics_server,
                     promtool_check, req_series, scrape, scrape_raw, user_with_key, wait_for)
import lkserver

WHOAMI = ("GET", "/v1/whoami")


class MetricsCase(unittest.TestCase):
    server_args = ()

    @classmethod
    def setUpClass(cls):
        cls.srv = metrics_server(cls.server_args)

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()


class TestScrapeUnderLoad(MetricsCase):
    LOADERS = 6
    SCRAPERS = 3
    SECONDS = 3.0

    def test_promtool_and_totals_during_load(self):
        _, _, token = user_with_key(self.srv)
        before = scrape(self.srv)
        stop = threading.Event()
        made = [0] * self.LOADERS
        errors = []
        scrapes = [[] for _ in range(self.SCRAPERS)]

        def load(i):
            c = Client(self.srv.url, token=token)
            try:
                while not stop.is_set():
                    r = c.get("/v1/whoami")
                    if r.status != 200:
                        errors.append(("load", r.status))
                    made[i] += 1
            finally:
                c.close()

        def scraper(i):
            while not stop.is_set():
                status, headers, body = scrape_raw(self.srv)
                if status != 200:
                    errors.append(("scrape", status))
                    continue
                scrapes[i].append(body)
                time.sleep(0.05)

        threads = [threading.Thread(target=load, args=(i,)) for i in range(self.LOADERS)]
        threads += [threading.Thread(target=scraper, args=(i,)) for i in range(self.SCRAPERS)]
        for t in threads:
            t.start()
        time.sleep(self.SECONDS)
        stop.set()
        for t in threads:
            t.join(60)
        self.assertEqual(errors, [])
        for i in range(self.SCRAPERS):
            self.assertGreaterEqual(len(scrapes[i]), 3, "scraper %d got too few scrapes" % i)
        # promtool on scrapes taken during the load (first, middle, last of each scraper)
        for i in range(self.SCRAPERS):
            for body in (scrapes[i][0], scrapes[i][len(scrapes[i]) // 2], scrapes[i][-1]):
                ok, out = promtool_check(body)
                self.assertTrue(ok, out + "\n" + body[:3000])
        # monotonic: no counter goes down between two scrapes of one connection
        for i in range(self.SCRAPERS):
            prev = None
            for body in scrapes[i]:
                cur = opsutil.parse(body)
                if prev is not None:
                    for k, v in prev.items():
                        if k.startswith("latchkey_open_connections"):
                            continue
                        self.assertGreaterEqual(cur.get(k, 0.0), v, k)
                prev = cur
        after = scrape(self.srv)
        total = sum(made)
        self.assertGreater(total, 100)
        self.assertEqual(delta(before, after, req_series("GET", "/v1/whoami", 200)), total)
        self.assertEqual(delta(before, after, auth_series("ok")), total)
        self.assertGreaterEqual(
            delta(before, after,
                  'latchkey_store_call_duration_seconds_count{op="key_get_by_hash_owner"}'), total)
        self.assertGreaterEqual(delta(before, after, "latchkey_http_request_duration_seconds_count"),
                                total)


class TestCountersMove(MetricsCase):
    def test_each_request_moves_its_counters(self):
        srv = self.srv
        c, key_id, token = user_with_key(srv)
        _, _, short_token = user_with_key(srv, expires_at=lkserver_time(time.time() + 2))
        org = c.post("/v1/organizations", {"name": "metrics org"})
        self.assertEqual(org.status, 201, org)
        org_id = org.json["id"]
        time.sleep(2.2)  # short_token has expired by now
        bad = lkserver.forge_token("o")
        ek = Client(srv.url, token=short_token)  # one connection: one loop thread
        cases = [
            # (what, request, {series: expected delta})
            ("whoami with a key", lambda: Client(srv.url, token=token).get("/v1/whoami"),
             {req_series("GET", "/v1/whoami", 200): 1, auth_series("ok"): 1}),
            ("a bad key", lambda: Client(srv.url, token=bad).get("/v1/whoami"),
             {req_series("GET", "/v1/whoami", 401): 1, auth_series("invalid"): 1}),
            ("no credential", lambda: Client(srv.url).get("/v1/me"),
             {req_series("GET", "/v1/me", 401): 1, auth_series("invalid"): 1}),
            ("an expired key", lambda: ek.get("/v1/whoami"),
             {req_series("GET", "/v1/whoami", 401): 1, auth_series("expired"): 1}),
            ("then a non-Bearer scheme on the same loop",
             lambda: ek.get("/v1/whoami", headers={"Authorization": "Basic eDp5"}),
             {auth_series("invalid"): 1, auth_series("expired"): 0}),
            ("a cookie write without CSRF", lambda: c.patch("/v1/me", {"name": "X"}, csrf=False),
             {req_series("PATCH", "/v1/me", 403): 1, auth_series("forbidden"): 1}),
            ("a route with a param", lambda: c.get("/v1/organizations/%s" % org_id),
             {req_series("GET", "/v1/organizations/{org_id}", 200): 1, auth_series("ok"): 1}),
            ("a public route", lambda: Client(srv.url).get("/healthz"),
             {req_series("GET", "/healthz", 200): 1, auth_series("ok"): 0}),
            ("an unknown API path", lambda: Client(srv.url).get("/v1/nope"),
             {req_series("", "unmatched", 404): 1}),
            ("a wrong method", lambda: Client(srv.url).request("PUT", "/v1/whoami"),
             {req_series("", "unmatched", 405): 1}),
            ("the dashboard", lambda: Client(srv.url).get("/"),
             {req_series("", "dashboard", 200): 1}),
            ("a key created", lambda: c.post("/v1/me/access-keys", {"name": "one more"}),
             {"latchkey_keys_created_total": 1, req_series("POST", "/v1/me/access-keys", 201): 1,
              'latchkey_store_call_duration_seconds_count{op="key_create"}': 1}),
            ("a key deleted", lambda: c.delete("/v1/me/access-keys/%s" % key_id),
             {"latchkey_keys_deleted_total": 1,
              req_series("DELETE", "/v1/me/access-keys/{key_id}", 204): 1}),
            ("a deleted key", lambda: Client(srv.url, token=token).get("/v1/whoami"),
             {auth_series("invalid"): 1, "latchkey_keys_deleted_total": 0}),
        ]
        for what, do, want in cases:
            with self.subTest(what):
                before = scrape(srv)
                r = do()
                after = scrape(srv)
                for series, d in want.items():
                    self.assertEqual(delta(before, after, series), d,
                                     "%s: %s (response %r)" % (what, series, r))

    def test_open_connections_gauge(self):
        # earlier tests' connections are closing: wait until none is open
        gauge = lambda: scrape(self.srv)["latchkey_open_connections"]  # noqa: E731
        self.assertTrue(wait_for(lambda: gauge() == 0), gauge())
        base = 0
        clients = [Client(self.srv.url) for _ in range(5)]
        for c in clients:
            self.assertEqual(c.get("/healthz").status, 200)  # keep-alive: stays open
        self.assertEqual(scrape(self.srv)["latchkey_open_connections"], base + 5)
        for c in clients:
            c.close()
        self.assertTrue(wait_for(lambda: gauge() == base), gauge())


class TestThrottled(MetricsCase):
    server_args = ("--bearer-fail-limit", "3")

    def test_throttled_outcome(self):
        before = scrape(self.srv)
        statuses = [Client(self.srv.url, token=lkserver.forge_token("p")).get("/v1/whoami").status
                    for _ in range(6)]
        after = scrape(self.srv)
        self.assertIn(429, statuses)
        self.assertEqual(delta(before, after, auth_series("throttled")), statuses.count(429))
        self.assertEqual(delta(before, after, auth_series("invalid")), statuses.count(401))
        self.assertEqual(delta(before, after, req_series("GET", "/v1/whoami", 429)),
                         statuses.count(429))


class TestListener(MetricsCase):
    def test_not_on_the_public_port(self):
        for method in ("GET", "HEAD"):
            r = Client(self.srv.url).request(method, "/metrics")
            self.assertNotIn("latchkey_", r.body)
            self.assertNotIn("version=0.0.4", r.header("Content-Type") or "")

    def test_paths_and_methods(self):
        status, headers, body = scrape_raw(self.srv)
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("text/plain; version=0.0.4"), headers)
        self.assertIn('latchkey_build_info{version="', body)
        status, headers, body = scrape_raw(self.srv, method="HEAD")
        self.assertEqual((status, body), (200, ""))
        self.assertEqual(scrape_raw(self.srv, path="/metrics?x=1")[0], 200)
        self.assertEqual(scrape_raw(self.srv, path="/")[0], 404)
        self.assertEqual(scrape_raw(self.srv, path="/v1/whoami")[0], 404)
        status, headers, _ = scrape_raw(self.srv, method="POST")
        self.assertEqual(status, 405)
        self.assertEqual(headers.get("allow"), "GET, HEAD")

    def test_every_documented_metric_is_there(self):
        _, _, body = scrape_raw(self.srv)
        for name in ("latchkey_http_requests_total", "latchkey_http_request_duration_seconds",
                     "latchkey_auth_total", "latchkey_keys_created_total",
                     "latchkey_keys_deleted_total", "latchkey_store_call_duration_seconds",
                     "latchkey_store_errors_total", "latchkey_open_connections",
                     "latchkey_build_info"):
            self.assertIn("# TYPE %s " % name, body)
        for outcome in ("ok", "invalid", "expired", "revoked", "forbidden", "throttled"):
            self.assertIn(auth_series(outcome), body)


class TestFlags(unittest.TestCase):
    def run_server(self, args, env=None, timeout=20):
        srv = Server(backend=BACKEND, args=args, env=env)
        try:
            srv.start(wait=False)
            try:
                srv.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                return None, srv.log_text()
            return srv.proc.returncode, srv.log_text()
        finally:
            srv.cleanup()

    def test_bad_values_refuse_to_start(self):
        port = free_port()
        cases = [
            (["--metrics-listen", "nonsense"], 1, "--metrics-listen"),
            (["--metrics-listen", "127.0.0.1:99999"], 1, "--metrics-listen"),
            (["--metrics-listen", "[::1"], 1, "--metrics-listen"),
            (["--log-format", "xml"], 2, "--log-format must be 'text' or 'json'"),
            (["--log-format"], 2, "needs a value"),
        ]
        for args, want, msg in cases:
            with self.subTest(args=args):
                rc, log = self.run_server(args)
                self.assertEqual(rc, want, log)
                self.assertIn(msg, log)
        # the metrics address may not be the public one
        srv = Server(backend=BACKEND, port=port, args=["--metrics-listen", "127.0.0.1:%d" % port])
        try:
            srv.start(wait=False)
            self.assertEqual(srv.proc.wait(20), 2, srv.log_text())
            self.assertIn("not served on the public port", srv.log_text())
        finally:
            srv.cleanup()

    def test_metrics_port_taken(self):
        import socket
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen(1)
            rc, log = self.run_server(["--metrics-listen", "127.0.0.1:%d" % s.getsockname()[1]])
        self.assertEqual(rc, 1, log)
        self.assertIn("cannot listen on --metrics-listen", log)

    def test_env_variable_and_off_by_default(self):
        mport = free_port()
        srv = Server(backend=BACKEND, env={"LATCHKEY_METRICS_LISTEN": "127.0.0.1:%d" % mport})
        try:
            srv.start()
            srv.metrics_port = mport
            self.assertEqual(scrape_raw(srv)[0], 200)
        finally:
            srv.cleanup()
        srv = Server(backend=BACKEND)
        try:
            srv.start()
            self.assertNotIn("metrics on", srv.log_text())
        finally:
            srv.cleanup()


def lkserver_time(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))
