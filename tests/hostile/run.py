#!/usr/bin/env python3
"""
tests/hostile — latchkeyd under hostile input and load: malformed and
oversized HTTP, slow and idle clients, connection floods, brute force and
enumeration, and a short soak (leaks, RSS, 5xx).

    python3 tests/hostile/run.py --backend sqlite|pg [-k PATTERN] [-v]

Every case is answered with a 4xx or a closed connection, and the server
keeps serving other clients (each test ends by asking a fresh connection).
The last line is `RESULT <passed> <failed>`. The pg backend runs the same
tests (the HTTP layer is the same; throttling and enumeration go through
the store).
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import lktestrun  # noqa: E402

if __name__ == "__main__":
    # test_tls makes its certificate with openssl and checks HTTP/2 with curl
    sys.exit(lktestrun.main(HERE, __doc__, tools=("openssl", "curl")))
