/*
 * token.h — access-key tokens: generation, offline checking, hashing and the
 * redacted preview. Shared by latchkeyd and the latchkey CLI; it depends on
 * libsodium (randomness) and OpenSSL's libcrypto (SHA-256), never on the
 * store or HTTP.
 *
 * Format (42 characters):
 *
 *     lko_ | 32 base62 random | 6 base62 CRC32      organization key
 *     lkp_ | 32 base62 random | 6 base62 CRC32      personal key
 *
 * The random part is drawn from libsodium's CSPRNG, one uniform base62 digit
 * at a time (32 * log2(62) ≈ 190 bits). The checksum is the IEEE CRC32 of the
 * 32 random characters (as ASCII), written as a 6-digit big-endian base62
 * number with leading zeros ("0-9A-Za-z" digit order), so scanners can
 * recognise a token and reject typos without asking the server.
 *
 * Invariants:
 *  - The server stores only lk_token_hash() (SHA-256 of the whole token
 *    string); the token itself is never stored or logged.
 *  - Buffers that held a token are wiped by their owner (sodium_memzero).
 *  - lk_token_parse() reads at most LK_TOKEN_LEN+1 bytes of its input and
 *    never looks at anything beyond `len`.
 */
#ifndef LK_TOKEN_H
#define LK_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#define LK_TOKEN_PREFIX_LEN 4
#define LK_TOKEN_RANDOM_LEN 32
#define LK_TOKEN_CHECK_LEN 6
#define LK_TOKEN_LEN (LK_TOKEN_PREFIX_LEN + LK_TOKEN_RANDOM_LEN + LK_TOKEN_CHECK_LEN) /* 42 */
#define LK_TOKEN_SIZE (LK_TOKEN_LEN + 1)
#define LK_TOKEN_HASH_LEN 32
/* "lko_" + 4 + "…" (3 bytes of UTF-8) + 4 + NUL */
#define LK_TOKEN_REDACTED_SIZE 20

typedef enum lk_token_kind {
    LK_TOKEN_ORG = 1,      /* lko_ */
    LK_TOKEN_PERSONAL = 2, /* lkp_ */
} lk_token_kind;

/* Why lk_token_parse() rejected a string (0 means well-formed). */
typedef enum lk_token_status {
    LK_TOKEN_OK = 0,
    LK_TOKEN_BAD_PREFIX = -1,   /* not lko_ / lkp_ */
    LK_TOKEN_BAD_LENGTH = -2,   /* truncated or over-long */
    LK_TOKEN_BAD_CHAR = -3,     /* a character outside [0-9A-Za-z] */
    LK_TOKEN_BAD_CHECKSUM = -4, /* well-formed, but the CRC32 does not match */
} lk_token_status;

/* Write a fresh token of `kind` into out (LK_TOKEN_SIZE bytes, NUL-ended).
 * The caller owns out and must sodium_memzero() it when done. Returns 0, or
 * LK_EINTERNAL if kind is unknown. lk_token_init() must have run once. */
int lk_token_generate(lk_token_kind kind, char out[LK_TOKEN_SIZE]);

/* Call once per process before generating (wraps sodium_init). 0 or -1. */
int lk_token_init(void);

/* Check a candidate offline. On LK_TOKEN_OK, *kind (if non-NULL) is set.
 * s need not be NUL-terminated. */
lk_token_status lk_token_parse(const char *s, size_t len, lk_token_kind *kind);

/* A short English description of a parse status, for the CLI. Static. */
const char *lk_token_status_str(lk_token_status st);

/* The stored form: SHA-256 over the token's bytes. */
void lk_token_hash(const char *token, size_t len, uint8_t out[LK_TOKEN_HASH_LEN]);

/* The preview shown in lists: prefix, 4 characters, "…", last 4 characters,
 * e.g. "lko_AbC1…9xYz". token must be well-formed. */
void lk_token_redact(const char *token, char out[LK_TOKEN_REDACTED_SIZE]);

/* IEEE CRC32 (zlib's), exposed for tests. */
uint32_t lk_token_crc32(const void *data, size_t len);

/* Encode v as exactly 6 base62 digits, big-endian, zero-padded. */
void lk_token_crc_encode(uint32_t v, char out[LK_TOKEN_CHECK_LEN]);

#endif
