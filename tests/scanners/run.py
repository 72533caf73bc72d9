#!/usr/bin/env python3
"""
run.py — the secret-scanning suite: contrib/'s rules for git-secrets,
secretlint and gitleaks run (the first two with the real tools) over files of
valid tokens, bad checksums and near-misses; `latchkey keys check` and the
verifier in docs/secret-scanning.md sort the hits.

    python3 tests/scanners/run.py [--backend sqlite] [-k PATTERN]... [-v]

Needs build/latchkey and build/latchkeyd (a real server issues two of the
tokens), git-secrets (apt) and tests/scanners/node_modules (npm ci here; done
on the first run if missing). The store backend does not matter: run it
once. Last line: RESULT <passed> <failed>.
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import lktestrun  # noqa: E402

if __name__ == "__main__":
    if not os.path.isdir(os.path.join(HERE, "node_modules", "secretlint")):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=HERE,
                       stdout=subprocess.DEVNULL, check=False)
    sys.exit(lktestrun.main(HERE, __doc__))
