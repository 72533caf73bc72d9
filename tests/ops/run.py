#!/usr/bin/env python3
"""
tests/ops — what an operator sees of latchkeyd: the --metrics-listen
endpoint (Prometheus text checked by promtool on scrapes taken during load,
counters that move as requests are made, never on the public port), the
--log-format json access log (every line parses, nothing secret in it) and
X-Request-Id on every response.

    python3 tests/ops/run.py --backend sqlite|pg [-k PATTERN] [-v]

Black-box: the real latchkeyd on free loopback ports, once per store
backend. The last line is `RESULT <passed> <failed>`.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import lktestrun  # noqa: E402

if __name__ == "__main__":
    # promtool: Debian's prometheus package (scripts/deps.sh)
    sys.exit(lktestrun.main(HERE, __doc__, tools=("promtool",)))
