/*
 * test_token.c — token format, checksum vectors, parsing of every malformed
 * form, hashing and redaction. Vectors were computed independently (Python's
 * zlib.crc32 and a base62 encoder), not by this code.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "id.h"
#include "token.h"

#include <sodium.h>
#include <string.h>

#define FIXED_RANDOM "AbC1defGhijKLmnOPqrSTuvWXyz01234"
#define FIXED_ORG "lko_" FIXED_RANDOM "1Ilz5N"
#define FIXED_PERSONAL "lkp_" FIXED_RANDOM "1Ilz5N"

static void crc32_vectors(void **state)
{
    (void)state;
    assert_int_equal(lk_token_crc32("123456789", 9), 0xCBF43926u);
    assert_int_equal(lk_token_crc32("", 0), 0u);
    assert_int_equal(lk_token_crc32(FIXED_RANDOM, 32), 0x472405c9u);
}

/* The definition, bit by bit: the table in token.c must agree with it. */
static uint32_t crc32_bitwise(const unsigned char *p, size_t len)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return c ^ 0xFFFFFFFFu;
}

static void crc32_matches_bitwise(void **state)
{
    (void)state;
    /* One byte b indexes table entry 0xFF ^ b: this covers all 256. */
    for (unsigned b = 0; b < 256; b++) {
        unsigned char one = (unsigned char)b;
        assert_int_equal(lk_token_crc32(&one, 1), crc32_bitwise(&one, 1));
    }
    unsigned char buf[64];
    for (int round = 0; round < 200; round++) {
        size_t len = (size_t)randombytes_uniform(sizeof(buf) + 1);
        randombytes_buf(buf, len);
        assert_int_equal(lk_token_crc32(buf, len), crc32_bitwise(buf, len));
    }
}

static void crc_encode_vectors(void **state)
{
    (void)state;
    char out[7] = {0};
    lk_token_crc_encode(0xCBF43926u, out);
    assert_string_equal(out, "3jZRME");
    lk_token_crc_encode(0, out);
    assert_string_equal(out, "000000");
    lk_token_crc_encode(0xFFFFFFFFu, out);
    assert_string_equal(out, "4gfFC3");
}

static void parse_fixed_vectors(void **state)
{
    (void)state;
    lk_token_kind k = 0;
    assert_int_equal(lk_token_parse(FIXED_ORG, strlen(FIXED_ORG), &k), LK_TOKEN_OK);
    assert_int_equal(k, LK_TOKEN_ORG);
    assert_int_equal(lk_token_parse(FIXED_PERSONAL, strlen(FIXED_PERSONAL), &k), LK_TOKEN_OK);
    assert_int_equal(k, LK_TOKEN_PERSONAL);
}

static void generate_roundtrip(void **state)
{
    (void)state;
    char a[LK_TOKEN_SIZE], b[LK_TOKEN_SIZE];
    for (int i = 0; i < 1000; i++) {
        lk_token_kind k;
        assert_int_equal(lk_token_generate(i % 2 ? LK_TOKEN_ORG : LK_TOKEN_PERSONAL, a), 0);
        assert_int_equal(strlen(a), LK_TOKEN_LEN);
        assert_int_equal(lk_token_parse(a, strlen(a), &k), LK_TOKEN_OK);
        assert_int_equal(k, i % 2 ? LK_TOKEN_ORG : LK_TOKEN_PERSONAL);
        assert_memory_equal(a, i % 2 ? "lko_" : "lkp_", 4);
    }
    lk_token_generate(LK_TOKEN_ORG, b);
    assert_memory_not_equal(a + 4, b + 4, 32);
    assert_int_not_equal(lk_token_generate((lk_token_kind)9, a), 0);
}

static void reject_malformed(void **state)
{
    (void)state;
    char t[64];
    const size_t n = strlen(FIXED_ORG);
    lk_token_kind k = 0;

    /* wrong or missing prefix */
    assert_int_equal(lk_token_parse("", 0, &k), LK_TOKEN_BAD_PREFIX);
    assert_int_equal(lk_token_parse("lk", 2, &k), LK_TOKEN_BAD_PREFIX);
    memcpy(t, FIXED_ORG, n);
    t[2] = 'x';
    assert_int_equal(lk_token_parse(t, n, &k), LK_TOKEN_BAD_PREFIX);
    memcpy(t, FIXED_ORG, n);
    t[0] = 'L';
    assert_int_equal(lk_token_parse(t, n, &k), LK_TOKEN_BAD_PREFIX);
    assert_int_equal(lk_token_parse("sk_" FIXED_RANDOM "1Ilz5N", n - 1, &k), LK_TOKEN_BAD_PREFIX);

    /* truncated at every length, and over-long */
    for (size_t len = 4; len < n; len++)
        assert_int_equal(lk_token_parse(FIXED_ORG, len, &k), LK_TOKEN_BAD_LENGTH);
    memcpy(t, FIXED_ORG, n);
    t[n] = 'a';
    assert_int_equal(lk_token_parse(t, n + 1, &k), LK_TOKEN_BAD_LENGTH);

    /* characters outside the alphabet, at every position */
    const char bad[] = {'-', '_', ' ', '\0', '\n', '+', '/', '=', (char)0xC3, '.'};
    for (size_t pos = 4; pos < n; pos++) {
        for (size_t b = 0; b < sizeof(bad); b++) {
            memcpy(t, FIXED_ORG, n);
            t[pos] = bad[b];
            assert_int_equal(lk_token_parse(t, n, &k), LK_TOKEN_BAD_CHAR);
        }
    }

    /* any single substitution of a random or checksum character breaks the
     * checksum (CRC32 detects every single-character error) */
    for (size_t pos = 4; pos < n; pos++) {
        memcpy(t, FIXED_ORG, n);
        t[pos] = t[pos] == 'z' ? 'y' : 'z';
        assert_int_equal(lk_token_parse(t, n, &k), LK_TOKEN_BAD_CHECKSUM);
    }

    /* swapping two adjacent random characters breaks it too */
    memcpy(t, FIXED_ORG, n);
    char c = t[5];
    t[5] = t[6];
    t[6] = c;
    assert_int_equal(lk_token_parse(t, n, &k), LK_TOKEN_BAD_CHECKSUM);

    /* a forged token: prefix changed from lko_ to lkp_ is still checksum-valid
     * (the checksum covers the random part only), which is why the server
     * authenticates by hash of the whole string */
    assert_int_equal(lk_token_parse(FIXED_PERSONAL, n, &k), LK_TOKEN_OK);
}

static void hash_is_sha256(void **state)
{
    (void)state;
    uint8_t h[LK_TOKEN_HASH_LEN];
    lk_token_hash("abc", 3, h);
    /* SHA-256("abc") */
    const uint8_t want[32] = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
                              0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
                              0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
    assert_memory_equal(h, want, 32);
    uint8_t h1[32], h2[32];
    lk_token_hash(FIXED_ORG, strlen(FIXED_ORG), h1);
    lk_token_hash(FIXED_PERSONAL, strlen(FIXED_PERSONAL), h2);
    assert_memory_not_equal(h1, h2, 32);
    /* the same digest as libsodium's SHA-256, any length (one block, two
     * blocks, padding across the boundary) */
    unsigned char buf[200];
    for (size_t n = 0; n <= sizeof(buf); n++) {
        randombytes_buf(buf, n);
        uint8_t a[32], b[32];
        lk_token_hash((const char *)buf, n, a);
        crypto_hash_sha256(b, buf, n);
        assert_memory_equal(a, b, 32);
    }
}

static void redact_format(void **state)
{
    (void)state;
    char r[LK_TOKEN_REDACTED_SIZE];
    lk_token_redact(FIXED_ORG, r);
    assert_string_equal(r, "lko_AbC1…lz5N");
}

/* lk_id_new (one CSPRNG call per id, bytes >= 248 drawn again): well-formed,
 * never repeating, and every digit equally likely — a plain byte % 62
 * would make the first eight digits a quarter more frequent than the rest,
 * far outside the ±10% allowed here (about 8 standard deviations). */
static void id_new_uniform(void **state)
{
    (void)state;
    enum { N = 20000, DIGITS = 62 };
    static const char alpha[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    long count[DIGITS] = {0};
    char id[LK_ID_SIZE], prev[LK_ID_SIZE] = "";
    for (int i = 0; i < N; i++) {
        lk_id_new("evt_", id);
        assert_true(lk_id_valid("evt_", id, strlen(id)));
        assert_string_not_equal(id, prev);
        for (int j = 4; j < LK_ID_LEN; j++) count[strchr(alpha, id[j]) - alpha]++;
        memcpy(prev, id, sizeof prev);
    }
    double expect = (double)N * LK_ID_RANDOM_LEN / DIGITS;
    for (int d = 0; d < DIGITS; d++) {
        if (count[d] < expect * 0.9 || count[d] > expect * 1.1)
            fail_msg("digit %c drawn %ld times, expected about %.0f", alpha[d], count[d], expect);
    }
}

/* lk_token_generate's random part: every digit equally likely (±10%). */
static void token_random_uniform(void **state)
{
    (void)state;
    enum { N = 10000, DIGITS = 62 };
    static const char alpha[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    long count[DIGITS] = {0};
    char tok[LK_TOKEN_SIZE];
    for (int i = 0; i < N; i++) {
        assert_int_equal(lk_token_generate(i % 2 ? LK_TOKEN_ORG : LK_TOKEN_PERSONAL, tok), 0);
        for (int j = 0; j < LK_TOKEN_RANDOM_LEN; j++)
            count[strchr(alpha, tok[LK_TOKEN_PREFIX_LEN + j]) - alpha]++;
    }
    double expect = (double)N * LK_TOKEN_RANDOM_LEN / DIGITS;
    for (int d = 0; d < DIGITS; d++) {
        if (count[d] < expect * 0.9 || count[d] > expect * 1.1)
            fail_msg("digit %c drawn %ld times, expected about %.0f", alpha[d], count[d], expect);
    }
}

static void status_strings(void **state)
{
    (void)state;
    assert_string_equal(lk_token_status_str(LK_TOKEN_OK), "well-formed");
    assert_non_null(strstr(lk_token_status_str(LK_TOKEN_BAD_CHECKSUM), "checksum"));
}

int main(void)
{
    if (lk_token_init() != 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(crc32_vectors),       cmocka_unit_test(crc32_matches_bitwise),
        cmocka_unit_test(crc_encode_vectors),
        cmocka_unit_test(parse_fixed_vectors), cmocka_unit_test(generate_roundtrip),
        cmocka_unit_test(reject_malformed),    cmocka_unit_test(hash_is_sha256),
        cmocka_unit_test(redact_format),       cmocka_unit_test(status_strings),
        cmocka_unit_test(id_new_uniform),      cmocka_unit_test(token_random_uniform),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
