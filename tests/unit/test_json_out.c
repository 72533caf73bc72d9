/*
 * test_json_out.c — the fixed-shape JSON writers (json_out.h): string
 * escaping against a byte-at-a-time reference (random strings of every
 * length around the 8-byte words the writer scans), and exact bodies for a
 * record of each shape.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "json_out.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

/* RFC 8259 escaping, the obvious way. out must hold 6 * n + 3 bytes. */
static size_t ref_escape(const unsigned char *s, size_t n, char *out)
{
    size_t o = 0;
    out[o++] = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else if (c == '\r') {
            out[o++] = '\\';
            out[o++] = 'r';
        } else if (c == '\t') {
            out[o++] = '\\';
            out[o++] = 't';
        } else if (c < 0x20) {
            o += (size_t)snprintf(out + o, 7, "\\u%04x", c);
        } else {
            out[o++] = (char)c;
        }
    }
    out[o++] = '"';
    return o;
}

static void check_str(h2o_mem_pool_t *pool, const unsigned char *s, size_t n)
{
    char want[6 * 80 + 3];
    size_t wn = ref_escape(s, n, want);
    lk_buf b;
    lk_buf_init(&b, pool, 8); /* small: growth is exercised too */
    lk_buf_put_str(&b, (const char *)s, n);
    assert_int_equal(b.len, wn);
    assert_memory_equal(b.p, want, wn);
}

static void escape_matches_reference(void **state)
{
    (void)state;
    h2o_mem_pool_t pool;
    h2o_mem_init_pool(&pool);
    /* every single byte, alone and at each position of a word */
    for (unsigned c = 0; c < 256; c++) {
        unsigned char s[17];
        memset(s, 'a', sizeof s);
        for (size_t at = 0; at < sizeof s; at++) {
            memset(s, 'a', sizeof s);
            s[at] = (unsigned char)c;
            check_str(&pool, s, sizeof s);
            check_str(&pool, s, at + 1);
        }
        h2o_mem_clear_pool(&pool);
    }
    /* random strings: mostly plain, some of everything */
    static const char special[] = "\"\\\n\r\t\x01\x1f\x7f \x20\x21\xc3\xa9";
    unsigned char s[80];
    for (int round = 0; round < 20000; round++) {
        size_t n = randombytes_uniform(sizeof s + 1);
        uint32_t density = 1 + randombytes_uniform(40);
        for (size_t i = 0; i < n; i++) {
            uint32_t r = randombytes_uniform(density);
            s[i] = r == 0   ? (unsigned char)special[randombytes_uniform(sizeof special - 1)]
                   : r == 1 ? (unsigned char)randombytes_uniform(256)
                            : (unsigned char)('a' + randombytes_uniform(26));
        }
        check_str(&pool, s, n);
        if (round % 256 == 0) h2o_mem_clear_pool(&pool);
    }
    h2o_mem_clear_pool(&pool);
}

static void body_is(h2o_mem_pool_t *pool, void (*fill)(lk_buf *, const void *), const void *rec,
                    const char *want)
{
    lk_buf b;
    lk_buf_init(&b, pool, 16);
    fill(&b, rec);
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.p, want, b.len);
}

static void fill_user(lk_buf *b, const void *r)
{
    lk_json_user(b, r);
}
static void fill_key(lk_buf *b, const void *r)
{
    lk_json_key(b, r, NULL);
}
static void fill_key_token(lk_buf *b, const void *r)
{
    lk_json_key(b, r, "lko_secret");
}
static void fill_whoami(lk_buf *b, const void *r)
{
    lk_json_whoami(b, r);
}
static void fill_billing(lk_buf *b, const void *r)
{
    lk_json_billing(b, r);
}

static void record_bodies(void **state)
{
    (void)state;
    h2o_mem_pool_t pool;
    h2o_mem_init_pool(&pool);
    lk_user u = {.id = "usr_1", .email = "A@b.test", .name = "Ann \"A\"", .created_at = 1700000000};
    body_is(&pool, fill_user, &u,
            "{\"id\":\"usr_1\",\"email\":\"A@b.test\",\"name\":\"Ann \\\"A\\\"\","
            "\"created_at\":\"2023-11-14T22:13:20Z\"}");
    lk_key k = {.id = "key_1",
                .type = LK_KEY_ORG,
                .org_id = "org_1",
                .created_by = "usr_1",
                .name = "ci",
                .redacted = "lko_abcd\xE2\x80\xA6wxyz",
                .created_at = 1700000000,
                .last_used_at = 0,
                .expires_at = 1700000060,
                .scopes = LK_SCOPE_ALL,
                .allowed_cidrs = "10.0.0.0/8,2001:db8::/32",
                .last_used_ip = "203.0.113.9"};
    body_is(&pool, fill_key, &k,
            "{\"id\":\"key_1\",\"name\":\"ci\",\"type\":\"organization\",\"redacted\":"
            "\"lko_abcd\xE2\x80\xA6wxyz\",\"created_at\":\"2023-11-14T22:13:20Z\","
            "\"created_by\":\"usr_1\",\"last_used_at\":null,\"expires_at\":"
            "\"2023-11-14T22:14:20Z\",\"previous_token_expires_at\":null,"
            "\"organization_id\":\"org_1\",\"scopes\":[\"*\"],"
            "\"allowed_cidrs\":[\"10.0.0.0/8\",\"2001:db8::/32\"],\"created_by_key\":null,"
            "\"last_used_ip\":\"203.0.113.9\"}");
    body_is(&pool, fill_key_token, &k,
            "{\"id\":\"key_1\",\"name\":\"ci\",\"type\":\"organization\",\"redacted\":"
            "\"lko_abcd\xE2\x80\xA6wxyz\",\"created_at\":\"2023-11-14T22:13:20Z\","
            "\"created_by\":\"usr_1\",\"last_used_at\":null,\"expires_at\":"
            "\"2023-11-14T22:14:20Z\",\"previous_token_expires_at\":null,"
            "\"organization_id\":\"org_1\",\"scopes\":[\"*\"],"
            "\"allowed_cidrs\":[\"10.0.0.0/8\",\"2001:db8::/32\"],\"created_by_key\":null,"
            "\"last_used_ip\":\"203.0.113.9\",\"token\":\"lko_secret\"}");
    lk_whoami w = {.kind = LK_PRINCIPAL_PERSONAL_KEY, .has_user = true, .has_key = true};
    w.user = u;
    w.key = k;
    w.key.type = LK_KEY_PERSONAL;
    w.key.created_by[0] = '\0';
    /* scopes: the shortest list (implied :read and org:read left out) */
    w.key.scopes = lk_scope_close(LK_SCOPE_PROJECTS_WRITE | LK_SCOPE_KEYS_READ);
    w.key.allowed_cidrs[0] = '\0';
    w.key.last_used_ip[0] = '\0';
    snprintf(w.key.created_by_key, sizeof w.key.created_by_key, "key_0");
    body_is(&pool, fill_whoami, &w,
            "{\"principal\":\"personal_key\",\"user\":{\"id\":\"usr_1\",\"email\":\"A@b.test\","
            "\"name\":\"Ann \\\"A\\\"\",\"created_at\":\"2023-11-14T22:13:20Z\"},\"key\":{\"id\":"
            "\"key_1\",\"name\":\"ci\",\"type\":\"personal\",\"redacted\":\"lko_abcd\xE2\x80\xA6"
            "wxyz\",\"created_at\":\"2023-11-14T22:13:20Z\",\"created_by\":null,"
            "\"last_used_at\":null,\"expires_at\":\"2023-11-14T22:14:20Z\","
            "\"previous_token_expires_at\":null,\"scopes\":"
            "[\"keys:read\",\"projects:write\"],\"allowed_cidrs\":[],\"created_by_key\":"
            "\"key_0\",\"last_used_ip\":null}}");
    lk_billing bl = {.plan = "pro", .billing_email = "", .updated_at = 86400};
    body_is(&pool, fill_billing, &bl,
            "{\"plan\":\"pro\",\"billing_email\":null,\"updated_at\":\"1970-01-02T00:00:00Z\"}");
    h2o_mem_clear_pool(&pool);
}

int main(void)
{
    if (sodium_init() < 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(escape_matches_reference),
        cmocka_unit_test(record_bodies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
