/*
 * test_validate.c — every input rule of the contract (validate.h): names
 * (trimming, 1..100 code points, strict UTF-8, control characters), emails
 * and passwords.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "validate.h"

#include <string.h>

#define S(x) x, sizeof(x) - 1

static int name(const char *s, size_t len, char out[LK_NAME_SIZE], lk_err *e)
{
    lk_err_clear(e);
    return lk_validate_name(s, len, out, "name", e);
}

static void name_trims(void **state)
{
    (void)state;
    char out[LK_NAME_SIZE];
    lk_err e;
    assert_int_equal(name(S("  prod \t\n"), out, &e), LK_OK);
    assert_string_equal(out, "prod");
    assert_int_equal(name(S("a b"), out, &e), LK_OK);
    assert_string_equal(out, "a b");
    assert_int_equal(name(S("x"), out, &e), LK_OK);
    assert_string_equal(out, "x");
}

static void name_empty(void **state)
{
    (void)state;
    char out[LK_NAME_SIZE];
    lk_err e;
    assert_int_equal(name(S(""), out, &e), LK_EVALIDATION);
    assert_string_equal(e.field, "name");
    assert_int_equal(name(S("   \t\r\n "), out, &e), LK_EVALIDATION);
    assert_string_equal(e.field, "name");
}

static void name_length_ascii(void **state)
{
    (void)state;
    char in[200], out[LK_NAME_SIZE];
    lk_err e;
    memset(in, 'a', sizeof(in));
    assert_int_equal(name(in, 100, out, &e), LK_OK);
    assert_int_equal(strlen(out), 100);
    assert_int_equal(name(in, 101, out, &e), LK_EVALIDATION);
    /* padding does not count */
    char padded[110];
    memset(padded, ' ', sizeof(padded));
    memset(padded + 5, 'b', 100);
    assert_int_equal(name(padded, sizeof(padded), out, &e), LK_OK);
    assert_int_equal(strlen(out), 100);
}

static void name_length_multibyte(void **state)
{
    (void)state;
    /* 100 x "é" (2 bytes), 100 x "€" (3 bytes), 100 x "😀" (4 bytes): all
     * fit; one more of each does not. Counted in code points, not bytes. */
    static const char *chars[] = {"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80"};
    char in[600], out[LK_NAME_SIZE];
    lk_err e;
    for (size_t c = 0; c < 3; c++) {
        size_t w = strlen(chars[c]), n = 0;
        for (int i = 0; i < 101; i++, n += w) memcpy(in + n, chars[c], w);
        assert_int_equal(name(in, w * 100, out, &e), LK_OK);
        assert_int_equal(strlen(out), w * 100);
        assert_int_equal(name(in, w * 101, out, &e), LK_EVALIDATION);
        assert_string_equal(e.field, "name");
    }
}

static void name_bad_utf8(void **state)
{
    (void)state;
    char out[LK_NAME_SIZE];
    lk_err e;
    /* overlong encodings of '/', NUL and U+07FF */
    assert_int_equal(name(S("a\xC0\xAF"), out, &e), LK_EVALIDATION);
    assert_int_equal(name(S("a\xC1\xBF"), out, &e), LK_EVALIDATION);
    assert_int_equal(name(S("a\xE0\x80\xAF"), out, &e), LK_EVALIDATION);
    assert_int_equal(name(S("a\xE0\x9F\xBF"), out, &e), LK_EVALIDATION);
    assert_int_equal(name(S("a\xF0\x80\x80\xAF"), out, &e), LK_EVALIDATION);
    /* UTF-16 surrogates encoded in UTF-8 (CESU) */
    assert_int_equal(name(S("a\xED\xA0\x80"), out, &e), LK_EVALIDATION);
    assert_int_equal(name(S("a\xED\xBF\xBF"), out, &e), LK_EVALIDATION);
    /* beyond U+10FFFF, stray continuation, truncated sequences, 0xFF */
    assert_int_equal(name(S("a\xF4\x90\x80\x80"), out, &e), LK_EVALIDATION);
    assert_int_equal(name(S("a\x80"), out, &e), LK_EVALIDATION);
    assert_int_equal(name(S("a\xE2\x82"), out, &e), LK_EVALIDATION);
    assert_int_equal(name(S("\xC3"), out, &e), LK_EVALIDATION);
    assert_int_equal(name(S("a\xFF"), out, &e), LK_EVALIDATION);
    assert_string_equal(e.field, "name");
    /* the largest valid code points just below the limits are fine */
    assert_int_equal(name(S("\xED\x9F\xBF"), out, &e), LK_OK);     /* U+D7FF */
    assert_int_equal(name(S("\xEE\x80\x80"), out, &e), LK_OK);     /* U+E000 */
    assert_int_equal(name(S("\xF4\x8F\xBF\xBF"), out, &e), LK_OK); /* U+10FFFF */
}

static void name_controls(void **state)
{
    (void)state;
    char out[LK_NAME_SIZE];
    lk_err e;
    assert_int_equal(name(S("a\x01z"), out, &e), LK_EVALIDATION);
    assert_int_equal(name(S("a\nz"), out, &e), LK_EVALIDATION); /* inner newline */
    assert_int_equal(name(S("a\tz"), out, &e), LK_EVALIDATION);
    assert_int_equal(name("a\0z", 3, out, &e), LK_EVALIDATION);
    assert_int_equal(name(S("a\x7Fz"), out, &e), LK_EVALIDATION);  /* DEL */
    assert_int_equal(name(S("a\xC2\x80z"), out, &e), LK_EVALIDATION); /* U+0080 (C1) */
    assert_int_equal(name(S("a\xC2\x85z"), out, &e), LK_EVALIDATION); /* NEL */
    assert_int_equal(name(S("a\xC2\x9Fz"), out, &e), LK_EVALIDATION); /* U+009F */
    assert_string_equal(e.field, "name");
    assert_int_equal(name(S("a\xC2\xA0z"), out, &e), LK_OK); /* U+00A0 is not a control */
}

static void name_field_is_reported(void **state)
{
    (void)state;
    char out[LK_NAME_SIZE];
    lk_err e;
    lk_err_clear(&e);
    assert_int_equal(lk_validate_name(S(""), out, "title", &e), LK_EVALIDATION);
    assert_string_equal(e.field, "title");
    assert_int_equal(e.code, LK_EVALIDATION);
    assert_true(e.message[0] != '\0');
}

static int email(const char *s, size_t len, char *out, char *lower, lk_err *e)
{
    lk_err_clear(e);
    return lk_validate_email(s, len, out, lower, "email", e);
}

static void email_rules(void **state)
{
    (void)state;
    char out[LK_EMAIL_SIZE], lower[LK_EMAIL_SIZE];
    lk_err e;
    assert_int_equal(email(S(" Ann.Lee@Example.COM "), out, lower, &e), LK_OK);
    assert_string_equal(out, "Ann.Lee@Example.COM");
    assert_string_equal(lower, "ann.lee@example.com");
    assert_int_equal(email(S("a@b"), NULL, NULL, &e), LK_OK);

    assert_int_equal(email(S(""), out, lower, &e), LK_EVALIDATION);
    assert_string_equal(e.field, "email");
    assert_int_equal(email(S("plain"), out, lower, &e), LK_EVALIDATION);
    assert_int_equal(email(S("@b.com"), out, lower, &e), LK_EVALIDATION);
    assert_int_equal(email(S("a@"), out, lower, &e), LK_EVALIDATION);
    assert_int_equal(email(S("a@b@c"), out, lower, &e), LK_EVALIDATION);
    assert_int_equal(email(S("a b@c.com"), out, lower, &e), LK_EVALIDATION);
    assert_int_equal(email(S("a\x01@c.com"), out, lower, &e), LK_EVALIDATION);
    assert_int_equal(email(S("a@c\xC0\xAF"), out, lower, &e), LK_EVALIDATION);

    /* 254 bytes is the limit */
    char in[300];
    memset(in, 'a', sizeof(in));
    in[0] = 'x';
    in[1] = '@';
    assert_int_equal(email(in, 254, out, lower, &e), LK_OK);
    assert_int_equal(strlen(out), 254);
    assert_int_equal(email(in, 255, out, lower, &e), LK_EVALIDATION);
}

static void password_rules(void **state)
{
    (void)state;
    lk_err e;
    char in[1100];
    lk_err_clear(&e);
    assert_int_equal(lk_validate_password(S("1234567"), &e), LK_EVALIDATION);
    assert_string_equal(e.field, "password");
    assert_null(strstr(e.message, "1234567")); /* never echoed */
    assert_int_equal(lk_validate_password(S("12345678"), &e), LK_OK);
    memset(in, 'p', sizeof(in));
    assert_int_equal(lk_validate_password(in, 256, &e), LK_OK);
    assert_int_equal(lk_validate_password(in, 257, &e), LK_EVALIDATION);
    /* counted in characters: 8 emoji are 32 bytes and 8 characters */
    size_t n = 0;
    for (int i = 0; i < 256; i++, n += 4) memcpy(in + n, "\xF0\x9F\x98\x80", 4);
    assert_int_equal(lk_validate_password(in, 7 * 4, &e), LK_EVALIDATION);
    assert_int_equal(lk_validate_password(in, 8 * 4, &e), LK_OK);
    assert_int_equal(lk_validate_password(in, 256 * 4, &e), LK_OK);
    assert_int_equal(lk_validate_password(S("abcdefg\xC3"), &e), LK_EVALIDATION);
    assert_int_equal(lk_validate_password("abcd\0efgh", 9, &e), LK_EVALIDATION);
}

static void utf8_counts(void **state)
{
    (void)state;
    size_t n = 0;
    assert_true(lk_utf8_valid(S("a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"), &n));
    assert_int_equal(n, 4);
    assert_true(lk_utf8_valid("", 0, &n));
    assert_int_equal(n, 0);
    assert_false(lk_utf8_valid(S("\xED\xA0\x80"), NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(name_trims),          cmocka_unit_test(name_empty),
        cmocka_unit_test(name_length_ascii),   cmocka_unit_test(name_length_multibyte),
        cmocka_unit_test(name_bad_utf8),       cmocka_unit_test(name_controls),
        cmocka_unit_test(name_field_is_reported), cmocka_unit_test(email_rules),
        cmocka_unit_test(password_rules),      cmocka_unit_test(utf8_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
