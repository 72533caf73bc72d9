/*
 * json_out.c — fixed-shape JSON writers (see json_out.h). No allocation
 * except from the pool; no jansson.
 */
#include "json_out.h"

#include "timefmt.h"

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

void lk_buf_put_str(lk_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    reserve(b, n + 2);
    b->p[b->len++] = '"';
    size_t run = 0; /* start of the pending unescaped run */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
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
        lk_buf_putn(b, "null", 4);
        return;
    }
    char s[LK_TIME_SIZE];
    lk_time_format(t, s);
    lk_buf_putc(b, '"');
    lk_buf_puts(b, s);
    lk_buf_putc(b, '"');
}

/* `"key":"value"` for a NUL-terminated record field. */
static void field_str(lk_buf *b, const char *key, const char *v)
{
    lk_buf_put_key(b, key);
    lk_buf_put_str(b, v, strlen(v));
}

/* "key":"value" or "key":null for an empty optional string. */
static void field_str_or_null(lk_buf *b, const char *key, const char *v)
{
    lk_buf_put_key(b, key);
    if (v[0] == '\0')
        lk_buf_putn(b, "null", 4);
    else
        lk_buf_put_str(b, v, strlen(v));
}

static void field_time(lk_buf *b, const char *key, int64_t t)
{
    lk_buf_put_key(b, key);
    lk_buf_put_time(b, t);
}

void lk_json_user(lk_buf *b, const lk_user *u)
{
    lk_buf_putc(b, '{');
    field_str(b, "id", u->id);
    lk_buf_putc(b, ',');
    field_str(b, "email", u->email);
    lk_buf_putc(b, ',');
    field_str(b, "name", u->name);
    lk_buf_putc(b, ',');
    field_time(b, "created_at", u->created_at);
    lk_buf_putc(b, '}');
}

void lk_json_org(lk_buf *b, const lk_org *o)
{
    lk_buf_putc(b, '{');
    field_str(b, "id", o->id);
    lk_buf_putc(b, ',');
    field_str(b, "name", o->name);
    lk_buf_putc(b, ',');
    field_time(b, "created_at", o->created_at);
    lk_buf_putc(b, '}');
}

void lk_json_member(lk_buf *b, const lk_member *m)
{
    lk_buf_putc(b, '{');
    field_str(b, "user_id", m->user_id);
    lk_buf_putc(b, ',');
    field_str(b, "email", m->email);
    lk_buf_putc(b, ',');
    field_str(b, "name", m->name);
    lk_buf_putc(b, ',');
    field_time(b, "joined_at", m->joined_at);
    lk_buf_putc(b, '}');
}

void lk_json_project(lk_buf *b, const lk_project *p)
{
    lk_buf_putc(b, '{');
    field_str(b, "id", p->id);
    lk_buf_putc(b, ',');
    field_str(b, "name", p->name);
    lk_buf_putc(b, ',');
    field_str(b, "organization_id", p->org_id);
    lk_buf_putc(b, ',');
    field_time(b, "created_at", p->created_at);
    lk_buf_putc(b, '}');
}

void lk_json_env(lk_buf *b, const lk_env *v)
{
    lk_buf_putc(b, '{');
    field_str(b, "id", v->id);
    lk_buf_putc(b, ',');
    field_str(b, "name", v->name);
    lk_buf_putc(b, ',');
    field_str(b, "project_id", v->project_id);
    lk_buf_putc(b, ',');
    field_time(b, "created_at", v->created_at);
    lk_buf_putc(b, '}');
}

void lk_json_billing(lk_buf *b, const lk_billing *bl)
{
    lk_buf_putc(b, '{');
    field_str(b, "plan", bl->plan);
    lk_buf_putc(b, ',');
    field_str_or_null(b, "billing_email", bl->billing_email);
    lk_buf_putc(b, ',');
    field_time(b, "updated_at", bl->updated_at);
    lk_buf_putc(b, '}');
}

void lk_json_key(lk_buf *b, const lk_key *k, const char *token)
{
    lk_buf_putc(b, '{');
    field_str(b, "id", k->id);
    lk_buf_putc(b, ',');
    field_str(b, "name", k->name);
    lk_buf_putc(b, ',');
    field_str(b, "type", k->type == LK_KEY_ORG ? "organization" : "personal");
    lk_buf_putc(b, ',');
    field_str(b, "redacted", k->redacted);
    lk_buf_putc(b, ',');
    field_time(b, "created_at", k->created_at);
    lk_buf_putc(b, ',');
    field_str_or_null(b, "created_by", k->created_by);
    lk_buf_putc(b, ',');
    field_time(b, "last_used_at", k->last_used_at);
    lk_buf_putc(b, ',');
    field_time(b, "expires_at", k->expires_at);
    if (k->type == LK_KEY_ORG) {
        lk_buf_putc(b, ',');
        field_str(b, "organization_id", k->org_id);
    }
    if (token != NULL) {
        lk_buf_putc(b, ',');
        field_str(b, "token", token);
    }
    lk_buf_putc(b, '}');
}

void lk_json_whoami(lk_buf *b, const lk_whoami *w)
{
    const char *kind = w->kind == LK_PRINCIPAL_ORG_KEY        ? "organization_key"
                       : w->kind == LK_PRINCIPAL_PERSONAL_KEY ? "personal_key"
                                                              : "user";
    lk_buf_putc(b, '{');
    field_str(b, "principal", kind);
    if (w->has_user) {
        lk_buf_putn(b, ",\"user\":", 8);
        lk_json_user(b, &w->user);
    }
    if (w->has_org) {
        lk_buf_putn(b, ",\"organization\":", 16);
        lk_json_org(b, &w->org);
    }
    if (w->has_key) {
        lk_buf_putn(b, ",\"key\":", 7);
        lk_json_key(b, &w->key, NULL);
    }
    lk_buf_putc(b, '}');
}

void lk_json_list_begin(lk_json_list *l, lk_buf *b)
{
    l->b = b;
    l->n = 0;
    lk_buf_putn(b, "{\"data\":[", 9);
}

void lk_json_list_sep(lk_json_list *l)
{
    if (l->n++ > 0) lk_buf_putc(l->b, ',');
}

void lk_json_list_end(lk_json_list *l, int64_t next)
{
    lk_buf_putn(l->b, "],\"next_cursor\":", 16);
    if (next == 0) {
        lk_buf_putn(l->b, "null}", 5);
        return;
    }
    char c[LK_CURSOR_SIZE];
    lk_svc_format_cursor(next, c);
    lk_buf_put_str(l->b, c, strlen(c));
    lk_buf_putc(l->b, '}');
}
