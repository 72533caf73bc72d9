/*
 * json_out.c — fixed-shape JSON writers (see json_out.h). No allocation
 * except from the pool; no jansson.
 */
#include "json_out.h"

#include "timefmt.h"

#include <stdbool.h>
#include <stddef.h>
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

/* The plain records are written from a description of their fields (JSON
 * name, kind, where the value sits in the struct), in the order the API
 * shows them; adding a field to the API is one line here. */
typedef enum jkind {
    J_STR,
    J_STR_OR_NULL,
    J_TIME,
    J_INT_OR_NULL, /* int64_t, 0 = null */
    J_TIME_LIVE,   /* a time, null unless still in the future */
    J_SCOPES,      /* lk_scopes as a list of names (put_scopes) */
    J_CSV,         /* "a,b" as ["a","b"] (put_csv) */
} jkind;

typedef struct jfield {
    const char *name; /* with its quotes and colon: "\"id\":" */
    size_t len;       /* strlen(name) */
    jkind kind;
    size_t off;
} jfield;

#define JF(name, kind, type, field)                                                                \
    {"\"" name "\":", sizeof("\"" name "\":") - 1, kind, offsetof(type, field)}
#define JF_END {NULL, 0, J_STR, 0}

static void put_scopes(lk_buf *b, lk_scopes s);
static void put_csv(lk_buf *b, const char *csv);

static void put_int64_at(lk_buf *b, const char *at, jkind kind)
{
    int64_t v;
    memcpy(&v, at, sizeof v);
    if (kind == J_TIME_LIVE && v <= lk_time_now()) v = 0;
    if (kind != J_INT_OR_NULL)
        lk_buf_put_time(b, v);
    else if (v == 0)
        lk_buf_put_lit(b, "null");
    else
        lk_buf_put_int(b, v);
}

/* The members f describes, each after a comma unless it opens the object. */
static void put_members(lk_buf *b, const void *rec, const jfield *f, bool opens)
{
    const char *base = rec;
    for (const jfield *x = f; x->name; x++) {
        if (x != f || !opens) lk_buf_putc(b, ',');
        lk_buf_putn(b, x->name, x->len);
        switch (x->kind) {
        case J_STR: put_cstr(b, base + x->off); break;
        case J_STR_OR_NULL: put_cstr_or_null(b, base + x->off); break;
        case J_TIME:
        case J_TIME_LIVE:
        case J_INT_OR_NULL: put_int64_at(b, base + x->off, x->kind); break;
        case J_SCOPES: {
            lk_scopes sc;
            memcpy(&sc, base + x->off, sizeof sc);
            put_scopes(b, sc);
            break;
        }
        case J_CSV: put_csv(b, base + x->off); break;
        }
    }
}

static void put_fields(lk_buf *b, const void *rec, const jfield *f)
{
    lk_buf_putc(b, '{');
    put_members(b, rec, f, true);
    lk_buf_putc(b, '}');
}

static const jfield user_fields[] = {
    JF("id", J_STR, lk_user, id),
    JF("email", J_STR, lk_user, email),
    JF("name", J_STR, lk_user, name),
    JF("created_at", J_TIME, lk_user, created_at),
    JF_END,
};
static const jfield org_fields[] = {
    JF("id", J_STR, lk_org, id),
    JF("name", J_STR, lk_org, name),
    JF("created_at", J_TIME, lk_org, created_at),
    JF("access_key_max_lifetime_days", J_INT_OR_NULL, lk_org, key_max_lifetime_days), /* scopes */
    JF_END,
};
static const jfield member_fields[] = {
    JF("user_id", J_STR, lk_member, user_id),
    JF("email", J_STR, lk_member, email),
    JF("name", J_STR, lk_member, name),
    JF("joined_at", J_TIME, lk_member, joined_at),
    JF("role", J_STR, lk_member, role), /* roles and invitations */
    JF_END,
};
/* Projects and environments are one shape (store.h's named children): only
 * the parent's JSON name differs. */
#define CHILD_FIELDS(T, parent_name, parent)                                                       \
    {                                                                                              \
        JF("id", J_STR, T, id), JF("name", J_STR, T, name), JF(parent_name, J_STR, T, parent),     \
            JF("created_at", J_TIME, T, created_at), JF_END,                                       \
    }
static const jfield project_fields[] = CHILD_FIELDS(lk_project, "organization_id", org_id);
static const jfield env_fields[] = CHILD_FIELDS(lk_env, "project_id", project_id);
static const jfield billing_fields[] = {
    JF("plan", J_STR, lk_billing, plan),
    JF("billing_email", J_STR_OR_NULL, lk_billing, billing_email),
    JF("updated_at", J_TIME, lk_billing, updated_at),
    JF_END,
};

void lk_json_user(lk_buf *b, const lk_user *u) { put_fields(b, u, user_fields); }
void lk_json_org(lk_buf *b, const lk_org *o) { put_fields(b, o, org_fields); }
void lk_json_member(lk_buf *b, const lk_member *m) { put_fields(b, m, member_fields); }
void lk_json_project(lk_buf *b, const lk_project *p) { put_fields(b, p, project_fields); }
void lk_json_env(lk_buf *b, const lk_env *v) { put_fields(b, v, env_fields); }
void lk_json_billing(lk_buf *b, const lk_billing *bl) { put_fields(b, bl, billing_fields); }

/* --- scopes: the key's scopes and allowed_cidrs as JSON arrays -------------- */

/* The shortest list that means s (a closed mask): every bit of s but the
 * implied ones (org:read; a :read whose :write is in s). */
static lk_scopes scopes_minimal(lk_scopes s)
{
    lk_scopes implied = LK_SCOPE_ORG_READ;
    for (unsigned i = 0; i < LK_SCOPE_COUNT; i++) {
        lk_scopes bit = (lk_scopes)1u << i;
        if ((s & bit) && lk_scope_close(bit) != (bit | LK_SCOPE_ORG_READ))
            implied |= lk_scope_close(bit) & ~bit; /* a :write bit: its :read */
    }
    lk_scopes m = s & ~implied;
    return m != 0 ? m : LK_SCOPE_ORG_READ;
}

/* ["*"], or the names of the minimal list in canonical (table) order. */
static void put_scopes(lk_buf *b, lk_scopes s)
{
    lk_buf_putc(b, '[');
    if ((s & LK_SCOPE_ALL) == LK_SCOPE_ALL) {
        LIT(b, "\"*\"]");
        return;
    }
    lk_scopes m = scopes_minimal(s);
    bool first = true;
    for (unsigned i = 0; i < LK_SCOPE_COUNT; i++) {
        const char *name = (m >> i) & 1u ? lk_scope_name((lk_scopes)1u << i) : NULL;
        if (name == NULL) continue;
        if (!first) lk_buf_putc(b, ',');
        put_cstr(b, name);
        first = false;
    }
    lk_buf_putc(b, ']');
}

/* "a,b" (stored canonical text, store.h) as ["a","b"]. */
static void put_csv(lk_buf *b, const char *csv)
{
    lk_buf_putc(b, '[');
    for (const char *p = csv; *p != '\0';) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (p != csv) lk_buf_putc(b, ',');
        lk_buf_put_str(b, p, n);
        p += n + (e != NULL);
    }
    lk_buf_putc(b, ']');
}

/* A key's members after its type, in the API's order. */
static const jfield key_head_fields[] = {
    JF("id", J_STR, lk_key, id),
    JF("name", J_STR, lk_key, name),
    JF_END,
};
static const jfield key_fields[] = {
    JF("redacted", J_STR, lk_key, redacted),
    JF("created_at", J_TIME, lk_key, created_at),
    JF("created_by", J_STR_OR_NULL, lk_key, created_by),
    JF("last_used_at", J_TIME, lk_key, last_used_at),
    JF("expires_at", J_TIME, lk_key, expires_at),
    /* --- rotate: null unless a previous token still works */
    JF("previous_token_expires_at", J_TIME_LIVE, lk_key, prev_expires_at),
    JF_END,
};
/* --- scopes --- */
static const jfield key_scope_fields[] = {
    JF("scopes", J_SCOPES, lk_key, scopes),
    JF("allowed_cidrs", J_CSV, lk_key, allowed_cidrs),
    JF("created_by_key", J_STR_OR_NULL, lk_key, created_by_key),
    JF("last_used_ip", J_STR_OR_NULL, lk_key, last_used_ip),
    JF_END,
};

void lk_json_key(lk_buf *b, const lk_key *k, const char *token)
{
    lk_buf_putc(b, '{');
    put_members(b, k, key_head_fields, true);
    if (k->type == LK_KEY_ORG)
        LIT(b, ",\"type\":\"organization\"");
    else
        LIT(b, ",\"type\":\"personal\"");
    put_members(b, k, key_fields, false);
    if (k->type == LK_KEY_ORG) {
        LIT(b, ",\"organization_id\":");
        put_cstr(b, k->org_id);
    }
    put_members(b, k, key_scope_fields, false);
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
