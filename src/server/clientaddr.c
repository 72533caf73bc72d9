/*
 * clientaddr.c — see clientaddr.h. The walk reads each X-Forwarded-For
 * line backwards, element by element, charging every byte it looks at to
 * one budget, so a hostile header costs at most LK_XFF_SCAN_MAX bytes of
 * work whatever its length.
 */
#include "clientaddr.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define PORT_DIGITS_MAX 5
#define PORT_MAX 65535
#define V4_BYTES 4

static bool port_ok(const char *s, size_t len)
{
    if (len == 0 || len > PORT_DIGITS_MAX) return false;
    unsigned v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    return v <= PORT_MAX;
}

/* One trimmed, non-empty element: "a.b.c.d", "a.b.c.d:port", "v6",
 * "[v6]" or "[v6]:port". */
static bool parse_element(const char *s, size_t len, lk_addr *out)
{
    if (len > LK_XFF_ELEM_MAX) return false;
    if (s[0] == '[') {
        const char *close = memchr(s, ']', len);
        if (close == NULL) return false;
        size_t alen = (size_t)(close - s) - 1, rest = len - alen - 2;
        if (rest > 0 && (close[1] != ':' || !port_ok(close + 2, rest - 1))) return false;
        return lk_addr_parse(s + 1, alen, out, NULL, NULL) == LK_OK && out->family == LK_ADDR_V6;
    }
    const char *colon = memchr(s, ':', len);
    if (colon != NULL && memchr(colon + 1, ':', len - (size_t)(colon - s) - 1) == NULL) {
        size_t alen = (size_t)(colon - s);
        if (!port_ok(colon + 1, len - alen - 1)) return false;
        return lk_addr_parse(s, alen, out, NULL, NULL) == LK_OK && out->family == LK_ADDR_V4;
    }
    return lk_addr_parse(s, len, out, NULL, NULL) == LK_OK;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

typedef struct walk {
    const lk_cidr_list *trusted;
    size_t budget; /* bytes still allowed to be read */
    unsigned hops; /* non-empty elements read */
    lk_addr last;  /* the last good hop read (unmapped) */
    bool any;      /* last came from the header */
    bool found;    /* last is an untrusted address: the client */
    bool stopped;  /* garbage or a bound reached */
} walk;

/* Walk one line from its end. Sets w->found or w->stopped when done. */
static void walk_line(walk *w, const char *s, size_t len)
{
    size_t end = len;
    for (;;) {
        size_t start = end;
        while (start > 0 && s[start - 1] != ',' && end - start < w->budget) start--;
        if (end - start >= w->budget) {
            w->stopped = true; /* out of budget inside an element */
            return;
        }
        w->budget -= end - start + 1; /* the element and its comma */
        size_t a = start, b = end;
        while (a < b && is_space(s[a])) a++;
        while (b > a && is_space(s[b - 1])) b--;
        if (a < b) {
            lk_addr addr;
            if (++w->hops > LK_XFF_HOPS_MAX || !parse_element(s + a, b - a, &addr)) {
                w->stopped = true;
                return;
            }
            lk_addr_unmap(&addr, &w->last);
            w->any = true;
            if (!lk_cidr_list_contains(w->trusted, &w->last)) {
                w->found = true;
                return;
            }
        }
        if (start == 0) return;
        end = start - 1;
    }
}

lk_clientaddr_source lk_clientaddr_resolve(const lk_addr *peer, const lk_cidr_list *trusted,
                                           const char *const xff[], const size_t xff_len[],
                                           size_t n, lk_addr *out)
{
    lk_addr_unmap(peer, out);
    if (trusted == NULL || trusted->n == 0 || !lk_cidr_list_contains(trusted, out))
        return LK_CLIENTADDR_PEER;
    walk w = {.trusted = trusted, .budget = LK_XFF_SCAN_MAX, .last = *out};
    for (size_t i = n; i > 0 && !w.found && !w.stopped; i--) {
        if (xff[i - 1] == NULL) continue;
        walk_line(&w, xff[i - 1], xff_len[i - 1]);
    }
    if (!w.any) return LK_CLIENTADDR_PEER;
    *out = w.last;
    return LK_CLIENTADDR_FORWARDED;
}

void lk_clientaddr_throttle_key(const lk_addr *a, char out[LK_THROTTLE_KEY_SIZE])
{
    lk_addr u;
    lk_addr_unmap(a, &u);
    if (u.family == LK_ADDR_V4) {
        lk_addr_format(&u, out);
        return;
    }
    if (u.family != LK_ADDR_V6) {
        out[0] = '\0';
        return;
    }
    lk_cidr c = {.net = u, .prefix = LK_THROTTLE_V6_PREFIX};
    memset(c.net.b + LK_THROTTLE_V6_PREFIX / 8, 0, LK_ADDR_BYTES - LK_THROTTLE_V6_PREFIX / 8);
    lk_cidr_format(&c, out);
}
