/*
 * cidr.c — see cidr.h.
 *
 * IPv4 text is parsed here, by hand, so the leading-zero rule does not
 * depend on the C library. IPv6 text is checked here for its alphabet and
 * length, its IPv4 tail (if any) by the same IPv4 parser, and then handed
 * to inet_pton, whose RFC 4291 grammar is the reference; formatting is
 * inet_ntop's (RFC 5952 style on glibc). Nothing here allocates.
 */
#include "cidr.h"

#include <arpa/inet.h>
#include <assert.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define V4_BYTES 4
#define V4_BITS 32
#define V6_BITS 128
#define OCTET_MAX 255
#define PREFIX_DIGITS_MAX 3
#define QUOTE_MAX 40 /* bytes of bad input quoted in a message */

static const uint8_t v4_mapped_head[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* A short printable copy of s for an error message (never the whole input). */
static void quote(const char *s, size_t len, char out[QUOTE_MAX + 4])
{
    size_t n = len > QUOTE_MAX ? QUOTE_MAX : len;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? (char)c : '?';
    }
    memcpy(out + n, len > n ? "..." : "", len > n ? 4 : 1);
}

static int bad(const char *s, size_t len, const char *what, const char *field, lk_err *e)
{
    char q[QUOTE_MAX + 4];
    quote(s, len, q);
    int rc = lk_err_setf(e, LK_EVALIDATION, "\"%s\" is not %s", q, what);
    if (e != NULL && field != NULL) snprintf(e->field, sizeof(e->field), "%s", field);
    return rc;
}

/* Decimal 0..max with no sign and no leading zero; -1 if not. */
static int small_decimal(const char *s, size_t len, int max)
{
    if (len == 0 || len > PREFIX_DIGITS_MAX || (len > 1 && s[0] == '0')) return -1;
    int v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v <= max ? v : -1;
}

/* Exactly four dotted octets into out[4]. */
static bool parse_v4(const char *s, size_t len, uint8_t out[V4_BYTES])
{
    size_t at = 0;
    for (int i = 0; i < V4_BYTES; i++) {
        size_t start = at;
        while (at < len && s[at] != '.') at++;
        int v = small_decimal(s + start, at - start, OCTET_MAX);
        if (v < 0) return false;
        out[i] = (uint8_t)v;
        if (i < V4_BYTES - 1) {
            if (at >= len) return false; /* fewer than four parts */
            at++;                        /* the dot */
        }
    }
    return at == len;
}

static bool parse_v6(const char *s, size_t len, uint8_t out[LK_ADDR_BYTES])
{
    char buf[LK_CIDR_TEXT_MAX + 1];
    size_t last_colon = len;
    if (len < 2 || len > LK_CIDR_TEXT_MAX) return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (!hex && c != ':' && c != '.') return false;
        if (c == ':') last_colon = i;
    }
    if (last_colon == len) return false;
    /* an IPv4 tail obeys the IPv4 rules above (no leading zeros) */
    if (memchr(s + last_colon, '.', len - last_colon) != NULL) {
        uint8_t tail[V4_BYTES];
        if (!parse_v4(s + last_colon + 1, len - last_colon - 1, tail)) return false;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    return inet_pton(AF_INET6, buf, out) == 1;
}

int lk_addr_parse(const char *s, size_t len, lk_addr *out, const char *field, lk_err *e)
{
    memset(out, 0, sizeof(*out));
    if (s == NULL || len == 0) return bad("", 0, "an IP address", field, e);
    if (len > LK_CIDR_TEXT_MAX) return bad(s, len, "an IP address", field, e);
    if (memchr(s, ':', len) != NULL) {
        if (parse_v6(s, len, out->b)) {
            out->family = LK_ADDR_V6;
            return LK_OK;
        }
    } else if (parse_v4(s, len, out->b)) {
        out->family = LK_ADDR_V4;
        return LK_OK;
    }
    memset(out, 0, sizeof(*out));
    return bad(s, len, "an IP address", field, e);
}

void lk_addr_format(const lk_addr *a, char out[LK_ADDR_TEXT_SIZE])
{
    const char *r = NULL;
    if (a->family == LK_ADDR_V4) r = inet_ntop(AF_INET, a->b, out, LK_ADDR_TEXT_SIZE);
    else if (a->family == LK_ADDR_V6) r = inet_ntop(AF_INET6, a->b, out, LK_ADDR_TEXT_SIZE);
    if (r == NULL) out[0] = '\0';
}

void lk_addr_unmap(const lk_addr *a, lk_addr *out)
{
    lk_addr t = *a;
    if (a->family == LK_ADDR_V6 && memcmp(a->b, v4_mapped_head, sizeof(v4_mapped_head)) == 0) {
        memset(&t, 0, sizeof(t));
        t.family = LK_ADDR_V4;
        memcpy(t.b, a->b + sizeof(v4_mapped_head), V4_BYTES);
    }
    *out = t;
}

bool lk_addr_equal(const lk_addr *a, const lk_addr *b)
{
    return a->family == b->family && memcmp(a->b, b->b, LK_ADDR_BYTES) == 0;
}

int lk_addr_from_sockaddr(const void *sa, lk_addr *out)
{
    memset(out, 0, sizeof(*out));
    sa_family_t fam;
    memcpy(&fam, (const char *)sa + offsetof(struct sockaddr, sa_family), sizeof(fam));
    if (fam == AF_INET) {
        struct sockaddr_in in;
        memcpy(&in, sa, sizeof(in));
        out->family = LK_ADDR_V4;
        memcpy(out->b, &in.sin_addr, V4_BYTES);
        return LK_OK;
    }
    if (fam == AF_INET6) {
        struct sockaddr_in6 in6;
        memcpy(&in6, sa, sizeof(in6));
        out->family = LK_ADDR_V6;
        memcpy(out->b, &in6.sin6_addr, LK_ADDR_BYTES);
        return LK_OK;
    }
    return lk_err_set(NULL, LK_EVALIDATION, NULL);
}

static unsigned bits_of(const lk_addr *a)
{
    return a->family == LK_ADDR_V4 ? V4_BITS : V6_BITS;
}

/* Clear the bits after prefix; true if any was set. */
static bool clear_host_bits(lk_addr *a, unsigned prefix)
{
    bool changed = false;
    for (unsigned i = 0; i < LK_ADDR_BYTES; i++) {
        unsigned keep = prefix >= (i + 1) * 8 ? 8 : (prefix > i * 8 ? prefix - i * 8 : 0);
        uint8_t mask = (uint8_t)(keep == 8 ? 0xff : (0xff00u >> keep) & 0xff);
        if ((a->b[i] & (uint8_t)~mask) != 0) changed = true;
        a->b[i] &= mask;
    }
    return changed;
}

int lk_cidr_parse(const char *s, size_t len, lk_cidr *out, bool *normalised, const char *field,
                  lk_err *e)
{
    memset(out, 0, sizeof(*out));
    if (normalised != NULL) *normalised = false;
    if (s == NULL || len == 0 || len > LK_CIDR_TEXT_MAX)
        return bad(s ? s : "", s ? len : 0, "a CIDR range", field, e);
    const char *slash = memchr(s, '/', len);
    size_t alen = slash ? (size_t)(slash - s) : len;
    if (lk_addr_parse(s, alen, &out->net, NULL, NULL) != LK_OK)
        return bad(s, len, "a CIDR range", field, e);
    int prefix = (int)bits_of(&out->net);
    if (slash != NULL) {
        prefix = small_decimal(slash + 1, len - alen - 1, (int)bits_of(&out->net));
        if (prefix < 0) {
            memset(out, 0, sizeof(*out));
            return bad(s, len, "a CIDR range (bad prefix length)", field, e);
        }
    }
    out->prefix = (uint8_t)prefix;
    bool changed = clear_host_bits(&out->net, out->prefix);
    if (normalised != NULL) *normalised = changed;
    return LK_OK;
}

void lk_cidr_format(const lk_cidr *c, char out[LK_CIDR_TEXT_SIZE])
{
    char a[LK_ADDR_TEXT_SIZE];
    lk_addr_format(&c->net, a);
    snprintf(out, LK_CIDR_TEXT_SIZE, "%s/%u", a, (unsigned)c->prefix);
}

static bool prefix_match(const uint8_t *x, const uint8_t *y, unsigned prefix)
{
    unsigned full = prefix / 8, rest = prefix % 8;
    if (memcmp(x, y, full) != 0) return false;
    if (rest == 0) return true;
    uint8_t mask = (uint8_t)(0xff00u >> rest);
    return (x[full] & mask) == (y[full] & mask);
}

bool lk_cidr_contains(const lk_cidr *c, const lk_addr *a)
{
    lk_addr u;
    lk_addr_unmap(a, &u);
    if (c->net.family == LK_ADDR_V4 && u.family == LK_ADDR_V4)
        return prefix_match(c->net.b, u.b, c->prefix);
    if (c->net.family == LK_ADDR_V6 && u.family == LK_ADDR_V6)
        return prefix_match(c->net.b, u.b, c->prefix);
    if (c->net.family == LK_ADDR_V6 && u.family == LK_ADDR_V4) {
        uint8_t mapped[LK_ADDR_BYTES];
        memcpy(mapped, v4_mapped_head, sizeof(v4_mapped_head));
        memcpy(mapped + sizeof(v4_mapped_head), u.b, V4_BYTES);
        return prefix_match(c->net.b, mapped, c->prefix);
    }
    return false;
}

bool lk_cidr_equal(const lk_cidr *a, const lk_cidr *b)
{
    return a->prefix == b->prefix && lk_addr_equal(&a->net, &b->net);
}

void lk_cidr_list_init(lk_cidr_list *l)
{
    memset(l, 0, sizeof(*l));
}

int lk_cidr_list_add(lk_cidr_list *l, const lk_cidr *c, const char *field, lk_err *e)
{
    assert(l->n <= LK_CIDR_LIST_MAX);
    char t[LK_CIDR_TEXT_SIZE];
    for (unsigned i = 0; i < l->n; i++) {
        if (lk_cidr_equal(&l->item[i], c)) {
            lk_cidr_format(c, t);
            lk_err_setf(e, LK_EVALIDATION, "%s is listed twice", t);
            if (e != NULL && field != NULL) snprintf(e->field, sizeof(e->field), "%s", field);
            return LK_EVALIDATION;
        }
    }
    if (l->n == LK_CIDR_LIST_MAX) {
        lk_err_setf(e, LK_EVALIDATION, "at most %d address ranges", LK_CIDR_LIST_MAX);
        if (e != NULL && field != NULL) snprintf(e->field, sizeof(e->field), "%s", field);
        return LK_EVALIDATION;
    }
    l->item[l->n++] = *c;
    return LK_OK;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

int lk_cidr_list_parse(const char *s, size_t len, lk_cidr_list *l, unsigned *normalised,
                       const char *field, lk_err *e)
{
    lk_cidr_list_init(l);
    if (normalised != NULL) *normalised = 0;
    size_t at = 0;
    while (at < len && is_space(s[at])) at++;
    if (at == len) return LK_OK; /* "" or blanks: no ranges */
    at = 0;
    for (;;) {
        size_t start = at;
        while (at < len && s[at] != ',') at++;
        size_t a = start, b = at;
        while (a < b && is_space(s[a])) a++;
        while (b > a && is_space(s[b - 1])) b--;
        lk_cidr c;
        bool norm = false;
        int rc = lk_cidr_parse(s + a, b - a, &c, &norm, field, e);
        if (rc == LK_OK) rc = lk_cidr_list_add(l, &c, field, e);
        if (rc != LK_OK) {
            lk_cidr_list_init(l);
            return rc;
        }
        if (norm && normalised != NULL) (*normalised)++;
        if (at == len) return LK_OK;
        at++; /* the comma */
    }
}

bool lk_cidr_list_contains(const lk_cidr_list *l, const lk_addr *a)
{
    for (unsigned i = 0; i < l->n; i++)
        if (lk_cidr_contains(&l->item[i], a)) return true;
    return false;
}
