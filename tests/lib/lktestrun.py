"""
lktestrun.py — the one front end of every Python test suite (tests/<suite>/run.py).

The protocol every suite speaks, and tests/run.sh reads (its `suite_result`):

  - `--backend sqlite|pg` picks the store backend; it is exported as LK_BACKEND, the one name
    every test module reads (never another variable).
  - The last line printed is `RESULT <passed> <failed>` (report()). Errors count as failures,
    skipped tests as neither; a run that passed nothing is a failure (exit 1).
  - A suite that cannot run — its server binary, a tool (openssl, curl, pg_dump...), a Python
    module (yaml) or the PostgreSQL server for --backend pg missing — says what is missing and
    how to get it, and reports `RESULT 0 1` (preflight()). It never skips silently.

Suites whose tests are unittest modules (tests/<suite>/test_*.py) call main(); suites with their
own loop (routes, crash) call parse_args(), preflight() and report() themselves.
"""
import argparse
import fnmatch
import importlib.util
import os
import shutil
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lkserver  # noqa: E402

# PostgreSQL client programs the pg backend needs (fresh databases, dumps).
PG_TOOLS = ("createdb", "dropdb", "pg_dump")


def parse_args(doc, extra=None):
    """The common flags (--backend, -k, -v, --failfast), plus extra(ap) for a suite's own.
    Exports LK_BACKEND."""
    ap = argparse.ArgumentParser(description=doc.strip().splitlines()[0])
    ap.add_argument("--backend", choices=("sqlite", "pg"), default="sqlite")
    ap.add_argument("-k", action="append", default=[], help="substring or glob of test ids")
    ap.add_argument("-v", action="store_true", help="one line per test")
    ap.add_argument("--failfast", action="store_true")
    if extra:
        extra(ap)
    args = ap.parse_args()
    os.environ["LK_BACKEND"] = args.backend
    return args


def preflight(backend, binaries=(), tools=(), modules=()):
    """What this suite needs and does not have, as a list of messages (empty: ready).
    The server binary is always needed; binaries adds others (e.g. the CLI)."""
    missing = []
    for exe in (lkserver.LATCHKEYD,) + tuple(binaries):
        if not os.access(exe, os.X_OK):
            missing.append("no executable at %s (build it first: make)" % exe)
    for tool in tools:
        if shutil.which(tool) is None:
            missing.append("the %s command is not installed (scripts/deps.sh installs it)" % tool)
    for mod in modules:
        if importlib.util.find_spec(mod) is None:
            missing.append("the Python module %s is not installed (scripts/deps.sh installs it)" % mod)
    if backend == "pg":
        if not lkserver.pg_available():
            missing.append("--backend pg needs LK_PG_HOST/LK_PG_PORT/LK_PG_USER "
                           "(eval \"$(tests/pg.sh start)\")")
        for tool in PG_TOOLS:
            p = lkserver.pg_bin(tool)
            if not (os.path.isabs(p) and os.access(p, os.X_OK)) and shutil.which(p) is None:
                missing.append("PostgreSQL's %s is not installed (apt-get install postgresql)" % tool)
    return missing


def report(passed, failed):
    """Print the closing `RESULT <passed> <failed>` line; the exit status to return."""
    sys.stdout.flush()
    print("RESULT %d %d" % (passed, failed))
    sys.stdout.flush()
    return 0 if failed == 0 and passed > 0 else 1


def refuse(suite, problems):
    """A suite that cannot run: every reason on its own line, then one failure."""
    for p in problems:
        print("%s: cannot run: %s" % (suite, p))
    return report(0, 1)


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


def _choose(here, patterns):
    """The discovered tests whose id matches a -k pattern (all without -k). Modules that fail
    to import are always kept: they run as a failing test."""
    found = unittest.TestLoader().discover(here, pattern="test_*.py", top_level_dir=here)
    chosen, n = unittest.TestSuite(), 0
    for t in _iter(found):
        tid = t.id()
        if not tid.startswith("unittest.loader._FailedTest"):
            if patterns and not any(k in tid or fnmatch.fnmatch(tid, k) for k in patterns):
                continue
            n += 1
        chosen.addTest(t)
    return chosen, n


def run_unittest(here, args):
    """Discover tests/<suite>/test_*.py, run them, print failures and skips; (passed, failed)."""
    chosen, n = _choose(here, args.k)
    if chosen.countTestCases() == 0:
        print("no tests match %r" % (args.k,))
        return 0, 1
    t0 = time.time()
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=2 if args.v else 1,
                                     resultclass=_Result, failfast=args.failfast)
    res = runner.run(chosen)
    failed = len(res.failures) + len(res.errors) + len(res.unexpectedSuccesses)
    print()
    if failed:
        print("FAILED (%s backend):" % args.backend)
        for t, _ in res.failures + res.errors:
            print("  " + (t.id() if hasattr(t, "id") else str(t)))
    for t, why in res.skipped:
        print("skipped %s: %s" % (t.id(), why))
    print("%d passed, %d failed, %d skipped in %.1fs (%s)" %
          (res.passed, failed, len(res.skipped), time.time() - t0, args.backend))
    return res.passed, failed


def main(here, doc, binaries=(), tools=(), modules=()):
    """The whole run of a unittest suite in directory here; returns the exit status."""
    args = parse_args(doc)
    sys.path.insert(0, here)
    problems = preflight(args.backend, binaries, tools, modules)
    if problems:
        return refuse(os.path.basename(here), problems)
    return report(*run_unittest(here, args))
