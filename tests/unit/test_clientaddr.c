/*
 * test_clientaddr.c — trusted proxies and X-Forwarded-For (clientaddr.h):
 * an untrusted peer's header is ignored; behind trusted proxies the
 * right-most untrusted address wins; spaces, empty elements, ports and
 * brackets; garbage stops the walk (last good hop); 50 hops; the hop and
 * byte bounds; several header lines; IPv4-mapped peers; throttle keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "clientaddr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static lk_cidr_list trusted;

static int setup(void **state)
{
    (void)state;
    const char *t = "10.0.0.0/8, 2001:db8:ffff::/48";
    return lk_cidr_list_parse(t, strlen(t), &trusted, NULL, "trusted_proxies", NULL);
}

static lk_addr A(const char *s)
{
    lk_addr a;
    assert_int_equal(lk_addr_parse(s, strlen(s), &a, NULL, NULL), LK_OK);
    return a;
}

/* The client address (as text) for a peer and header lines. */
static lk_clientaddr_source resolve(const char *peer, const char *const *lines, size_t n,
                                    const lk_cidr_list *t, char out[LK_ADDR_TEXT_SIZE])
{
    size_t lens[8];
    assert_true(n <= 8);
    for (size_t i = 0; i < n; i++) lens[i] = lines[i] ? strlen(lines[i]) : 0;
    lk_addr p = A(peer), c;
    lk_clientaddr_source src = lk_clientaddr_resolve(&p, t, lines, lens, n, &c);
    lk_addr_format(&c, out);
    return src;
}

static void expect(const char *peer, const char *xff, const char *want, lk_clientaddr_source src)
{
    char got[LK_ADDR_TEXT_SIZE];
    const char *lines[] = {xff};
    assert_int_equal(resolve(peer, lines, xff ? 1 : 0, &trusted, got), src);
    assert_string_equal(got, want);
}

static void untrusted_peer_is_the_client(void **state)
{
    (void)state;
    expect("198.51.100.1", "1.2.3.4", "198.51.100.1", LK_CLIENTADDR_PEER);
    expect("2001:db8::5", "1.2.3.4", "2001:db8::5", LK_CLIENTADDR_PEER);
    expect("10.0.0.1", NULL, "10.0.0.1", LK_CLIENTADDR_PEER);
    /* no trusted proxies at all */
    char got[LK_ADDR_TEXT_SIZE];
    const char *lines[] = {"1.2.3.4"};
    lk_cidr_list none;
    lk_cidr_list_init(&none);
    assert_int_equal(resolve("10.0.0.1", lines, 1, &none, got), LK_CLIENTADDR_PEER);
    assert_string_equal(got, "10.0.0.1");
    assert_int_equal(resolve("10.0.0.1", lines, 1, NULL, got), LK_CLIENTADDR_PEER);
    /* a mapped peer is unmapped, and matches the IPv4 trusted range */
    expect("::ffff:198.51.100.1", "1.2.3.4", "198.51.100.1", LK_CLIENTADDR_PEER);
    expect("::ffff:10.0.0.1", "1.2.3.4", "1.2.3.4", LK_CLIENTADDR_FORWARDED);
}

static void rightmost_untrusted_wins(void **state)
{
    (void)state;
    const lk_clientaddr_source F = LK_CLIENTADDR_FORWARDED;
    expect("10.0.0.1", "1.2.3.4", "1.2.3.4", F);
    /* a client cannot spoof by writing its own header: the right-most
     * untrusted one is what our proxy saw */
    expect("10.0.0.1", "6.6.6.6, 1.2.3.4", "1.2.3.4", F);
    expect("10.0.0.1", "6.6.6.6, 1.2.3.4, 10.0.0.2, 10.9.9.9", "1.2.3.4", F);
    expect("10.0.0.1", "2001:db8::7, 2001:db8:ffff::1", "2001:db8::7", F);
    expect("10.0.0.1", "::ffff:1.2.3.4", "1.2.3.4", F);
    /* every hop trusted: the left-most (last read) */
    expect("10.0.0.1", "10.0.0.3, 10.0.0.2", "10.0.0.3", F);
    /* spaces, tabs and empty elements */
    expect("10.0.0.1", "  1.2.3.4 ,, \t,10.0.0.2 ,", "1.2.3.4", F);
    expect("10.0.0.1", "", "10.0.0.1", LK_CLIENTADDR_PEER);
    expect("10.0.0.1", " , ,", "10.0.0.1", LK_CLIENTADDR_PEER);
}

static void ports_and_brackets(void **state)
{
    (void)state;
    const lk_clientaddr_source F = LK_CLIENTADDR_FORWARDED;
    expect("10.0.0.1", "1.2.3.4:80", "1.2.3.4", F);
    expect("10.0.0.1", "[2001:db8::1]:443", "2001:db8::1", F);
    expect("10.0.0.1", "[2001:db8::1]", "2001:db8::1", F);
    expect("10.0.0.1", "5.5.5.5, 10.0.0.2:1234", "5.5.5.5", F);
    /* bad ports, a v4 in brackets, unclosed brackets: garbage */
    expect("10.0.0.1", "1.2.3.4:65536", "10.0.0.1", LK_CLIENTADDR_PEER);
    expect("10.0.0.1", "1.2.3.4:", "10.0.0.1", LK_CLIENTADDR_PEER);
    expect("10.0.0.1", "[1.2.3.4]:80", "10.0.0.1", LK_CLIENTADDR_PEER);
    expect("10.0.0.1", "[2001:db8::1", "10.0.0.1", LK_CLIENTADDR_PEER);
    expect("10.0.0.1", "[2001:db8::1]x", "10.0.0.1", LK_CLIENTADDR_PEER);
    expect("10.0.0.1", "2001:db8::1:443", "2001:db8::1:443", F); /* a bare IPv6, no port */
}

static void garbage_stops_at_last_good_hop(void **state)
{
    (void)state;
    const lk_clientaddr_source F = LK_CLIENTADDR_FORWARDED;
    /* right-most is garbage: nothing is believed */
    expect("10.0.0.1", "1.2.3.4, unknown", "10.0.0.1", LK_CLIENTADDR_PEER);
    expect("10.0.0.1", "1.2.3.4, fe80::1%eth0", "10.0.0.1", LK_CLIENTADDR_PEER);
    /* garbage left of a trusted hop: that hop */
    expect("10.0.0.1", "1.2.3.4, _hidden, 10.0.0.7", "10.0.0.7", F);
    expect("10.0.0.1", "1.2.3.4, 300.1.1.1, 10.0.0.7", "10.0.0.7", F);
    /* garbage left of the client is never reached */
    expect("10.0.0.1", "junk, 1.2.3.4", "1.2.3.4", F);
    expect("10.0.0.1", "\x01\xff, 1.2.3.4", "1.2.3.4", F);
}

static void fifty_hops_and_bounds(void **state)
{
    (void)state;
    char buf[8192];
    size_t at = 0;
    /* the client, then 49 trusted proxies: 50 hops */
    at += (size_t)snprintf(buf, sizeof(buf), "203.0.113.50");
    for (int i = 0; i < 49; i++)
        at += (size_t)snprintf(buf + at, sizeof(buf) - at, ", 10.0.%d.%d", i / 200, i % 200 + 1);
    expect("10.0.0.1", buf, "203.0.113.50", LK_CLIENTADDR_FORWARDED);
    /* more trusted hops than LK_XFF_HOPS_MAX: the walk stops at the last
     * one it read, and the client beyond the bound is not believed */
    at = (size_t)snprintf(buf, sizeof(buf), "203.0.113.50");
    for (int i = 0; i < LK_XFF_HOPS_MAX; i++)
        at += (size_t)snprintf(buf + at, sizeof(buf) - at, ",10.1.%d.1", i);
    char want[32];
    snprintf(want, sizeof(want), "10.1.%d.1", 0); /* the left-most read */
    expect("10.0.0.1", buf, want, LK_CLIENTADDR_FORWARDED);
    /* an over-long header: only its last LK_XFF_SCAN_MAX bytes are read */
    size_t big = 1 << 20;
    char *h = malloc(big + 1);
    assert_non_null(h);
    memset(h, ' ', big);
    memcpy(h + big - 9, ",1.2.3.4", 8);
    h[big] = '\0';
    expect("10.0.0.1", h, "1.2.3.4", LK_CLIENTADDR_FORWARDED);
    memset(h, '1', big); /* one element longer than the budget */
    expect("10.0.0.1", h, "10.0.0.1", LK_CLIENTADDR_PEER);
    memset(h, ',', big); /* only empty elements: the budget ends the walk */
    expect("10.0.0.1", h, "10.0.0.1", LK_CLIENTADDR_PEER);
    free(h);
}

static void several_lines(void **state)
{
    (void)state;
    char got[LK_ADDR_TEXT_SIZE];
    const char *two[] = {"6.6.6.6, 1.2.3.4", "10.0.0.2"};
    assert_int_equal(resolve("10.0.0.1", two, 2, &trusted, got), LK_CLIENTADDR_FORWARDED);
    assert_string_equal(got, "1.2.3.4");
    const char *three[] = {"1.2.3.4", "", "10.0.0.2, 10.0.0.3"};
    assert_int_equal(resolve("10.0.0.1", three, 3, &trusted, got), LK_CLIENTADDR_FORWARDED);
    assert_string_equal(got, "1.2.3.4");
    const char *garbage_last[] = {"1.2.3.4", "nonsense"};
    assert_int_equal(resolve("10.0.0.1", garbage_last, 2, &trusted, got), LK_CLIENTADDR_PEER);
    assert_string_equal(got, "10.0.0.1");
    const char *with_null[] = {"1.2.3.4", NULL};
    assert_int_equal(resolve("10.0.0.1", with_null, 2, &trusted, got), LK_CLIENTADDR_FORWARDED);
    assert_string_equal(got, "1.2.3.4");
}

static void throttle_keys(void **state)
{
    (void)state;
    char k[LK_THROTTLE_KEY_SIZE];
    lk_addr a = A("203.0.113.5");
    lk_clientaddr_throttle_key(&a, k);
    assert_string_equal(k, "203.0.113.5");
    a = A("::ffff:203.0.113.5");
    lk_clientaddr_throttle_key(&a, k);
    assert_string_equal(k, "203.0.113.5");
    a = A("2001:db8:1:2:3:4:5:6");
    lk_clientaddr_throttle_key(&a, k);
    assert_string_equal(k, "2001:db8:1:2::/64");
    a = A("2001:db8:1:2:ffff:ffff:ffff:ffff");
    char k2[LK_THROTTLE_KEY_SIZE];
    lk_clientaddr_throttle_key(&a, k2);
    assert_string_equal(k, k2);
    a = A("2001:db8:1:3::");
    lk_clientaddr_throttle_key(&a, k2);
    assert_string_not_equal(k, k2);
    a = A("::1");
    lk_clientaddr_throttle_key(&a, k);
    assert_string_equal(k, "::/64");
    lk_addr none;
    memset(&none, 0, sizeof(none));
    lk_clientaddr_throttle_key(&none, k);
    assert_string_equal(k, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(untrusted_peer_is_the_client),
        cmocka_unit_test(rightmost_untrusted_wins),
        cmocka_unit_test(ports_and_brackets),
        cmocka_unit_test(garbage_stops_at_last_good_hop),
        cmocka_unit_test(fifty_hops_and_bounds),
        cmocka_unit_test(several_lines),
        cmocka_unit_test(throttle_keys),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
