/*
 * scope.c — see scope.h. The table below is generated from LK_SCOPE_MAP;
 * a :write scope's :read partner is found by name, once, at look-up time
 * (the table is small and this is not on the hot path: only lk_scope_allows
 * is).
 */
#include "scope.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#define QUOTE_MAX 40
#define FIELD "scopes"

typedef struct scope_row {
    const char *name;
    lk_scopes bit;
} scope_row;

static const scope_row rows[] = {
#define LK__SCOPE_ROW(name, str, bit) {str, LK_SCOPE_##name},
    LK_SCOPE_MAP(LK__SCOPE_ROW)
#undef LK__SCOPE_ROW
};

_Static_assert(sizeof(rows) / sizeof(rows[0]) == LK_SCOPE_COUNT, "LK_SCOPE_COUNT");

#define NROWS (sizeof(rows) / sizeof(rows[0]))

/* The :read bit that goes with a :write bit (0 if bit is not :write). */
static lk_scopes read_of(lk_scopes bit)
{
    switch (bit) {
    case LK_SCOPE_BILLING_WRITE: return LK_SCOPE_BILLING_READ;
    case LK_SCOPE_KEYS_WRITE: return LK_SCOPE_KEYS_READ;
    case LK_SCOPE_MEMBERS_WRITE: return LK_SCOPE_MEMBERS_READ;
    case LK_SCOPE_ORG_WRITE: return LK_SCOPE_ORG_READ;
    case LK_SCOPE_PROJECTS_WRITE: return LK_SCOPE_PROJECTS_READ;
    case LK_SCOPE_USER_WRITE: return LK_SCOPE_USER_READ;
    default: return 0;
    }
}

lk_scopes lk_scope_close(lk_scopes s)
{
    s &= LK_SCOPE_ALL;
    for (size_t i = 0; i < NROWS; i++)
        if (s & rows[i].bit) s |= read_of(rows[i].bit);
    return s | LK_SCOPE_ORG_READ;
}

lk_scopes lk_scope_read_only(unsigned flags)
{
    lk_scopes s = 0;
    for (size_t i = 0; i < NROWS; i++) {
        size_t n = strlen(rows[i].name);
        if (n > 5 && strcmp(rows[i].name + n - 5, ":read") == 0) s |= rows[i].bit;
    }
    if (flags & LK_SCOPE_FOR_ORG_KEY) s &= ~(lk_scopes)LK_SCOPE_USER;
    return s;
}

lk_scopes lk_scope_from_name(const char *s, size_t len)
{
    if (s == NULL || len == 0 || len > LK_SCOPE_NAME_MAX) return 0;
    for (size_t i = 0; i < NROWS; i++)
        if (strlen(rows[i].name) == len && memcmp(rows[i].name, s, len) == 0) return rows[i].bit;
    return 0;
}

const char *lk_scope_name(lk_scopes bit)
{
    for (size_t i = 0; i < NROWS; i++)
        if (rows[i].bit == bit) return rows[i].name;
    return NULL;
}

/* LK_EVALIDATION naming the scope: quoted, cut, printable only. */
static int bad_scope(lk_err *e, const char *why, const char *s, size_t len)
{
    char q[QUOTE_MAX + 4];
    size_t n = len > QUOTE_MAX ? QUOTE_MAX : len;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        q[i] = (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? (char)c : '?';
    }
    memcpy(q + n, len > n ? "..." : "", len > n ? 4 : 1);
    int rc = lk_err_setf(e, LK_EVALIDATION, "%s scope \"%s\"", why, q);
    if (e != NULL) snprintf(e->field, sizeof(e->field), "%s", FIELD);
    return rc;
}

static int bad_list(lk_err *e, const char *msg)
{
    return lk_err_field(e, FIELD, msg);
}

/* One name into *acc; star counts the "*"s. */
static int add_name(const char *s, size_t len, unsigned flags, lk_scopes *acc, size_t *star,
                    lk_err *e)
{
    if (len == 1 && s[0] == '*') {
        if (*star) return bad_scope(e, "repeated", s, len);
        (*star)++;
        return LK_OK;
    }
    lk_scopes bit = lk_scope_from_name(s, len);
    if (bit == 0) return bad_scope(e, "unknown", s, len);
    if (*acc & bit) return bad_scope(e, "repeated", s, len);
    if ((flags & LK_SCOPE_FOR_ORG_KEY) && (bit & LK_SCOPE_USER))
        return bad_scope(e, "an organization key cannot have the personal", s, len);
    *acc |= bit;
    return LK_OK;
}

int lk_scope_parse_list(const char *const names[], const size_t lens[], size_t n,
                        unsigned flags, lk_scopes *out, lk_err *e)
{
    *out = 0;
    if (n == 0) return bad_list(e, "a key with no scopes could do nothing; give at least one");
    if (n > LK_SCOPE_LIST_MAX) return bad_list(e, "too many scopes");
    lk_scopes acc = 0;
    size_t star = 0;
    for (size_t i = 0; i < n; i++) {
        if (names[i] == NULL) return bad_list(e, "a scope must be a string");
        size_t len = lens ? lens[i] : strlen(names[i]);
        int rc = add_name(names[i], len, flags, &acc, &star, e);
        if (rc != LK_OK) return rc;
    }
    if (star && acc != 0) return bad_list(e, "\"*\" (every scope) cannot be listed with others");
    *out = star ? LK_SCOPE_ALL : lk_scope_close(acc);
    return LK_OK;
}

size_t lk_scope_format(lk_scopes s, const char *names[], size_t cap)
{
    s = lk_scope_close(s);
    if (s == LK_SCOPE_ALL) {
        if (cap > 0) names[0] = "*";
        return 1;
    }
    size_t n = 0;
    for (size_t i = 0; i < NROWS; i++) {
        if (!(s & rows[i].bit)) continue;
        if (n < cap) names[n] = rows[i].name;
        n++;
    }
    return n;
}

void lk_scope_format_text(lk_scopes s, char out[LK_SCOPE_TEXT_SIZE])
{
    const char *names[LK_SCOPE_COUNT];
    size_t n = lk_scope_format(s, names, LK_SCOPE_COUNT);
    assert(n <= LK_SCOPE_COUNT);
    size_t at = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        int w = snprintf(out + at, LK_SCOPE_TEXT_SIZE - at, "%s%s", i ? "," : "", names[i]);
        assert(w > 0 && (size_t)w < LK_SCOPE_TEXT_SIZE - at);
        at += (size_t)w;
    }
}
