/*
 * test_cidr.c — addresses and CIDR ranges (cidr.h): what parses and how it
 * is written back, everything the contract says to refuse (with the field
 * named), host-bit normalisation, containment across families (IPv4-mapped
 * IPv6), and lists (duplicates after normalisation, the 33rd range).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cidr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static void addr_ok(const char *in, const char *canonical, int family)
{
    lk_addr a;
    char out[LK_ADDR_TEXT_SIZE];
    assert_int_equal(lk_addr_parse(in, strlen(in), &a, "ip", NULL), LK_OK);
    assert_int_equal(a.family, family);
    lk_addr_format(&a, out);
    assert_string_equal(out, canonical);
}

static void addr_bad(const char *in, size_t len)
{
    lk_addr a;
    lk_err e;
    lk_err_clear(&e);
    assert_int_equal(lk_addr_parse(in, len, &a, "ip", &e), LK_EVALIDATION);
    assert_string_equal(e.field, "ip");
    assert_int_equal(a.family, 0);
}

static void addresses(void **state)
{
    (void)state;
    addr_ok("203.0.113.5", "203.0.113.5", LK_ADDR_V4);
    addr_ok("0.0.0.0", "0.0.0.0", LK_ADDR_V4);
    addr_ok("255.255.255.255", "255.255.255.255", LK_ADDR_V4);
    addr_ok("2001:DB8:0:0:0:0:0:1", "2001:db8::1", LK_ADDR_V6);
    addr_ok("2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1", LK_ADDR_V6);
    addr_ok("::", "::", LK_ADDR_V6);
    addr_ok("::1", "::1", LK_ADDR_V6);
    addr_ok("::ffff:1.2.3.4", "::ffff:1.2.3.4", LK_ADDR_V6);
    addr_ok("0001:0db8::0001", "1:db8::1", LK_ADDR_V6);
    const char *bad[] = {
        "", "1.2.3", "1.2.3.4.5", "256.1.1.1", "300.1.1.1", "1.2.3.-4", "+1.2.3.4",
        "010.0.0.1", "1.02.3.4", "1..3.4", ".1.2.3", "1.2.3.4.", " 1.2.3.4", "1.2.3.4 ",
        "1.2.3.4x", "0x1.2.3.4", "1.2.3.4:80", "[::1]", "::1%eth0", "fe80::1%1",
        "1:2:3:4:5:6:7:8:9", "12345::", ":::", "1::2::3", "::ffff:01.2.3.4",
        "::ffff:1.2.3.256", "g::1", "localhost", "1.2.3.4/32", "1000",
        "11111111111111111111111111111111111111111111111111111111111111111111",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) addr_bad(bad[i], strlen(bad[i]));
    /* an embedded NUL and a length that stops early */
    addr_bad("1.2.3.4\0", 8);
    lk_addr a;
    assert_int_equal(lk_addr_parse("1.2.3.45", 7, &a, NULL, NULL), LK_OK);
    char out[LK_ADDR_TEXT_SIZE];
    lk_addr_format(&a, out);
    assert_string_equal(out, "1.2.3.4");
}

static void unmap_and_sockaddr(void **state)
{
    (void)state;
    lk_addr a, u;
    char out[LK_ADDR_TEXT_SIZE];
    assert_int_equal(lk_addr_parse("::ffff:192.0.2.1", 16, &a, NULL, NULL), LK_OK);
    lk_addr_unmap(&a, &u);
    assert_int_equal(u.family, LK_ADDR_V4);
    lk_addr_format(&u, out);
    assert_string_equal(out, "192.0.2.1");
    assert_int_equal(lk_addr_parse("2001:db8::1", 11, &a, NULL, NULL), LK_OK);
    lk_addr_unmap(&a, &u);
    assert_true(lk_addr_equal(&a, &u));

    struct sockaddr_in6 s6;
    memset(&s6, 0, sizeof(s6));
    s6.sin6_family = AF_INET6;
    assert_int_equal(inet_pton(AF_INET6, "::ffff:10.1.2.3", &s6.sin6_addr), 1);
    assert_int_equal(lk_addr_from_sockaddr(&s6, &a), LK_OK);
    lk_addr_format(&a, out);
    assert_string_equal(out, "::ffff:10.1.2.3");
    struct sockaddr_in s4;
    memset(&s4, 0, sizeof(s4));
    s4.sin_family = AF_INET;
    s4.sin_addr.s_addr = htonl(0x7f000001);
    assert_int_equal(lk_addr_from_sockaddr(&s4, &a), LK_OK);
    lk_addr_format(&a, out);
    assert_string_equal(out, "127.0.0.1");
    struct sockaddr other;
    memset(&other, 0, sizeof(other));
    other.sa_family = AF_UNIX;
    assert_int_equal(lk_addr_from_sockaddr(&other, &a), LK_EVALIDATION);
}

static void cidr_ok(const char *in, const char *canonical, bool want_norm)
{
    lk_cidr c;
    bool norm = !want_norm;
    char out[LK_CIDR_TEXT_SIZE];
    assert_int_equal(lk_cidr_parse(in, strlen(in), &c, &norm, "allowed_cidrs", NULL), LK_OK);
    assert_int_equal(norm, want_norm);
    lk_cidr_format(&c, out);
    assert_string_equal(out, canonical);
    /* the canonical text parses to the same range, unchanged */
    lk_cidr again;
    assert_int_equal(lk_cidr_parse(out, strlen(out), &again, &norm, NULL, NULL), LK_OK);
    assert_false(norm);
    assert_true(lk_cidr_equal(&c, &again));
}

static void cidrs(void **state)
{
    (void)state;
    cidr_ok("203.0.113.0/24", "203.0.113.0/24", false);
    cidr_ok("2001:db8::/32", "2001:db8::/32", false);
    cidr_ok("10.1.2.3/8", "10.0.0.0/8", true);
    cidr_ok("10.1.2.3", "10.1.2.3/32", false);
    cidr_ok("2001:db8::1", "2001:db8::1/128", false);
    cidr_ok("0.0.0.0/0", "0.0.0.0/0", false);
    cidr_ok("1.2.3.4/0", "0.0.0.0/0", true);
    cidr_ok("::/0", "::/0", false);
    cidr_ok("2001:db8:ffff::/33", "2001:db8:8000::/33", true);
    cidr_ok("192.168.1.255/31", "192.168.1.254/31", true);
    cidr_ok("::1/128", "::1/128", false);

    const char *bad[] = {
        "300.1.1.1/8", "10.0.0.0/33", "::1/129", "010.0.0.1/8", "1.2.3.4/", "1.2.3.4/-1",
        "1.2.3.4/+8", "1.2.3.4/08", "1.2.3.4/8/8", "1.2.3.4 /8", "1.2.3.4/ 8", " 1.2.3.4/8",
        "1.2.3.4/8 ", "/8", "/", "junk", "10.0.0.0/1000", "2001:db8::/0128", "1.2.3.4/8x",
        "[::1]/128", "::1%lo/128", "1.2.3.4\t/8", "",
        "2001:0db8:0000:0000:0000:0000:0000:0001/128xxxxxxxxxxxxxxxxxxxxxxxxxxx",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        lk_cidr c;
        lk_err e;
        lk_err_clear(&e);
        assert_int_equal(lk_cidr_parse(bad[i], strlen(bad[i]), &c, NULL, "allowed_cidrs", &e),
                         LK_EVALIDATION);
        assert_string_equal(e.field, "allowed_cidrs");
        assert_int_equal(lk_err_http_status(e.code), 400);
        assert_int_equal(c.net.family, 0);
    }
    /* a message quotes only a short, printable piece of the input */
    char big[200];
    memset(big, 'A', sizeof(big));
    big[5] = '\n';
    lk_err e;
    lk_cidr c;
    assert_int_equal(lk_cidr_parse(big, sizeof(big), &c, NULL, "f", &e), LK_EVALIDATION);
    assert_null(strchr(e.message, '\n'));
    assert_true(strlen(e.message) < 100);
}

static bool in(const char *cidr, const char *addr)
{
    lk_cidr c;
    lk_addr a;
    assert_int_equal(lk_cidr_parse(cidr, strlen(cidr), &c, NULL, NULL, NULL), LK_OK);
    assert_int_equal(lk_addr_parse(addr, strlen(addr), &a, NULL, NULL), LK_OK);
    return lk_cidr_contains(&c, &a);
}

static void containment(void **state)
{
    (void)state;
    assert_true(in("203.0.113.0/24", "203.0.113.255"));
    assert_false(in("203.0.113.0/24", "203.0.114.0"));
    assert_true(in("10.0.0.0/8", "10.255.0.1"));
    assert_false(in("10.0.0.0/8", "11.0.0.0"));
    assert_true(in("0.0.0.0/0", "8.8.8.8"));
    assert_true(in("1.2.3.4", "1.2.3.4"));
    assert_false(in("1.2.3.4", "1.2.3.5"));
    assert_true(in("192.168.0.0/23", "192.168.1.7"));
    assert_false(in("192.168.0.0/23", "192.168.2.7"));
    assert_true(in("2001:db8::/32", "2001:db8:ffff::1"));
    assert_false(in("2001:db8::/32", "2001:db9::1"));
    assert_true(in("2001:db8::/33", "2001:db8:7fff::1"));
    assert_false(in("2001:db8::/33", "2001:db8:8000::1"));
    /* IPv4-mapped IPv6 peers match IPv4 ranges, and IPv4 matches mapped ranges */
    assert_true(in("203.0.113.0/24", "::ffff:203.0.113.7"));
    assert_false(in("203.0.113.0/24", "::ffff:203.0.114.7"));
    assert_true(in("::ffff:0:0/96", "198.51.100.1"));
    /* no other crossing between families */
    assert_false(in("0.0.0.0/0", "2001:db8::1"));
    /* ...except that an IPv4 client is also its mapped IPv6 address */
    assert_true(in("::/0", "1.2.3.4"));
    assert_false(in("2001:db8::/32", "1.2.3.4"));
    assert_false(in("2001:db8::/32", "32.1.13.184")); /* 2001:0db8 as IPv4 bytes */
}

static void lists(void **state)
{
    (void)state;
    lk_cidr_list l;
    unsigned norm = 99;
    lk_err e;
    const char *s = " 10.0.0.0/8 , 2001:db8::/32,192.0.2.1 ,\t10.1.0.0/16";
    assert_int_equal(lk_cidr_list_parse(s, strlen(s), &l, &norm, "trusted_proxies", &e), LK_OK);
    assert_int_equal(l.n, 4);
    assert_int_equal(norm, 0);
    lk_addr a;
    assert_int_equal(lk_addr_parse("192.0.2.1", 9, &a, NULL, NULL), LK_OK);
    assert_true(lk_cidr_list_contains(&l, &a));
    assert_int_equal(lk_addr_parse("192.0.2.2", 9, &a, NULL, NULL), LK_OK);
    assert_false(lk_cidr_list_contains(&l, &a));

    assert_int_equal(lk_cidr_list_parse("", 0, &l, &norm, "t", &e), LK_OK);
    assert_int_equal(l.n, 0);
    assert_false(lk_cidr_list_contains(&l, &a));
    assert_int_equal(lk_cidr_list_parse("10.1.2.3/8,1.1.1.1/24", 21, &l, &norm, "t", &e), LK_OK);
    assert_int_equal(norm, 2);

    /* duplicates after normalisation, empty items, junk: the list is left empty */
    const char *bad[] = {"10.0.0.0/8,10.1.2.3/8", "1.2.3.4,1.2.3.4/32", "1.2.3.4,,5.6.7.8",
                         "1.2.3.4,", ",1.2.3.4", "1.2.3.4;5.6.7.8", "::1/129"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        lk_err_clear(&e);
        assert_int_equal(lk_cidr_list_parse(bad[i], strlen(bad[i]), &l, NULL, "t", &e),
                         LK_EVALIDATION);
        assert_string_equal(e.field, "t");
        assert_int_equal(l.n, 0);
    }
}

static void list_holds_32(void **state)
{
    (void)state;
    char buf[33 * 20];
    size_t at = 0;
    for (int i = 0; i < 33; i++)
        at += (size_t)snprintf(buf + at, sizeof(buf) - at, "%s10.0.%d.0/24", i ? "," : "", i);
    lk_cidr_list l;
    lk_err e;
    size_t len32 = (size_t)(strrchr(buf, ',') - buf);
    assert_int_equal(lk_cidr_list_parse(buf, len32, &l, NULL, "allowed_cidrs", &e), LK_OK);
    assert_int_equal(l.n, LK_CIDR_LIST_MAX);
    assert_int_equal(lk_cidr_list_parse(buf, at, &l, NULL, "allowed_cidrs", &e), LK_EVALIDATION);
    assert_string_equal(e.field, "allowed_cidrs");
    /* lk_cidr_list_add on a full list */
    assert_int_equal(lk_cidr_list_parse(buf, len32, &l, NULL, "allowed_cidrs", &e), LK_OK);
    lk_cidr c;
    assert_int_equal(lk_cidr_parse("8.8.8.8", 7, &c, NULL, NULL, NULL), LK_OK);
    assert_int_equal(lk_cidr_list_add(&l, &c, "allowed_cidrs", &e), LK_EVALIDATION);
    assert_int_equal(l.n, LK_CIDR_LIST_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(addresses),   cmocka_unit_test(unmap_and_sockaddr),
        cmocka_unit_test(cidrs),       cmocka_unit_test(containment),
        cmocka_unit_test(lists),       cmocka_unit_test(list_holds_32),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
