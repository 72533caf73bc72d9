#!/usr/bin/env python3
"""
run.py — the migrate-data suite: `latchkeyd migrate-data` copies a whole
database between backends (SQLite <-> PostgreSQL), checked by serving the
copy with a real latchkeyd and comparing what the API shows.

    python3 tests/migrate/run.py --backend sqlite|pg [-k PATTERN]... [-v]

--backend picks the source; the target is each backend in turn (PostgreSQL
only when tests/pg.sh has exported LK_PG_*). Ends with
`RESULT <passed> <failed>`.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import lktestrun  # noqa: E402

if __name__ == "__main__":
    sys.exit(lktestrun.main(HERE, __doc__))
