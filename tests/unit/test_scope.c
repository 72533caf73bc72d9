/*
 * test_scope.c — the scope bitmask (scope.h): the name table (sorted, one
 * bit each, round trip), :write implying :read, org:read always held, every
 * refusal of the contract (unknown, duplicate, empty, "*" with others,
 * user:* on an org key) naming the field "scopes", the canonical format,
 * read-only masks, and the allows check used by authz and minting limits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "scope.h"

#include <string.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void table(void **state)
{
    (void)state;
    const char *names[LK_SCOPE_COUNT + 1];
    size_t n = lk_scope_format(LK_SCOPE_ALL & ~(lk_scopes)LK_SCOPE_AUDIT_READ, names, N(names));
    assert_int_equal(n, LK_SCOPE_COUNT - 1);
    for (size_t i = 1; i < n; i++) assert_true(strcmp(names[i - 1], names[i]) < 0); /* sorted */
    lk_scopes seen = 0;
    for (unsigned bit = 0; bit < LK_SCOPE_COUNT; bit++) {
        lk_scopes b = (lk_scopes)1u << bit;
        const char *name = lk_scope_name(b);
        assert_non_null(name);
        assert_int_equal(lk_scope_from_name(name, strlen(name)), b);
        assert_int_equal(seen & b, 0);
        seen |= b;
    }
    assert_int_equal(seen, LK_SCOPE_ALL);
    assert_null(lk_scope_name(0));
    assert_null(lk_scope_name(LK_SCOPE_KEYS_READ | LK_SCOPE_KEYS_WRITE));
    assert_int_equal(lk_scope_from_name("*", 1), 0);
    assert_int_equal(lk_scope_from_name("keys:read", 4), 0); /* length is honoured */
    assert_int_equal(lk_scope_from_name("KEYS:READ", 9), 0); /* exact, case-sensitive */
}

static lk_scopes parse_ok(const char *const *names, size_t n, unsigned flags)
{
    lk_scopes s = 0;
    lk_err e;
    lk_err_clear(&e);
    assert_int_equal(lk_scope_parse_list(names, NULL, n, flags, &s, &e), LK_OK);
    return s;
}

static void parse_and_imply(void **state)
{
    (void)state;
    const char *a[] = {"projects:write"};
    lk_scopes s = parse_ok(a, 1, 0);
    assert_int_equal(s, LK_SCOPE_PROJECTS_WRITE | LK_SCOPE_PROJECTS_READ | LK_SCOPE_ORG_READ);
    const char *b[] = {"*"};
    assert_int_equal(parse_ok(b, 1, 0), LK_SCOPE_ALL);
    assert_int_equal(parse_ok(b, 1, LK_SCOPE_FOR_ORG_KEY), LK_SCOPE_ALL);
    const char *c[] = {"keys:read", "audit:read", "org:read"};
    assert_int_equal(parse_ok(c, 3, LK_SCOPE_FOR_ORG_KEY),
                     LK_SCOPE_KEYS_READ | LK_SCOPE_AUDIT_READ | LK_SCOPE_ORG_READ);
    const char *d[] = {"user:write"};
    assert_int_equal(parse_ok(d, 1, 0), LK_SCOPE_USER | LK_SCOPE_ORG_READ);
    /* listing a :read beside its :write is not a duplicate */
    const char *e2[] = {"billing:read", "billing:write"};
    assert_int_equal(parse_ok(e2, 2, 0),
                     LK_SCOPE_BILLING_READ | LK_SCOPE_BILLING_WRITE | LK_SCOPE_ORG_READ);
    /* lengths given explicitly (JSON strings) */
    const char *f[] = {"members:write-and-more"};
    size_t lens[] = {13};
    lk_scopes s2;
    assert_int_equal(lk_scope_parse_list(f, lens, 1, 0, &s2, NULL), LK_OK);
    assert_true(s2 & LK_SCOPE_MEMBERS_WRITE);
}

static void parse_bad(const char *const *names, size_t n, unsigned flags, const char *needle)
{
    lk_scopes s = 123;
    lk_err e;
    lk_err_clear(&e);
    assert_int_equal(lk_scope_parse_list(names, NULL, n, flags, &s, &e), LK_EVALIDATION);
    assert_int_equal(s, 0);
    assert_string_equal(e.field, "scopes");
    assert_string_equal(lk_err_api_code(e.code), "validation_failed");
    if (needle) assert_non_null(strstr(e.message, needle));
}

static void refusals(void **state)
{
    (void)state;
    const char *unknown[] = {"projects:read", "projects:delete"};
    parse_bad(unknown, 2, 0, "\"projects:delete\"");
    const char *dup[] = {"keys:read", "audit:read", "keys:read"};
    parse_bad(dup, 3, 0, "\"keys:read\"");
    parse_bad(NULL, 0, 0, "nothing");
    const char *mixed[] = {"*", "keys:read"};
    parse_bad(mixed, 2, 0, "\"*\"");
    const char *mixed2[] = {"keys:read", "*"};
    parse_bad(mixed2, 2, 0, NULL);
    const char *stars[] = {"*", "*"};
    parse_bad(stars, 2, 0, NULL);
    const char *user[] = {"keys:read", "user:read"};
    parse_bad(user, 2, LK_SCOPE_FOR_ORG_KEY, "\"user:read\"");
    const char *userw[] = {"user:write"};
    parse_bad(userw, 1, LK_SCOPE_FOR_ORG_KEY, NULL);
    const char *empty[] = {""};
    parse_bad(empty, 1, 0, NULL);
    const char *spaced[] = {" keys:read"};
    parse_bad(spaced, 1, 0, NULL);
    const char *nul[] = {NULL};
    parse_bad(nul, 1, 0, NULL);
    /* a hostile name is quoted short and printable */
    char big[300];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    big[3] = '\n';
    big[4] = '"';
    const char *hostile[] = {big};
    parse_bad(hostile, 1, 0, "...");
    lk_err e;
    lk_scopes s;
    lk_scope_parse_list(hostile, NULL, 1, 0, &s, &e);
    assert_null(strchr(e.message, '\n'));
    assert_true(strlen(e.message) < 100);
    /* more names than LK_SCOPE_LIST_MAX */
    const char *many[LK_SCOPE_LIST_MAX + 1];
    for (size_t i = 0; i < N(many); i++) many[i] = "keys:read";
    parse_bad(many, N(many), 0, "too many");
}

static void format(void **state)
{
    (void)state;
    char t[LK_SCOPE_TEXT_SIZE];
    lk_scope_format_text(LK_SCOPE_ALL, t);
    assert_string_equal(t, "*");
    lk_scope_format_text(LK_SCOPE_PROJECTS_WRITE, t); /* closed before formatting */
    assert_string_equal(t, "org:read,projects:read,projects:write");
    lk_scope_format_text(LK_SCOPE_ALL & ~(lk_scopes)LK_SCOPE_USER, t);
    assert_string_equal(t, "audit:read,billing:read,billing:write,keys:read,keys:write,"
                           "members:read,members:write,org:read,org:write,projects:read,"
                           "projects:write");
    const char *names[2];
    assert_int_equal(lk_scope_format(LK_SCOPE_KEYS_WRITE | LK_SCOPE_AUDIT_READ, names, 2), 4);
    assert_string_equal(names[0], "audit:read");
    assert_string_equal(names[1], "keys:read");
    /* format then parse is the identity on closed masks */
    for (lk_scopes m = 0; m <= LK_SCOPE_ALL; m += 37) {
        lk_scopes closed = lk_scope_close(m);
        const char *list[LK_SCOPE_COUNT];
        size_t n = lk_scope_format(closed, list, LK_SCOPE_COUNT);
        assert_int_equal(parse_ok(list, n, 0), closed);
    }
}

static void read_only_and_allows(void **state)
{
    (void)state;
    lk_scopes ro = lk_scope_read_only(0);
    assert_int_equal(ro, LK_SCOPE_AUDIT_READ | LK_SCOPE_BILLING_READ | LK_SCOPE_KEYS_READ |
                             LK_SCOPE_MEMBERS_READ | LK_SCOPE_ORG_READ |
                             LK_SCOPE_PROJECTS_READ | LK_SCOPE_USER_READ);
    assert_int_equal(lk_scope_read_only(LK_SCOPE_FOR_ORG_KEY), ro & ~(lk_scopes)LK_SCOPE_USER_READ);
    assert_int_equal(lk_scope_close(ro), ro);
    assert_true(lk_scope_allows(ro, LK_SCOPE_PROJECTS_READ));
    assert_false(lk_scope_allows(ro, LK_SCOPE_PROJECTS_WRITE));
    assert_true(lk_scope_allows(LK_SCOPE_ALL, LK_SCOPE_ALL));
    assert_true(lk_scope_allows(LK_SCOPE_ORG_READ, 0));
    /* minting: a key may create keys only within its own scopes */
    lk_scopes minter = lk_scope_close(LK_SCOPE_KEYS_WRITE | LK_SCOPE_PROJECTS_READ);
    assert_true(lk_scope_allows(minter, lk_scope_close(LK_SCOPE_PROJECTS_READ)));
    assert_false(lk_scope_allows(minter, lk_scope_close(LK_SCOPE_PROJECTS_WRITE)));
    assert_false(lk_scope_allows(minter, LK_SCOPE_ALL));
    /* close ignores bits outside the table */
    assert_int_equal(lk_scope_close(0xffffffffu), LK_SCOPE_ALL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table),    cmocka_unit_test(parse_and_imply),
        cmocka_unit_test(refusals), cmocka_unit_test(format),
        cmocka_unit_test(read_only_and_allows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
