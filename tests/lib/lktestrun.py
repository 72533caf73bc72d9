"""
lktestrun.py — the small unittest front end shared by the suites that keep
their tests in tests/<suite>/test_*.py (multinode, migrate): discovery,
-k filters, --backend, and the `RESULT <passed> <failed>` last line that
tests/run.sh reads.
"""
import argparse
import fnmatch
import os
import sys
import unittest


def _iter(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from _iter(t)
        else:
            yield t


class _Result(unittest.TextTestResult):
    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.passed = 0

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed += 1


def main(here, doc):
    ap = argparse.ArgumentParser(description=doc.strip().splitlines()[0])
    ap.add_argument("--backend", choices=("sqlite", "pg"), default="sqlite")
    ap.add_argument("-k", action="append", default=[], help="substring or glob of test ids")
    ap.add_argument("-v", action="store_true")
    args = ap.parse_args()
    os.environ["LK_BACKEND"] = args.backend
    sys.path.insert(0, here)

    if args.backend == "pg" and not os.environ.get("LK_PG_PORT"):
        print("--backend pg needs LK_PG_HOST/LK_PG_PORT/LK_PG_USER (eval \"$(tests/pg.sh start)\")")
        print("RESULT 0 1")
        return 1
    import lkserver
    if not os.access(lkserver.LATCHKEYD, os.X_OK):
        print("no server binary at %s (build it first: make)" % lkserver.LATCHKEYD)
        print("RESULT 0 1")
        return 1

    found = unittest.TestLoader().discover(here, pattern="test_*.py", top_level_dir=here)
    chosen = unittest.TestSuite()
    for t in _iter(found):
        tid = t.id()
        if args.k and not any(k in tid or fnmatch.fnmatch(tid, k) for k in args.k):
            continue
        chosen.addTest(t)
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=2 if args.v else 1,
                                     resultclass=_Result)
    res = runner.run(chosen)
    failed = len(res.failures) + len(res.errors) + len(res.unexpectedSuccesses)
    sys.stdout.flush()
    print("RESULT %d %d" % (res.passed, failed))
    return 0 if failed == 0 and res.passed > 0 else 1
