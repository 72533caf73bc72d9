#!/usr/bin/env python3
"""patches.py ROOT LEVEL — measurement-only changes to a throw-away copy of the tree.

bench/experiments/ab.sh applies levels 0..LEVEL cumulatively to a `git archive` copy in a
temp dir, builds it and measures it next to the unmodified server. Nothing here is ever applied
to the real sources: each level is a candidate fix for the owner of that file, and this script
only exists so that docs/performance.md can say what each one buys, and anyone can re-measure.

  1  SHA-256 of the token with OpenSSL's SHA256_Init/Update/Final (SHA-NI) instead of libsodium
  2  CRC32 with a 256-entry table instead of bit by bit
  3  client address (IPv4) formatted by hand instead of getnameinfo + sprintf
  4  sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0): no global mutex around SQLite's malloc
  5  one read transaction (store begin/commit) around authentication + handler of a GET

(The first candidate measured, a buffered access log instead of one write(2) per request, is
already in src/http.c.)
"""
import sys, re
root, level = sys.argv[1], int(sys.argv[2])
def edit(path, old, new, count=1):
    p = root + '/' + path
    s = open(p).read()
    assert old in s, (path, old[:60])
    s = s.replace(old, new, count)
    open(p, 'w').write(s)
if level >= 1:  # SHA-256 through OpenSSL (SHA-NI) instead of libsodium's portable C
    edit('src/token.c', '#include <sodium.h>', '#include <sodium.h>\n#include <openssl/sha.h>')
    edit('src/token.c', 'crypto_hash_sha256(out, (const unsigned char *)token, len);', 'SHA256_CTX c; SHA256_Init(&c); SHA256_Update(&c, token, len); SHA256_Final(out, &c);')
    edit('meson.build', "common_lib = static_library('lkcommon', common_src, dependencies: [sodium])", "common_lib = static_library('lkcommon', common_src, dependencies: [sodium, ssl])")
    edit('meson.build', "                                dependencies: [sodium])", "                                dependencies: [sodium, ssl])")
if level >= 2:  # CRC32 with a 256-entry table
    edit('src/token.c', '''    const unsigned char *p = data;
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return c ^ 0xFFFFFFFFu;''', '''    static uint32_t table[256];
    static int ready;
    if (!ready) {
        for (uint32_t n = 0; n < 256; n++) {
            uint32_t c = n;
            for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
            table[n] = c;
        }
        ready = 1;
    }
    const unsigned char *p = data;
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++) c = table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;''')
if level >= 3:  # client address formatted by hand (IPv4), not getnameinfo+sprintf
    edit('src/http.c', """    char buf[NI_MAXHOST];
    size_t len = h2o_socket_getnumerichost((struct sockaddr *)&ss, n, buf);""", """    if (ss.ss_family == AF_INET) {
        const unsigned char *q = (const unsigned char *)&((struct sockaddr_in *)&ss)->sin_addr;
        char *o = r->client;
        for (int i = 0; i < 4; i++) {
            unsigned v = q[i];
            if (v >= 100) *o++ = (char)('0' + v / 100);
            if (v >= 10) *o++ = (char)('0' + v / 10 % 10);
            *o++ = (char)('0' + v % 10);
            *o++ = i < 3 ? '.' : '\\0';
        }
        return;
    }
    char buf[NI_MAXHOST];
    size_t len = h2o_socket_getnumerichost((struct sockaddr *)&ss, n, buf);""")
if level >= 4:  # no global malloc mutex in SQLite
    edit('src/main.c', 'int main(int argc, char **argv)\n{', 'int main(int argc, char **argv)\n{\n    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);')
    edit('src/main.c', '#include <stdio.h>', '#include <sqlite3.h>\n#include <stdio.h>')
if level >= 5:  # one read transaction per GET request (store begin/commit around auth + handler)
    edit('src/http.c', '''    int rc = 0;
    if (!(r.m.route->flags & LK_ROUTE_PUBLIC)) rc = authenticate(&r);
    if (rc == 0) {
        rc = r.m.route->fn(&r);
        if (rc == LK_HANDLER_DEFERRED) return 0;
    }''', '''    int rc = 0;
    int tx = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) && lp->st->ops->begin(lp->st) == 0;
    if (!(r.m.route->flags & LK_ROUTE_PUBLIC)) rc = authenticate(&r);
    if (rc == 0) {
        rc = r.m.route->fn(&r);
    }
    if (tx) lp->st->ops->commit(lp->st);
    if (rc == LK_HANDLER_DEFERRED) return 0;''')
