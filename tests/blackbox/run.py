#!/usr/bin/env python3
"""
run.py — the black-box suite: the real build/latchkeyd over real HTTP,
checked against /work/shared/spec/api.md (the contract), never against the
implementation.

    python3 tests/blackbox/run.py --backend sqlite|pg [-k PATTERN]... [-v]

Discovers tests/blackbox/test_*.py, runs them with unittest, prints every
failure, and ends with the line `RESULT <passed> <failed>` (errors count as
failures; skipped tests count as neither). Exit 0 only if nothing failed and
something passed. -k keeps tests whose id ("module.Class.test_name")
contains PATTERN, or matches it as a shell glob; several -k are OR-ed.

Modules (each opens with what it covers):
  test_authz        the "Who may do what" table, generated: every operation x
                    7 credential kinds; "own only"; whoami per credential
  test_auth         signup/login/logout/session, cookie flags, CSRF, closed
                    signup, login throttling
  test_tokens       every malformed/forged/revoked Authorization; token format
  test_keys         key shape, token once, redacted, revocation, expiry,
                    membership changes, two processes on one store
  test_resources    me, orgs, members (404/409/last member), projects,
                    environments, billing; unknown and wrongly-typed IDs
  test_input        bad bodies x every body endpoint: JSON, UTF-8, types,
                    names 0/100/101 (multibyte), control chars, 415, 413
  test_http         healthz/readyz, 404/405, path tricks, raw protocol abuse
  test_pagination   limit/cursor on every list, walks, stability, >1000 items
  test_persistence  SIGTERM/SIGKILL durability, last_used_at, no secrets in
                    the store or the log
  test_races        concurrent signups/adds/removals/deletes
  test_process      flags, env vars, startup failures
Server bugs found so far: tests/blackbox/KNOWN_FAILURES.md.

With --backend pg, tests/pg.sh must have exported LK_PG_HOST/LK_PG_PORT/
LK_PG_USER; tests/lib/lkserver.py creates a fresh database per server.
"""
import argparse
import fnmatch
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "lib"))


def iter_tests(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from iter_tests(t)
        else:
            yield t


class Result(unittest.TextTestResult):
    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.passed = 0
        self.started = {}

    def startTest(self, test):
        self.started[test.id()] = time.time()
        super().startTest(test)

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed += 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("--backend", choices=("sqlite", "pg"), default="sqlite")
    ap.add_argument("-k", action="append", default=[], help="substring or glob of test ids")
    ap.add_argument("-v", action="store_true", help="one line per test")
    ap.add_argument("--failfast", action="store_true")
    args = ap.parse_args()

    os.environ["LK_BACKEND"] = args.backend
    if args.backend == "pg" and not os.environ.get("LK_PG_PORT"):
        print("--backend pg needs LK_PG_HOST/LK_PG_PORT/LK_PG_USER (eval \"$(tests/pg.sh start)\")")
        print("RESULT 0 1")
        return 1

    import lkserver
    if not os.access(lkserver.LATCHKEYD, os.X_OK):
        print("no server binary at %s (build it first: make)" % lkserver.LATCHKEYD)
        print("RESULT 0 1")
        return 1

    loader = unittest.TestLoader()
    discovered = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    chosen = unittest.TestSuite()
    n = 0
    load_errors = 0
    for t in iter_tests(discovered):
        tid = t.id()
        if tid.startswith("unittest.loader._FailedTest"):
            load_errors += 1
            chosen.addTest(t)
            continue
        if args.k and not any(k in tid or fnmatch.fnmatch(tid, k) for k in args.k):
            continue
        chosen.addTest(t)
        n += 1
    if n == 0 and not load_errors:
        print("no tests match %r" % args.k)
        print("RESULT 0 1")
        return 1

    t0 = time.time()
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=2 if args.v else 1,
                                     resultclass=Result, failfast=args.failfast)
    res = runner.run(chosen)
    failed = len(res.failures) + len(res.errors) + len(res.unexpectedSuccesses)
    print()
    if failed:
        print("FAILED (%s backend):" % args.backend)
        for t, _ in res.failures + res.errors:
            print("  " + t.id() if hasattr(t, "id") else "  " + str(t))
    print("%d passed, %d failed, %d skipped in %.1fs (%s)" %
          (res.passed, failed, len(res.skipped), time.time() - t0, args.backend))
    print("RESULT %d %d" % (res.passed, failed))
    return 0 if failed == 0 and res.passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
