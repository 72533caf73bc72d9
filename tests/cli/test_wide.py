"""Tables with wide and zero-width characters (issue 17): names in Japanese,
emoji and combining marks keep every column aligned in `keys list` and
`projects list`, long names are cut by display width with "…", and --json
stays the API's JSON. Widths are computed here from Python's unicodedata,
independently of the C code (libc's wcwidth)."""
import json
import re
import unicodedata

from clitest import CliTestCase

NAMES = [
    "\u65e5\u672c\u8a9e\u306e\u30ad\u30fc",     # 日本語のキー: 6 x 2 columns
    "\U0001F511 deploy \U0001F680",               # 🔑 deploy 🚀
    "cafe\u0301 re\u0301sume\u0301",              # café résumé with combining acutes
    "plain ascii",
]
LONG = "\u9577\u3044\u540d\u524d" * 8                 # 長い名前 x 8: 64 columns
NAME_WIDTH = 40                                       # LK_RES_NAME_WIDTH (cli_resource.h)


def width(s):
    """Terminal columns: East Asian wide/fullwidth 2, combining marks 0."""
    w = 0
    for ch in s:
        if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
            continue
        w += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return w


def cell_starts(line):
    """The display column where each cell of an aligned table line starts."""
    starts, pos = [0], 0
    for m in re.finditer(r"\S {2,}(?=\S)", line):
        starts.append(width(line[:m.end()]))
    return starts


class WideNames(CliTestCase):
    def setUp(self):
        super().setUp()
        self.user = self.new_user("Wide")
        self.e = self.env(LATCHKEY_TOKEN=self.personal_token(self.user, "w"))

    def assertAligned(self, out, ncols):
        lines = [l for l in out.splitlines() if l.strip()]
        self.assertGreater(len(lines), 1, out)
        starts = [cell_starts(l) for l in lines]
        for s, l in zip(starts, lines):
            self.assertEqual(len(s), ncols, "cells of %r" % l)
        for i in range(1, ncols):
            cols = {s[i] for s in starts}
            self.assertEqual(len(cols), 1, "column %d starts at %s in\n%s" % (i, cols, out))
        return lines

    def test_keys_list_aligned(self):
        for n in NAMES:
            self.assertEqual(self.user.post("/v1/me/access-keys", {"name": n}).status, 201)
        for env in (self.e, self.env(LATCHKEY_TOKEN=self.e["LATCHKEY_TOKEN"], LANG="C", LC_ALL="C")):
            r = self.cli("keys", "list", env=env)  # LC_ALL=C: the CLI falls back to C.UTF-8
            self.assertRc(r, 0)
            lines = self.assertAligned(r.out, 5)   # ID NAME KEY CREATED SCOPES
            for n in NAMES:
                self.assertTrue(any(n in l for l in lines), (n, r.out))

    def test_projects_list_aligned_and_long_names_cut(self):
        oid = self.new_org(self.user, "Wide Org")["id"]
        for n in NAMES + [LONG]:
            r = self.cli("projects", "create", n, "--org", oid, env=self.e)
            self.assertRc(r, 0)
        r = self.cli("projects", "list", "--org", oid, env=self.e)
        self.assertRc(r, 0)
        lines = self.assertAligned(r.out, 3)       # ID NAME CREATED
        cut = [l for l in lines if "\u2026" in l]
        self.assertEqual(len(cut), 1, r.out)
        name = re.split(r" {2,}", cut[0])[1]
        self.assertTrue(LONG.startswith(name[:-1]), name)
        self.assertLessEqual(width(name), NAME_WIDTH)
        self.assertGreaterEqual(width(name), NAME_WIDTH - 1)  # a wide char may leave one column
        # a project is found by its full name, and --json keeps it whole
        r = self.cli("projects", "list", "--org", oid, "--json", env=self.e)
        self.assertEqual(json.loads(r.out),
                         self.user.get("/v1/organizations/%s/projects" % oid).json)
        self.assertIn(LONG, [p["name"] for p in json.loads(r.out)["data"]])
        r = self.cli("projects", "delete", NAMES[0], "--org", oid, env=self.e)
        self.assertRc(r, 0)
