#!/usr/bin/env python3
"""
run.py — the CLI suite: the real build/latchkey against a real
build/latchkeyd, once per store backend.

    python3 tests/cli/run.py --backend sqlite|pg

Prints unittest's report, then `RESULT <passed> <failed>` as the last line.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", choices=["sqlite", "pg"], default="sqlite")
    args = ap.parse_args()
    os.environ["LK_TEST_BACKEND"] = args.backend
    import clitest  # after the backend is known

    for exe in (clitest.LATCHKEY, clitest.lkserver.LATCHKEYD):
        if not os.access(exe, os.X_OK):
            print("missing %s (build first)" % exe)
            print("RESULT 0 1")
            return 1
    if args.backend == "pg" and not clitest.lkserver.pg_available():
        print("pg backend asked for, but LK_PG_PORT is not set (tests/pg.sh start)")
        print("RESULT 0 1")
        return 1
    passed, failed = clitest.run_suite(args.backend)
    sys.stdout.flush()
    print("RESULT %d %d" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
