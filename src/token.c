/*
 * token.c — see token.h for the format and invariants.
 *
 * Parsing is deliberately branch-light and bounded: length first, then the
 * prefix, then the alphabet, then the checksum. No allocation anywhere.
 */
#include "token.h"

#include "err.h"

#include <sodium.h>
#include <string.h>

static const char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* base62 digit value of c, or -1 */
static int digit_value(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
    if (c >= 'a' && c <= 'z') return c - 'a' + 36;
    return -1;
}

/* Bitwise IEEE CRC32: the input is 32 bytes, so a table would buy nothing
 * measurable and would need thread-safe initialisation. */
uint32_t lk_token_crc32(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return c ^ 0xFFFFFFFFu;
}

void lk_token_crc_encode(uint32_t v, char out[LK_TOKEN_CHECK_LEN])
{
    for (int i = LK_TOKEN_CHECK_LEN - 1; i >= 0; i--) {
        out[i] = alphabet[v % 62];
        v /= 62;
    }
}

int lk_token_init(void)
{
    return sodium_init() < 0 ? -1 : 0;
}

int lk_token_generate(lk_token_kind kind, char out[LK_TOKEN_SIZE])
{
    const char *prefix;
    switch (kind) {
    case LK_TOKEN_ORG: prefix = "lko_"; break;
    case LK_TOKEN_PERSONAL: prefix = "lkp_"; break;
    default: return LK_EINTERNAL;
    }
    memcpy(out, prefix, LK_TOKEN_PREFIX_LEN);
    char *r = out + LK_TOKEN_PREFIX_LEN;
    for (int i = 0; i < LK_TOKEN_RANDOM_LEN; i++) r[i] = alphabet[randombytes_uniform(62)];
    lk_token_crc_encode(lk_token_crc32(r, LK_TOKEN_RANDOM_LEN), r + LK_TOKEN_RANDOM_LEN);
    out[LK_TOKEN_LEN] = '\0';
    return LK_OK;
}

lk_token_status lk_token_parse(const char *s, size_t len, lk_token_kind *kind)
{
    lk_token_kind k;
    if (len >= LK_TOKEN_PREFIX_LEN && memcmp(s, "lko_", 4) == 0)
        k = LK_TOKEN_ORG;
    else if (len >= LK_TOKEN_PREFIX_LEN && memcmp(s, "lkp_", 4) == 0)
        k = LK_TOKEN_PERSONAL;
    else
        return LK_TOKEN_BAD_PREFIX;
    if (len != LK_TOKEN_LEN) return LK_TOKEN_BAD_LENGTH;

    const char *body = s + LK_TOKEN_PREFIX_LEN;
    uint64_t check = 0;
    for (int i = 0; i < LK_TOKEN_RANDOM_LEN + LK_TOKEN_CHECK_LEN; i++) {
        int d = digit_value((unsigned char)body[i]);
        if (d < 0) return LK_TOKEN_BAD_CHAR;
        if (i >= LK_TOKEN_RANDOM_LEN) check = check * 62 + (uint64_t)d;
    }
    if (check != lk_token_crc32(body, LK_TOKEN_RANDOM_LEN)) return LK_TOKEN_BAD_CHECKSUM;
    if (kind) *kind = k;
    return LK_TOKEN_OK;
}

const char *lk_token_status_str(lk_token_status st)
{
    switch (st) {
    case LK_TOKEN_OK: return "well-formed";
    case LK_TOKEN_BAD_PREFIX: return "unknown prefix (expected lko_ or lkp_)";
    case LK_TOKEN_BAD_LENGTH: return "wrong length (truncated or over-long)";
    case LK_TOKEN_BAD_CHAR: return "character outside the base62 alphabet";
    case LK_TOKEN_BAD_CHECKSUM: return "checksum does not match";
    }
    return "invalid";
}

void lk_token_hash(const char *token, size_t len, uint8_t out[LK_TOKEN_HASH_LEN])
{
    crypto_hash_sha256(out, (const unsigned char *)token, len);
}

void lk_token_redact(const char *token, char out[LK_TOKEN_REDACTED_SIZE])
{
    /* "lko_" + 4 visible + "…" + last 4 */
    memcpy(out, token, LK_TOKEN_PREFIX_LEN + 4);
    memcpy(out + 8, "\xE2\x80\xA6", 3);
    memcpy(out + 11, token + LK_TOKEN_LEN - 4, 4);
    out[15] = '\0';
}
