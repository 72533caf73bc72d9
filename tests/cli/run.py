#!/usr/bin/env python3
"""
run.py — the CLI suite: the real build/latchkey against a real
build/latchkeyd, once per store backend.

    python3 tests/cli/run.py --backend sqlite|pg [-k PATTERN]... [-v]

Runs tests/cli/test_*.py through tests/lib/lktestrun.py (the one runner of
every Python suite); the last line is `RESULT <passed> <failed>`.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import lkserver  # noqa: E402
import lktestrun  # noqa: E402

if __name__ == "__main__":
    sys.exit(lktestrun.main(HERE, __doc__, binaries=(lkserver.LATCHKEY,)))
