#!/usr/bin/env python3
"""
run.py — the black-box suite: the real build/latchkeyd over real HTTP,
checked against /work/shared/spec/api.md (the contract), never against the
implementation.

    python3 tests/blackbox/run.py --backend sqlite|pg [-k PATTERN]... [-v]

Discovers tests/blackbox/test_*.py and runs them through tests/lib/lktestrun.py
(the one runner of every Python suite): prints every failure and skip, and
ends with the line `RESULT <passed> <failed>` (errors count as failures;
skipped tests count as neither). Exit 0 only if nothing failed and something
passed. -k keeps tests whose id ("module.Class.test_name") contains PATTERN,
or matches it as a shell glob; several -k are OR-ed.

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
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import lktestrun  # noqa: E402

if __name__ == "__main__":
    sys.exit(lktestrun.main(HERE, __doc__))
