"""
Throttles that cannot be bypassed and do not lock the owner out (issue 13,
holes #2 and #3), with real requests from many loopback source addresses
(every 127.0.0.0/8 address is this host's).

- The table-eviction attack: small throttle tables here
  (LATCHKEY_RATELIMIT_CAPACITY=64, a hidden test variable), an attacker's
  (email, address) window driven over its limit, then a flood of bad
  Bearer tokens and failed logins from hundreds of fresh addresses, more
  than any table holds. Before the fix one shared table evicted the oldest
  window; now each rule has its own table and a window over its limit is
  never evicted: the attacker is still refused afterwards, while the owner
  (another address) still logs in.
- Lockout bound: a stranger's burst of wrong guesses for one email from
  many addresses (so no per-address rule stops it first) makes the email
  rule refuse, but the owner's right password gets in within a minute:
  with the default pace every refusal says Retry-After <= 60, and with the
  pace shortened (LATCHKEY_LOGIN_EMAIL_PACE=2) the owner, waiting what
  Retry-After says, logs in.
"""
import time

import lkserver
from hostile import BACKEND, ServerCase

PASSWORD = "correct horse battery"
PAIR_LIMIT = 10   # failed logins per (email, address) in 15 minutes
EMAIL_BURST = 20  # failed logins per email before the pace
PACE_MAX = 60     # the longest the email rule ever refuses


def addr(i, net=1):
    """The i-th fresh loopback address of block `net` (127.<net>.x.y)."""
    return "127.%d.%d.%d" % (net, (i // 250) % 250, i % 250 + 1)


def login(url, email, password, source):
    c = lkserver.Client(url, source_address=(source, 0), timeout=30)
    try:
        return c.post("/v1/auth/login", {"email": email, "password": password})
    finally:
        c.close()


class Eviction(ServerCase):
    ENV = {"LATCHKEY_RATELIMIT_CAPACITY": "64", "LATCHKEY_BEARER_FAIL_LIMIT": "1000"}

    def test_flood_does_not_reset_a_window_over_its_limit(self):
        owner = lkserver.new_user(self.url)
        attacker = "127.0.0.50"
        statuses = [login(self.url, owner.email, "wrong guess!", attacker).status for _ in range(PAIR_LIMIT + 1)]
        self.assertEqual(statuses[:PAIR_LIMIT], [401] * PAIR_LIMIT, statuses)
        self.assertEqual(statuses[PAIR_LIMIT], 429, statuses)
        # the flood: bad Bearer tokens from 300 fresh addresses (~5 times the table) ...
        for i in range(300):
            c = lkserver.Client(self.url, source_address=(addr(i, 1), 0))
            self.assertEqual(c.get("/v1/whoami", token=lkserver.forge_token("o")).status, 401)
            c.close()
        # ... and failed logins for fresh emails from 150 fresh addresses (fills every login table)
        for i in range(150):
            r = login(self.url, "nobody%d@example.com" % i, "wrong guess!", addr(i, 2))
            self.assertEqual(r.status, 401, r)
        r = login(self.url, owner.email, "wrong guess!", attacker)
        self.assertEqual(r.status, 429, "the flood reset the attacker's window: %r" % r)
        r = login(self.url, owner.email, PASSWORD, attacker)
        self.assertEqual(r.status, 429, "the right password from the throttled address: %r" % r)
        self.assertEqual(login(self.url, owner.email, PASSWORD, "127.0.0.51").status, 200)
        self.assert_serving()


class Lockout(ServerCase):
    ENV = {"LATCHKEY_LOGIN_EMAIL_PACE": "2"}

    def burst(self, url, email):
        """Wrong guesses from fresh addresses (a few each) until the email
        rule refuses; returns that 429."""
        for i in range(EMAIL_BURST * 3):
            r = login(url, email, "stranger's guess", addr(i // 3, 3))
            if r.status == 429:
                return r
            self.assertEqual(r.status, 401, r)
        self.fail("a burst of %d wrong guesses was never refused" % (EMAIL_BURST * 3))

    def test_owner_gets_in_within_a_minute(self):
        owner = lkserver.new_user(self.url)
        refused = self.burst(self.url, owner.email)
        self.assertLessEqual(int(refused.header("Retry-After")), 2, refused.headers)
        start = time.time()
        while True:
            r = login(self.url, owner.email, PASSWORD, "127.0.0.60")
            if r.status == 200:
                break
            self.assertEqual(r.status, 429, r)
            wait = int(r.header("Retry-After"))
            self.assertLessEqual(wait, PACE_MAX, r.headers)
            self.assertLess(time.time() - start + wait, PACE_MAX, "the owner would wait over a minute")
            time.sleep(wait)
        self.assertLess(time.time() - start, PACE_MAX)
        self.assert_serving()

    def test_default_pace_refuses_at_most_a_minute(self):
        srv = lkserver.Server(backend=BACKEND).start()
        try:
            owner = lkserver.new_user(srv.url)
            refused = self.burst(srv.url, owner.email)
            self.assertLessEqual(int(refused.header("Retry-After")), PACE_MAX)
            r = login(srv.url, owner.email, PASSWORD, "127.0.0.61")
            if r.status == 429:
                self.assertLessEqual(int(r.header("Retry-After")), PACE_MAX, r.headers)
            else:
                self.assertEqual(r.status, 200, r)
        finally:
            srv.stop()
            srv.cleanup()
