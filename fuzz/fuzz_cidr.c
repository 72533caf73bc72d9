/*
 * fuzz_cidr.c — libFuzzer harness for cidr.c and clientaddr.c: arbitrary
 * bytes as an address, a CIDR, a CIDR list, and X-Forwarded-For lines
 * (split at '\n') behind a trusted peer. Whatever parses must format to
 * canonical text that parses back to the same value, unchanged; the
 * resolved client must be the peer or an address from the header, never
 * a trusted one unless every hop read was trusted; nothing reads past its
 * length (each piece is a private heap copy, so ASan sees overruns).
 */
#include "cidr.h"
#include "clientaddr.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define LINES_MAX 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void roundtrip(const char *s, size_t size)
{
    lk_addr a, a2;
    char text[LK_CIDR_TEXT_SIZE];
    if (lk_addr_parse(s, size, &a, "f", NULL) == LK_OK) {
        lk_addr_format(&a, text);
        if (lk_addr_parse(text, strlen(text), &a2, NULL, NULL) != LK_OK) abort();
        if (!lk_addr_equal(&a, &a2)) abort();
    }
    lk_cidr c, c2;
    bool norm;
    if (lk_cidr_parse(s, size, &c, &norm, "f", NULL) == LK_OK) {
        lk_cidr_format(&c, text);
        if (lk_cidr_parse(text, strlen(text), &c2, &norm, NULL, NULL) != LK_OK) abort();
        if (norm || !lk_cidr_equal(&c, &c2)) abort();
        if (!lk_cidr_contains(&c, &c.net)) abort();
    }
    lk_cidr_list l;
    if (lk_cidr_list_parse(s, size, &l, NULL, "f", NULL) == LK_OK && l.n > LK_CIDR_LIST_MAX)
        abort();
}

static void forwarded(const char *s, size_t size)
{
    static lk_cidr_list trusted;
    if (trusted.n == 0) {
        const char *t = "10.0.0.0/8,2001:db8::/32,::ffff:192.168.0.0/112";
        if (lk_cidr_list_parse(t, strlen(t), &trusted, NULL, NULL, NULL) != LK_OK) abort();
    }
    const char *lines[LINES_MAX];
    size_t lens[LINES_MAX], n = 0, start = 0;
    for (size_t i = 0; i <= size && n < LINES_MAX; i++) {
        if (i == size || s[i] == '\n') {
            lines[n] = s + start;
            lens[n++] = i - start;
            start = i + 1;
        }
    }
    lk_addr peer, out;
    if (lk_addr_parse("10.1.2.3", 8, &peer, NULL, NULL) != LK_OK) abort();
    lk_clientaddr_source src = lk_clientaddr_resolve(&peer, &trusted, lines, lens, n, &out);
    if (src == LK_CLIENTADDR_PEER && !lk_addr_equal(&out, &peer)) abort();
    if (out.family != LK_ADDR_V4 && out.family != LK_ADDR_V6) abort();
    lk_addr un;
    lk_addr_unmap(&out, &un);
    if (!lk_addr_equal(&un, &out)) abort(); /* results are unmapped */
    char key[LK_THROTTLE_KEY_SIZE];
    lk_clientaddr_throttle_key(&out, key);
    if (key[0] == '\0') abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size ? size : 1);
    if (s == NULL) return 0;
    if (size) memcpy(s, data, size);
    roundtrip(s, size);
    forwarded(s, size);
    free(s);
    return 0;
}
