"""
test_scanners.py — the secret-scanning support of docs/secret-scanning.md
with the real tools: Debian's git-secrets, npm's secretlint with
@secretlint/secretlint-rule-pattern (pinned in package.json), the gitleaks
rule's regex under Python's re (no gitleaks binary is packaged for Debian),
the doc's Python verifier, and the real `latchkey keys check`.

Each scanner runs over the corpus (corpus.py) and must flag exactly the
valid and bad-checksum lines, none of the near-misses; then `latchkey keys
check` must accept exactly the valid hits. Tokens issued by a real latchkeyd
are part of the corpus.
"""
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import tomllib
import unittest
import zlib

import lkserver
from corpus import BADSUM, NEAR, VALID, Corpus

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = lkserver.ROOT
CONTRIB = os.path.join(ROOT, "contrib")
DOC = os.path.join(ROOT, "docs", "secret-scanning.md")
SECRETLINT = os.path.join(HERE, "node_modules", ".bin", "secretlint")
RULE_SUBSTR = "[0-9A-Za-z]{32}[0-4][0-9A-Za-z]{5}"
TOOL_TIMEOUT = 120

CORPUS = None
CORPUS_DIR = None


def issue_real_tokens():
    """An organization token and a personal token from a real latchkeyd."""
    srv = lkserver.Server(backend="sqlite").start()
    try:
        c = lkserver.new_user(srv.url)
        org = c.post("/v1/organizations", {"name": "Scanned"})
        assert org.status == 201, org
        ok = c.post("/v1/organizations/%s/access-keys" % org.json["id"], {"name": "ci"})
        pk = c.post("/v1/me/access-keys", {"name": "laptop"})
        assert ok.status == 201 and pk.status == 201, (ok, pk)
        return [ok.json["token"], pk.json["token"]]
    finally:
        srv.stop()
        srv.cleanup()


def setUpModule():
    global CORPUS, CORPUS_DIR
    seed = int(os.environ.get("LK_SCAN_SEED") or secrets.randbits(32))
    print("scanners: corpus seed %d (LK_SCAN_SEED=%d reproduces it)" % (seed, seed), file=sys.stderr)
    CORPUS = Corpus(seed, issue_real_tokens())
    CORPUS_DIR = tempfile.mkdtemp(prefix="lk-scan-")
    CORPUS.write(CORPUS_DIR)


def tearDownModule():
    if CORPUS_DIR:
        shutil.rmtree(CORPUS_DIR, ignore_errors=True)


def keys_check(token):
    """The real CLI, offline, the token on stdin: (ok, kind)."""
    p = subprocess.run([lkserver.LATCHKEY, "--json", "keys", "check", "-"], input=token,
                       capture_output=True, text=True, timeout=TOOL_TIMEOUT)
    assert p.returncode in (0, 1), p
    return p.returncode == 0, json.loads(p.stdout).get("kind")


def doc_block(lang):
    """The first fenced block of lang in the doc, and the one after the
    heading 'The regular expression' for lang ''."""
    text = open(DOC).read()
    if lang == "regex":
        text = text.split("## The regular expression", 1)[1]
        lang = ""
    m = re.search(r"^```%s\n(.*?)^```" % lang, text, re.S | re.M)
    assert m, "no ```%s block in %s" % (lang, DOC)
    return m.group(1)


def doc_verifier():
    """The doc's Python verifier, executed as written."""
    ns = {}
    exec(compile(doc_block("python"), DOC, "exec"), ns)
    return ns


def gitleaks_rule():
    with open(os.path.join(CONTRIB, "gitleaks.toml"), "rb") as f:
        cfg = tomllib.load(f)
    rules = [r for r in cfg["rules"] if r["id"] == "latchkey-access-key"]
    assert len(rules) == 1, cfg
    return cfg, rules[0]


def git_secrets_pattern():
    with open(os.path.join(CONTRIB, "git-secrets.patterns")) as f:
        lines = [ln for ln in f.read().splitlines() if ln.strip()]
    assert len(lines) == 1, lines
    return lines[0]


def secretlint_pattern():
    with open(os.path.join(CONTRIB, "secretlintrc.json")) as f:
        cfg = json.load(f)
    (rule,) = [r for r in cfg["rules"] if r["id"] == "@secretlint/secretlint-rule-pattern"]
    (p,) = rule["options"]["patterns"]
    m = re.fullmatch(r"/(.*)/([a-z]*)", p["pattern"])
    assert m, p
    return m.group(1), m.group(2)


def base62_6(v):
    """v as 6 big-endian base62 digits (the check's encoding)."""
    digits = ""
    for _ in range(6):
        v, d = divmod(v, 62)
        digits = lkserver.BASE62[d] + digits
    return digits


class Base(unittest.TestCase):
    maxDiff = None

    def assert_hits(self, hits, tool):
        """hits: {(file, line)}; must be exactly the valid and badsum lines."""
        expected = CORPUS.expected_hits()
        missed = [CORPUS.case_at(*h) for h in sorted(expected - hits)]
        extra = [CORPUS.case_at(*h) for h in sorted(hits - expected)]
        self.assertEqual((missed, extra), ([], []),
                         "%s (seed %d): missed %r, flagged %r" % (tool, CORPUS.seed, missed, extra))

    def assert_triage(self, matched):
        """matched: {(file, line): token text the scanner reported}. keys
        check must accept exactly the valid ones (true hits)."""
        for (name, lineno), tok in sorted(matched.items()):
            case = CORPUS.case_at(name, lineno)
            self.assertEqual(tok, case.candidate, case)
            ok, kind = keys_check(tok)
            self.assertEqual(ok, case.kind == VALID, "keys check on %r" % case)
            self.assertEqual(kind, "organization" if tok.startswith("lko_") else "personal")

    def git(self, repo, *args, check=True):
        env = dict(os.environ, HOME=repo, GIT_CONFIG_NOSYSTEM="1", LC_ALL="C",
                   GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com",
                   GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com")
        p = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True,
                           timeout=TOOL_TIMEOUT)
        if check:
            self.assertEqual(p.returncode, 0, p)
        return p

    def new_repo(self):
        self.assertTrue(shutil.which("git-secrets"), "git-secrets is not installed (scripts/deps.sh)")
        repo = tempfile.mkdtemp(prefix="lk-scan-git-")
        self.addCleanup(shutil.rmtree, repo, True)
        self.git(repo, "init", "-q", "-b", "main")
        for name in CORPUS.files:
            shutil.copy(os.path.join(CORPUS_DIR, name), repo)
        return repo


class TestFormat(Base):
    def test_corpus_tokens_agree_with_keys_check(self):
        # the forged tokens follow the real algorithm (src/common/token.c)
        for c in CORPUS.cases():
            ok, _ = keys_check(c.candidate)
            self.assertEqual(ok, c.kind == VALID, c)

    def test_doc_verifier_agrees_with_keys_check(self):
        v = doc_verifier()
        for c in CORPUS.cases():
            self.assertEqual(v["is_latchkey_token"](c.candidate), c.kind == VALID, c)
        text = "\n".join(c.line for c in CORPUS.cases())
        self.assertEqual(v["find_latchkey_tokens"](text),
                         [c.candidate for c in CORPUS.cases() if c.kind == VALID])
        real = [c.candidate for c in CORPUS.cases() if c.label.startswith("issued by")]
        self.assertEqual(len(real), 2)
        self.assertTrue(all(v["is_latchkey_token"](t) for t in real))

    def test_worked_example(self):
        text = open(DOC).read()
        good = "lko_AbC1defGhijKLmnOPqrSTuvWXyz012341Ilz5N"
        self.assertIn(good, text)
        self.assertEqual(keys_check(good), (True, "organization"))
        self.assertEqual(keys_check("lkp_" + good[4:]), (True, "personal"))
        self.assertEqual(keys_check(good[:-1] + "M")[0], False)
        crc = zlib.crc32(good[4:36].encode())
        self.assertIn("`0x%08X` = %s" % (crc, format(crc, ",")), text)
        self.assertEqual(doc_verifier()["latchkey_checksum"](good[4:36]), "1Ilz5N")
        # the smallest and largest checks the doc names: 0 and 2**32-1
        for check, value in (("000000", 0), ("4gfFC3", 0xFFFFFFFF)):
            self.assertIn("`%s`" % check, text)
            self.assertEqual(base62_6(value), check)

    def test_one_regex_everywhere(self):
        doc_re = doc_block("regex").strip()
        self.assertEqual(doc_re, r"\blk[op]_" + RULE_SUBSTR + r"\b")
        self.assertIn(doc_re, doc_block("python"))
        _, rule = gitleaks_rule()
        self.assertEqual(rule["regex"].replace("(", "").replace(")", ""), doc_re)
        self.assertEqual(r"\b" + git_secrets_pattern() + r"\b", doc_re)
        self.assertEqual(secretlint_pattern()[0], doc_re)


class TestGitleaksRule(Base):
    """No gitleaks binary here: the rule's shape, and its regex run by Python."""

    def test_rule_shape(self):
        cfg, rule = gitleaks_rule()
        self.assertEqual(cfg["extend"], {"useDefault": True})
        self.assertEqual(rule["secretGroup"], 1)
        self.assertEqual(sorted(rule["keywords"]), ["lko_", "lkp_"])
        self.assertNotIn("entropy", rule)
        self.assertEqual(re.compile(rule["regex"]).groups, 1)

    def test_regex_in_the_re2_common_subset(self):
        # RE2 has no look-around, back-references or possessive/atomic groups
        _, rule = gitleaks_rule()
        for banned in ("(?=", "(?!", "(?<", "(?>", "(?P=", "*+", "++", "?+", "}+"):
            self.assertNotIn(banned, rule["regex"])
        self.assertIsNone(re.search(r"\\[1-9]", rule["regex"]))
        self.assertIsNone(re.search(r"\\[^bd\[\]]", rule["regex"].replace("\\b", "")))

    def test_regex_over_corpus(self):
        _, rule = gitleaks_rule()
        rx = re.compile(rule["regex"], re.ASCII)
        hits, matched = set(), {}
        for name, cases in CORPUS.files.items():
            text = open(os.path.join(CORPUS_DIR, name)).read()
            for m in rx.finditer(text):
                lineno = text.count("\n", 0, m.start()) + 1
                hits.add((name, lineno))
                matched[(name, lineno)] = m.group(rule["secretGroup"])
        self.assert_hits(hits, "gitleaks regex")
        self.assert_triage(matched)


class TestGitSecrets(Base):
    """Debian's git-secrets with contrib/git-secrets.patterns."""

    def parse(self, stderr):
        """Its report lines are FILE:LINE:TEXT; {(file, line)}."""
        hits = set()
        for ln in stderr.splitlines():
            m = re.match(r"([\w.]+):(\d+):", ln)
            if m and m.group(1) in CORPUS.files:
                hits.add((m.group(1), int(m.group(2))))
        return hits

    def triage(self, hits):
        self.assert_triage({h: CORPUS.case_at(*h).candidate for h in hits})

    def test_add_and_scan_tracked_files(self):
        repo = self.new_repo()
        self.git(repo, "secrets", "--add", git_secrets_pattern())
        self.git(repo, "add", ".")
        p = self.git(repo, "secrets", "--scan", check=False)
        self.assertEqual(p.returncode, 1, p)
        self.assertIn("Matched one or more prohibited patterns", p.stderr)
        hits = self.parse(p.stderr)
        self.assert_hits(hits, "git secrets --scan")
        self.triage(hits)

    def test_provider_and_scan_named_files(self):
        repo = self.new_repo()
        self.git(repo, "secrets", "--add-provider", "--", "cat",
                 os.path.join(CONTRIB, "git-secrets.patterns"))
        p = self.git(repo, "secrets", "--scan", *CORPUS.files, check=False)
        self.assertEqual(p.returncode, 1, p)
        hits = self.parse(p.stderr)
        self.assert_hits(hits, "git secrets --scan FILE...")
        self.triage(hits)

    def test_near_misses_alone_pass(self):
        repo = self.new_repo()
        self.git(repo, "secrets", "--add", git_secrets_pattern())
        p = self.git(repo, "secrets", "--scan", "lookalikes.md", check=False)
        self.assertEqual(p.returncode, 0, p)

    def test_commit_hook_refuses_a_token(self):
        repo = self.new_repo()
        self.git(repo, "secrets", "--add", git_secrets_pattern())
        self.git(repo, "secrets", "--install")
        self.git(repo, "add", "lookalikes.md")
        self.git(repo, "commit", "-q", "-m", "near-misses only")
        self.git(repo, "add", "leaks.env")
        p = self.git(repo, "commit", "-q", "-m", "a leak", check=False)
        self.assertNotEqual(p.returncode, 0, p)
        self.assertIn("leaks.env:1:", p.stderr)
        log = self.git(repo, "log", "--format=%s").stdout.split()
        self.assertEqual(log, ["near-misses", "only"])


class TestSecretlint(Base):
    """npm's secretlint + @secretlint/secretlint-rule-pattern with
    contrib/secretlintrc.json."""

    def run_secretlint(self, files):
        self.assertTrue(os.access(SECRETLINT, os.X_OK),
                        "secretlint is not installed: cd tests/scanners && npm ci")
        # secretlint (globby) accepts only paths below its working directory
        p = subprocess.run([SECRETLINT, "--secretlintrc", os.path.join(CONTRIB, "secretlintrc.json"),
                            "--format", "json", "--no-color", *files], cwd=CORPUS_DIR,
                           capture_output=True, text=True, timeout=TOOL_TIMEOUT)
        return p, json.loads(p.stdout) if p.stdout.strip() else []

    def test_scan(self):
        p, report = self.run_secretlint(list(CORPUS.files))
        self.assertEqual(p.returncode, 1, p)
        hits, matched = set(), {}
        for f in report:
            name = os.path.basename(f["filePath"])
            for msg in f["messages"]:
                self.assertEqual(msg["ruleId"], "@secretlint/secretlint-rule-pattern")
                h = (name, msg["loc"]["start"]["line"])
                self.assertNotIn(h, hits, "two hits on one line: %r" % msg)
                hits.add(h)
                matched[h] = msg["data"]["CREDENTIAL"]
                self.assertEqual(f["sourceContent"][msg["range"][0]:msg["range"][1]], matched[h])
        self.assert_hits(hits, "secretlint")
        self.assert_triage(matched)

    def test_near_misses_alone_pass(self):
        p, report = self.run_secretlint(["lookalikes.md"])
        self.assertEqual(p.returncode, 0, p)
        self.assertEqual([m for f in report for m in f["messages"]], [])


class TestCorpus(Base):
    def test_corpus_covers_every_kind(self):
        kinds = [c.kind for c in CORPUS.cases()]
        for k in (VALID, BADSUM, NEAR):
            self.assertGreaterEqual(kinds.count(k), 4, k)
