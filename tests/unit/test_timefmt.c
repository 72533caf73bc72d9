/*
 * test_timefmt.c — RFC 3339 formatting and parsing (timefmt.h). Expected
 * values were computed independently with Python's datetime.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "timefmt.h"

#include <string.h>

static const struct {
    const char *s;
    int64_t t;
} vectors[] = {
    {"2026-11-24T11:06:21Z", 1795518381},  {"1970-01-01T00:00:00Z", 0},
    {"2000-02-29T23:59:59Z", 951868799},   {"2038-01-19T03:14:08Z", 2147483648LL},
    {"9999-12-31T23:59:59Z", 253402300799LL},
};

static int64_t parse(const char *s)
{
    int64_t t = -12345;
    if (lk_time_parse(s, strlen(s), &t) != 0) return -12345;
    return t;
}

static void format_vectors(void **state)
{
    (void)state;
    char out[LK_TIME_SIZE];
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        lk_time_format(vectors[i].t, out);
        assert_string_equal(out, vectors[i].s);
        assert_int_equal(strlen(out), LK_TIME_SIZE - 1);
    }
}

static void parse_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++)
        assert_int_equal(parse(vectors[i].s), vectors[i].t);
}

static void roundtrip(void **state)
{
    (void)state;
    char out[LK_TIME_SIZE];
    for (int64_t t = 0; t < 253402300799LL; t += 7777777 + t / 3) {
        lk_time_format(t, out);
        assert_int_equal(parse(out), t);
    }
}

static void offsets_and_fractions(void **state)
{
    (void)state;
    assert_int_equal(parse("2026-11-24T12:06:21+01:00"), 1795518381);
    assert_int_equal(parse("2026-11-24T05:36:21-05:30"), 1795518381);
    assert_int_equal(parse("2026-11-24T11:06:21+00:00"), 1795518381);
    assert_int_equal(parse("2026-11-24T11:06:21.123456Z"), 1795518381);
    assert_int_equal(parse("2026-11-24T11:06:21.5+01:00"), 1795518381 - 3600);
    assert_int_equal(parse("2026-11-24t11:06:21z"), 1795518381);
    assert_int_equal(parse("2024-02-29"), 1709164800); /* bare date: midnight UTC */
}

static void invalid(void **state)
{
    (void)state;
    static const char *bad[] = {
        "",
        "2026",
        "2026-11-24T11:06:21",         /* no zone */
        "2026-11-24T11:06Z",           /* no seconds */
        "2026-13-01T00:00:00Z",        /* month 13 */
        "2026-00-10T00:00:00Z",        /* month 0 */
        "2026-02-29T00:00:00Z",        /* not a leap year */
        "1900-02-29",                  /* century, not a leap year */
        "2026-04-31",                  /* April has 30 days */
        "2026-11-00",                  /* day 0 */
        "2026-11-24T24:00:00Z",        /* hour 24 */
        "2026-11-24T11:60:00Z",        /* minute 60 */
        "2026-11-24T11:06:21+01",      /* short offset */
        "2026-11-24T11:06:21+24:00",   /* offset hour 24 */
        "2026-11-24T11:06:21.Z",       /* empty fraction */
        "2026-11-24T11:06:21Zjunk",    /* trailing garbage */
        "2026/11/24",                  /* wrong separators */
        "26-11-24",
        "1969-12-31T23:59:59Z",        /* before the epoch */
        "2026-11-24X11:06:21Z",
        "+2026-11-24",
        "2026-1a-24",
    };
    int64_t t;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (lk_time_parse(bad[i], strlen(bad[i]), &t) == 0) fail_msg("accepted %s", bad[i]);
    }
    /* leap years that are valid */
    assert_int_equal(parse("2000-02-29"), 951782400);
    assert_int_equal(parse("2028-02-29T00:00:00Z") > 0, 1);
}

static void now_is_sane(void **state)
{
    (void)state;
    /* After 2025-01-01 and before 2100: the clock is the real one. */
    int64_t n = lk_time_now();
    assert_true(n > 1735689600);
    assert_true(n < 4102444800LL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(format_vectors),        cmocka_unit_test(parse_vectors),
        cmocka_unit_test(roundtrip),             cmocka_unit_test(offsets_and_fractions),
        cmocka_unit_test(invalid),               cmocka_unit_test(now_is_sane),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
