/*
 * json_out.c — fixed-shape JSON writers (see json_out.h). No allocation
 * except from the pool; no jansson.
 */
#include "json_out.h"

#include "timefmt.h"

#include <stdbool.h>
#include <string.h>

void lk_buf_init(lk_buf *b, h2o_mem_pool_t *pool, size_t cap)
{
    b->pool = pool;
    b->cap = cap < 64 ? 64 : cap;
    b->p = h2o_mem_alloc_pool(pool, b->cap);
    b->len = 0;
}

/* Make room for n more bytes. The old block stays in the pool (freed with
 * it); growth doubles, so the waste is bounded by the final size. */
static void reserve(lk_buf *b, size_t n)
{
    if (b->len + n <= b->cap) return;
    size_t cap = b->cap * 2;
    while (cap < b->len + n)
        cap *= 2;
    char *p = h2o_mem_alloc_pool(b->pool, cap);
    memcpy(p, b->p, b->len);
    b->p = p;
    b->cap = cap;
}

void lk_buf_putn(lk_buf *b, const char *s, size_t n)
{
    reserve(b, n);
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

void lk_buf_puts(lk_buf *b, const char *s)
{
    lk_buf_putn(b, s, strlen(s));
}

void lk_buf_putc(lk_buf *b, char c)
{
    reserve(b, 1);
    b->p[b->len++] = c;
}

void lk_buf_put_int(lk_buf *b, int64_t v)
{
    char tmp[24];
    size_t i = sizeof(tmp);
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) tmp[--i] = '-';
    lk_buf_putn(b, tmp + i, sizeof(tmp) - i);
}

/* Whether any of the 8 bytes in w must be escaped in a JSON string: a byte
 * below 0x20, '"' or '\\'. Word-at-a-time ("SWAR"): (x - 0x01..) & ~x has
 * a byte's top bit set where x has a zero byte (and possibly above it,
 * from the borrow), never when x has none; likewise (w - 0x20..) & ~w for
 * bytes below 0x20. So the answer for the word is exact: no false "no". */
static bool word_needs_escape(uint64_t w)
{
    const uint64_t ones = UINT64_C(0x0101010101010101);
    const uint64_t highs = UINT64_C(0x8080808080808080);
    uint64_t q = w ^ (ones * '"');
    uint64_t bs = w ^ (ones * '\\');
    uint64_t hit = ((w - ones * 0x20) & ~w) | ((q - ones) & ~q) | ((bs - ones) & ~bs);
    return (hit & highs) != 0;
}

static bool byte_needs_escape(unsigned char c)
{
    return c < 0x20 || c == '"' || c == '\\';
}

void lk_buf_put_str(lk_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    /* The clean prefix (usually the whole string), 8 bytes at a time. */
    size_t i = 0;
    while (i + 8 <= n) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (word_needs_escape(w)) break;
        i += 8;
    }
    while (i < n && !byte_needs_escape((unsigned char)s[i]))
        i++;
    reserve(b, n + 2);
    b->p[b->len++] = '"';
    memcpy(b->p + b->len, s, i);
    b->len += i;
    size_t run = i; /* start of the pending unescaped run */
    for (; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!byte_needs_escape(c)) continue;
        lk_buf_putn(b, s + run, i - run);
        run = i + 1;
        char esc[6];
        size_t el = 2;
        esc[0] = '\\';
        switch (c) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            el = 6;
        }
        lk_buf_putn(b, esc, el);
    }
    lk_buf_putn(b, s + run, n - run);
    lk_buf_putc(b, '"');
}

void lk_buf_put_key(lk_buf *b, const char *key)
{
    size_t n = strlen(key);
    reserve(b, n + 3);
    b->p[b->len++] = '"';
    memcpy(b->p + b->len, key, n);
    b->len += n;
    b->p[b->len++] = '"';
    b->p[b->len++] = ':';
}

void lk_buf_put_time(lk_buf *b, int64_t t)
{
    if (t == 0) {
        lk_buf_put_lit(b, "null");
        return;
    }
    /* Formatted in place: '"', 20 characters (+ the NUL lk_time_format
     * writes, overwritten by the closing quote), '"'. */
    reserve(b, LK_TIME_SIZE + 2);
    char *o = b->p + b->len;
    o[0] = '"';
    lk_time_format(t, o + 1);
    o[LK_TIME_SIZE] = '"';
    b->len += LK_TIME_SIZE + 1;
}

/* Writers of fixed-shape records: each field's `,"key":` is a string
 * literal (its length known at compile time, the separator included). */
#define LIT(b, lit) lk_buf_putn((b), (lit), sizeof(lit) - 1)

/* A NUL-terminated record field as a JSON string. */
static void put_cstr(lk_buf *b, const char *v)
{
    lk_buf_put_str(b, v, strlen(v));
}

/* An optional string: null when empty. */
static void put_cstr_or_null(lk_buf *b, const char *v)
{
    if (v[0] == '\0')
        LIT(b, "null");
    else
        put_cstr(b, v);
}

void lk_json_user(lk_buf *b, const lk_user *u)
{
    LIT(b, "{\"id\":");
    put_cstr(b, u->id);
    LIT(b, ",\"email\":");
    put_cstr(b, u->email);
    LIT(b, ",\"name\":");
    put_cstr(b, u->name);
    LIT(b, ",\"created_at\":");
    lk_buf_put_time(b, u->created_at);
    lk_buf_putc(b, '}');
}

void lk_json_org(lk_buf *b, const lk_org *o)
{
    LIT(b, "{\"id\":");
    put_cstr(b, o->id);
    LIT(b, ",\"name\":");
    put_cstr(b, o->name);
    LIT(b, ",\"created_at\":");
    lk_buf_put_time(b, o->created_at);
    lk_buf_putc(b, '}');
}

void lk_json_member(lk_buf *b, const lk_member *m)
{
    LIT(b, "{\"user_id\":");
    put_cstr(b, m->user_id);
    LIT(b, ",\"email\":");
    put_cstr(b, m->email);
    LIT(b, ",\"name\":");
    put_cstr(b, m->name);
    LIT(b, ",\"joined_at\":");
    lk_buf_put_time(b, m->joined_at);
    lk_buf_putc(b, '}');
}

void lk_json_project(lk_buf *b, const lk_project *p)
{
    LIT(b, "{\"id\":");
    put_cstr(b, p->id);
    LIT(b, ",\"name\":");
    put_cstr(b, p->name);
    LIT(b, ",\"organization_id\":");
    put_cstr(b, p->org_id);
    LIT(b, ",\"created_at\":");
    lk_buf_put_time(b, p->created_at);
    lk_buf_putc(b, '}');
}

void lk_json_env(lk_buf *b, const lk_env *v)
{
    LIT(b, "{\"id\":");
    put_cstr(b, v->id);
    LIT(b, ",\"name\":");
    put_cstr(b, v->name);
    LIT(b, ",\"project_id\":");
    put_cstr(b, v->project_id);
    LIT(b, ",\"created_at\":");
    lk_buf_put_time(b, v->created_at);
    lk_buf_putc(b, '}');
}

void lk_json_billing(lk_buf *b, const lk_billing *bl)
{
    LIT(b, "{\"plan\":");
    put_cstr(b, bl->plan);
    LIT(b, ",\"billing_email\":");
    put_cstr_or_null(b, bl->billing_email);
    LIT(b, ",\"updated_at\":");
    lk_buf_put_time(b, bl->updated_at);
    lk_buf_putc(b, '}');
}

void lk_json_key(lk_buf *b, const lk_key *k, const char *token)
{
    LIT(b, "{\"id\":");
    put_cstr(b, k->id);
    LIT(b, ",\"name\":");
    put_cstr(b, k->name);
    if (k->type == LK_KEY_ORG)
        LIT(b, ",\"type\":\"organization\",\"redacted\":");
    else
        LIT(b, ",\"type\":\"personal\",\"redacted\":");
    put_cstr(b, k->redacted);
    LIT(b, ",\"created_at\":");
    lk_buf_put_time(b, k->created_at);
    LIT(b, ",\"created_by\":");
    put_cstr_or_null(b, k->created_by);
    LIT(b, ",\"last_used_at\":");
    lk_buf_put_time(b, k->last_used_at);
    LIT(b, ",\"expires_at\":");
    lk_buf_put_time(b, k->expires_at);
    if (k->type == LK_KEY_ORG) {
        LIT(b, ",\"organization_id\":");
        put_cstr(b, k->org_id);
    }
    if (token != NULL) {
        LIT(b, ",\"token\":");
        put_cstr(b, token);
    }
    lk_buf_putc(b, '}');
}

void lk_json_whoami(lk_buf *b, const lk_whoami *w)
{
    const char *kind = w->kind == LK_PRINCIPAL_ORG_KEY        ? "organization_key"
                       : w->kind == LK_PRINCIPAL_PERSONAL_KEY ? "personal_key"
                                                              : "user";
    LIT(b, "{\"principal\":");
    put_cstr(b, kind);
    if (w->has_user) {
        lk_buf_put_lit(b, ",\"user\":");
        lk_json_user(b, &w->user);
    }
    if (w->has_org) {
        lk_buf_put_lit(b, ",\"organization\":");
        lk_json_org(b, &w->org);
    }
    if (w->has_key) {
        lk_buf_put_lit(b, ",\"key\":");
        lk_json_key(b, &w->key, NULL);
    }
    lk_buf_putc(b, '}');
}

void lk_json_list_begin(lk_json_list *l, lk_buf *b)
{
    l->b = b;
    l->n = 0;
    lk_buf_put_lit(b, "{\"data\":[");
}

void lk_json_list_sep(lk_json_list *l)
{
    if (l->n++ > 0) lk_buf_putc(l->b, ',');
}

void lk_json_list_end(lk_json_list *l, int64_t next)
{
    lk_buf_put_lit(l->b, "],\"next_cursor\":");
    if (next == 0) {
        lk_buf_put_lit(l->b, "null}");
        return;
    }
    char c[LK_CURSOR_SIZE];
    lk_svc_format_cursor(next, c);
    lk_buf_put_str(l->b, c, strlen(c));
    lk_buf_putc(l->b, '}');
}
