"""
corpus.py — the files the scanners are run over, made fresh for each run.

Three kinds of candidate, one candidate per line, so that a scanner's hits
can be compared line by line with what is expected:

  valid    well-formed tokens whose checksum holds, in the contexts tokens
           leak in (.env, shell, JSON, YAML, headers, URLs, punctuation);
           among them tokens issued by a real latchkeyd. Every scanner must
           flag them; `latchkey keys check` must accept them.
  badsum   the right shape with a wrong checksum (a changed check digit, a
           typo, a transposition). Every scanner flags them (a regex cannot
           compute a CRC32); `latchkey keys check` must reject them.
  near     near-misses: wrong prefix, 37 or 39 characters, glued to longer
           words, a first check digit a CRC32 can never produce, a character
           outside base62. No scanner may flag them.

Tokens not issued by a server are made with tests/lib/lkserver.forge_token
(the published algorithm, written independently of src/common/token.c);
tests check each one with the real `latchkey keys check`. The random parts
come from random.Random(seed): LK_SCAN_SEED=N reproduces a run.
"""
import os
import random

import lkserver

BASE62 = lkserver.BASE62
VALID, BADSUM, NEAR = "valid", "badsum", "near"


class Case:
    """One line of a corpus file: its text and the candidate it holds."""

    def __init__(self, kind, label, candidate, line):
        assert kind in (VALID, BADSUM, NEAR)
        assert candidate in line
        self.kind, self.label, self.candidate, self.line = kind, label, candidate, line

    def __repr__(self):
        return "<%s %s: %r>" % (self.kind, self.label, self.line)


class Corpus:
    """The generated files: files[name] = [Case, ...] (line i+1 is Case i)."""

    def __init__(self, seed, real_tokens):
        self.seed = seed
        self.rng = random.Random(seed)
        self.files = {
            "leaks.env": self._valid(real_tokens),
            "typos.txt": self._badsum(),
            "lookalikes.md": self._near(),
        }

    # --- building blocks ---
    def _random_part(self):
        return "".join(self.rng.choice(BASE62) for _ in range(32))

    def token(self, kind="o", check_starts=None):
        """A valid token; check_starts forces the first check digit."""
        while True:
            r = self._random_part()
            if check_starts is None or lkserver.token_checksum(r)[0] == check_starts:
                return lkserver.forge_token(kind, r)

    def _valid(self, real_tokens):
        t = self.token
        cases = [
            ("bare", "%s", t("o")),
            ("dotenv", "LATCHKEY_TOKEN=%s", t("p")),
            ("shell export", 'export LATCHKEY_TOKEN="%s"', t("o")),
            ("json", '{"name": "ci", "token": "%s"}', t("o")),
            ("yaml", "  token: '%s'", t("p")),
            ("header", 'curl -H "Authorization: Bearer %s" https://lk.example/v1/whoami', t("o")),
            ("url userinfo", "https://ci:%s@lk.example/v1/whoami", t("p")),
            ("punctuation", "(the key was %s).", t("o")),
            ("tab and hyphen", "\tkey:\t%s-old", t("p")),
            ("check digit 0", "x = %s", t("o", check_starts="0")),
            ("check digit 4", "x = %s", t("p", check_starts="4")),
        ]
        cases += [("issued by latchkeyd (%s)" % tok[:3], "LATCHKEY_TOKEN=%s", tok)
                  for tok in real_tokens]
        return [Case(VALID, label, tok, fmt % tok) for label, fmt, tok in cases]

    def _badsum(self):
        out = []
        good = self.token("o")
        out.append(("last check digit changed", lkserver.forge_token("o", good[4:36], checksum=False)))
        tok = self.token("p")
        i = self.rng.randrange(4, 36)
        typo = BASE62[(BASE62.index(tok[i]) + 1) % 62]
        out.append(("typo in the random part", tok[:i] + typo + tok[i + 1:]))
        tok = self.token("o")
        i = next(j for j in range(4, 35) if tok[j] != tok[j + 1])
        out.append(("two characters swapped", tok[:i] + tok[i + 1] + tok[i] + tok[i + 2:]))
        tok = self.token("p")
        out.append(("random part of another token", tok[:4] + self._random_part() + tok[36:]))
        return [Case(BADSUM, label, c, "SECRET=%s" % c) for label, c in out]

    def _near(self):
        t = self.token
        tok = t("o")
        cases = [
            ("upper-case prefix", "LKO_" + tok[4:]),
            ("prefix lkx_", "lkx_" + tok[4:]),
            ("prefix lk_", "lk_" + tok[4:]),
            ("hyphen prefix", "lko-" + tok[4:]),
            ("invitation prefix", "lki_" + tok[4:]),
            ("37 characters after the prefix", t("p")[:-1]),
            ("39 characters after the prefix", t("o") + self.rng.choice(BASE62)),
            ("glued to a word before", "x" + t("o")),
            ("glued to a digit before", "9" + t("p")),
            ("glued to an underscore before", "_" + t("o")),
            ("glued to _suffix after", t("p") + "_v2"),
            ("check digit 5..z", tok[:36] + self.rng.choice(BASE62[5:]) + tok[37:]),
            ("character outside base62", tok[:20] + "-" + tok[21:]),
        ]
        return [Case(NEAR, label, c, "see %s here" % c) for label, c in cases]

    # --- results ---
    def write(self, directory):
        """Write every file into directory (the last line without a newline)."""
        for name, cases in self.files.items():
            with open(os.path.join(directory, name), "w") as f:
                f.write("\n".join(c.line for c in cases))

    def cases(self):
        return [c for cases in self.files.values() for c in cases]

    def expected_hits(self):
        """{(file, line number)} that a scanner must flag: valid and badsum."""
        return {(name, i + 1) for name, cases in self.files.items()
                for i, c in enumerate(cases) if c.kind != NEAR}

    def case_at(self, name, lineno):
        return self.files[name][lineno - 1]
