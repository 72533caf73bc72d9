#!/usr/bin/env python3
"""
run.py — the multi-node suite: several real latchkeyd processes on one
database (one SQLite file, or one PostgreSQL database), checked from the
outside over HTTP.

    python3 tests/multinode/run.py --backend sqlite|pg [-k PATTERN]... [-v]

Runs tests/multinode/test_*.py with unittest, prints every failure and ends
with `RESULT <passed> <failed>` (errors count as failures, skips as
neither). With --backend pg, tests/pg.sh must have exported LK_PG_*.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import lktestrun  # noqa: E402

if __name__ == "__main__":
    sys.exit(lktestrun.main(HERE, __doc__))
