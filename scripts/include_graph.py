#!/usr/bin/env python3
"""
scripts/include_graph.py — keep the project's #include "…" graph a design.

Reads every .c and .h under src/ and checks two rules:

1. No cycle between modules. A module is a .c/.h pair named after its
   concept (router.c + router.h); a .c without a header of its own that is
   named <prefix>_<rest>.c belongs to <prefix> if <prefix>.h exists
   (api_orgs.c → api, store_pg.c → store), and so does a header without a
   .c of its own (client_rx.h → client: a module's internal header). Any
   other file is a module by itself (principal.h, routes.c). An edge A → B means some file of A includes B's header.
2. Rooms point one way. src/common/ includes only src/common/;
   src/server/store/ includes only itself and src/common/; src/cli/ never
   includes src/server/ (and the reverse).

An include that names no file under src/ (a system or library header) is
ignored; one that could mean two files is an error. Prints each violation
and exits 1; prints "include graph: N modules, M edges, acyclic" and exits
0 otherwise. Usage: include_graph.py [SRC_DIR]
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)

# room → rooms it may include (besides itself)
ALLOWED = {
    "common": set(),
    "server/store": {"common"},
    "server": {"server/store", "common"},
    "cli": {"common"},
}


def room_of(rel):
    parts = rel.split("/")
    if parts[0] == "server" and len(parts) > 2 and parts[1] == "store":
        return "server/store"
    return parts[0]


def collect(src):
    files = []
    for dirpath, _, names in os.walk(src):
        for n in names:
            if n.endswith((".c", ".h")):
                files.append(os.path.relpath(os.path.join(dirpath, n), src))
    return sorted(files)


def module_of(rel, files):
    d, base = os.path.split(rel)
    stem = base[:-2]
    pair = {os.path.join(d, stem + ".c"), os.path.join(d, stem + ".h")}
    if pair <= files:
        return os.path.join(d, stem)
    prefix = stem.split("_", 1)[0]
    if prefix != stem and os.path.join(d, prefix + ".h") in files:
        return os.path.join(d, prefix)
    return os.path.join(d, stem)


def resolve(name, rel, by_base, src):
    """The src-relative header an #include "name" in rel means, or None."""
    here = os.path.normpath(os.path.join(os.path.dirname(rel), name))
    if os.path.exists(os.path.join(src, here)):
        return here
    hits = by_base.get(os.path.basename(name), [])
    if len(hits) > 1:
        raise ValueError(f"{rel}: #include \"{name}\" is ambiguous: {hits}")
    return hits[0] if hits else None


def find_cycle(graph):
    WHITE, GREY, BLACK = 0, 1, 2
    color = {m: WHITE for m in graph}
    stack = []

    def visit(m):
        color[m] = GREY
        stack.append(m)
        for n in sorted(graph[m]):
            if color.get(n, WHITE) == GREY:
                return stack[stack.index(n):] + [n]
            if color.get(n, WHITE) == WHITE:
                c = visit(n)
                if c:
                    return c
        stack.pop()
        color[m] = BLACK
        return None

    for m in sorted(graph):
        if color[m] == WHITE:
            c = visit(m)
            if c:
                return c
    return None


def check(src):
    files = collect(src)
    fileset = set(files)
    headers = {f for f in files if f.endswith(".h")}
    by_base = {}
    for h in headers:
        by_base.setdefault(os.path.basename(h), []).append(h)
    errors, graph, edges = [], {}, 0
    for rel in files:
        m = module_of(rel, fileset)
        graph.setdefault(m, set())
        with open(os.path.join(src, rel), encoding="utf-8", errors="replace") as f:
            text = f.read()
        for name in INCLUDE.findall(text):
            try:
                target = resolve(name, rel, by_base, src)
            except ValueError as e:
                errors.append(str(e))
                continue
            if target is None:
                continue
            if ".." in name.split("/"):
                errors.append(f"{rel}: #include \"{name}\" climbs out of its room")
            a, b = room_of(rel), room_of(target)
            if a != b and b not in ALLOWED.get(a, set()):
                errors.append(f"{rel} ({a}) includes {target} ({b}): a lower room may not "
                              f"include a higher one")
            tm = module_of(target, fileset)
            if tm != m and tm not in graph[m]:
                graph[m].add(tm)
                edges += 1
    for m in list(graph):
        for n in graph[m]:
            graph.setdefault(n, set())
    cycle = find_cycle(graph)
    if cycle:
        errors.append("include cycle: " + " → ".join(cycle))
    return errors, len(graph), edges


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "src")
    errors, nmod, nedge = check(src)
    for e in errors:
        print("include graph:", e)
    if errors:
        return 1
    print(f"include graph: {nmod} modules, {nedge} edges, acyclic")
    return 0


if __name__ == "__main__":
    sys.exit(main())
