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

/* SHA-256 of tokens through OpenSSL's SHA256_Init/Update/Final: they use
 * the CPU's SHA extensions (SHA-NI) where present, ~55 ns for a token here
 * against ~260 ns for libsodium's portable C, on every authenticated
 * request. OpenSSL 3 deprecates them in favour of EVP, but EVP looks the
 * algorithm up per call (EVP_Digest ~250 ns; a reused EVP_MD_CTX ~140 ns).
 * The digest is the same SHA-256 either way (tests/unit/test_token.c
 * checks it against libsodium's and a known vector). */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#define TOKEN_DRAW 64        /* random bytes per CSPRNG call (32 digits needed) */
#define TOKEN_BYTE_LIMIT 248 /* 4 x 62: the bytes that map to a digit without bias */

static const char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* base62 digit value of c, or -1 */
static int digit_value(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
    if (c >= 'a' && c <= 'z') return c - 'a' + 36;
    return -1;
}

/* IEEE CRC32 (reflected, polynomial 0xEDB88320), one table look-up per
 * byte. crc_table[n] is the CRC register after shifting the byte n through
 * it bit by bit: for (k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320 & -(c & 1)).
 * Precomputed and const: no initialisation, nothing shared to race on.
 * tests/unit/test_token.c checks every entry against that definition. The
 * bitwise loop cost ~1,700 instructions per token (5 percent of a whoami
 * request); the table costs ~200. */
static const uint32_t crc_table[256] = {
    0x00000000u, 0x77073096u, 0xEE0E612Cu, 0x990951BAu, 0x076DC419u, 0x706AF48Fu,
    0xE963A535u, 0x9E6495A3u, 0x0EDB8832u, 0x79DCB8A4u, 0xE0D5E91Eu, 0x97D2D988u,
    0x09B64C2Bu, 0x7EB17CBDu, 0xE7B82D07u, 0x90BF1D91u, 0x1DB71064u, 0x6AB020F2u,
    0xF3B97148u, 0x84BE41DEu, 0x1ADAD47Du, 0x6DDDE4EBu, 0xF4D4B551u, 0x83D385C7u,
    0x136C9856u, 0x646BA8C0u, 0xFD62F97Au, 0x8A65C9ECu, 0x14015C4Fu, 0x63066CD9u,
    0xFA0F3D63u, 0x8D080DF5u, 0x3B6E20C8u, 0x4C69105Eu, 0xD56041E4u, 0xA2677172u,
    0x3C03E4D1u, 0x4B04D447u, 0xD20D85FDu, 0xA50AB56Bu, 0x35B5A8FAu, 0x42B2986Cu,
    0xDBBBC9D6u, 0xACBCF940u, 0x32D86CE3u, 0x45DF5C75u, 0xDCD60DCFu, 0xABD13D59u,
    0x26D930ACu, 0x51DE003Au, 0xC8D75180u, 0xBFD06116u, 0x21B4F4B5u, 0x56B3C423u,
    0xCFBA9599u, 0xB8BDA50Fu, 0x2802B89Eu, 0x5F058808u, 0xC60CD9B2u, 0xB10BE924u,
    0x2F6F7C87u, 0x58684C11u, 0xC1611DABu, 0xB6662D3Du, 0x76DC4190u, 0x01DB7106u,
    0x98D220BCu, 0xEFD5102Au, 0x71B18589u, 0x06B6B51Fu, 0x9FBFE4A5u, 0xE8B8D433u,
    0x7807C9A2u, 0x0F00F934u, 0x9609A88Eu, 0xE10E9818u, 0x7F6A0DBBu, 0x086D3D2Du,
    0x91646C97u, 0xE6635C01u, 0x6B6B51F4u, 0x1C6C6162u, 0x856530D8u, 0xF262004Eu,
    0x6C0695EDu, 0x1B01A57Bu, 0x8208F4C1u, 0xF50FC457u, 0x65B0D9C6u, 0x12B7E950u,
    0x8BBEB8EAu, 0xFCB9887Cu, 0x62DD1DDFu, 0x15DA2D49u, 0x8CD37CF3u, 0xFBD44C65u,
    0x4DB26158u, 0x3AB551CEu, 0xA3BC0074u, 0xD4BB30E2u, 0x4ADFA541u, 0x3DD895D7u,
    0xA4D1C46Du, 0xD3D6F4FBu, 0x4369E96Au, 0x346ED9FCu, 0xAD678846u, 0xDA60B8D0u,
    0x44042D73u, 0x33031DE5u, 0xAA0A4C5Fu, 0xDD0D7CC9u, 0x5005713Cu, 0x270241AAu,
    0xBE0B1010u, 0xC90C2086u, 0x5768B525u, 0x206F85B3u, 0xB966D409u, 0xCE61E49Fu,
    0x5EDEF90Eu, 0x29D9C998u, 0xB0D09822u, 0xC7D7A8B4u, 0x59B33D17u, 0x2EB40D81u,
    0xB7BD5C3Bu, 0xC0BA6CADu, 0xEDB88320u, 0x9ABFB3B6u, 0x03B6E20Cu, 0x74B1D29Au,
    0xEAD54739u, 0x9DD277AFu, 0x04DB2615u, 0x73DC1683u, 0xE3630B12u, 0x94643B84u,
    0x0D6D6A3Eu, 0x7A6A5AA8u, 0xE40ECF0Bu, 0x9309FF9Du, 0x0A00AE27u, 0x7D079EB1u,
    0xF00F9344u, 0x8708A3D2u, 0x1E01F268u, 0x6906C2FEu, 0xF762575Du, 0x806567CBu,
    0x196C3671u, 0x6E6B06E7u, 0xFED41B76u, 0x89D32BE0u, 0x10DA7A5Au, 0x67DD4ACCu,
    0xF9B9DF6Fu, 0x8EBEEFF9u, 0x17B7BE43u, 0x60B08ED5u, 0xD6D6A3E8u, 0xA1D1937Eu,
    0x38D8C2C4u, 0x4FDFF252u, 0xD1BB67F1u, 0xA6BC5767u, 0x3FB506DDu, 0x48B2364Bu,
    0xD80D2BDAu, 0xAF0A1B4Cu, 0x36034AF6u, 0x41047A60u, 0xDF60EFC3u, 0xA867DF55u,
    0x316E8EEFu, 0x4669BE79u, 0xCB61B38Cu, 0xBC66831Au, 0x256FD2A0u, 0x5268E236u,
    0xCC0C7795u, 0xBB0B4703u, 0x220216B9u, 0x5505262Fu, 0xC5BA3BBEu, 0xB2BD0B28u,
    0x2BB45A92u, 0x5CB36A04u, 0xC2D7FFA7u, 0xB5D0CF31u, 0x2CD99E8Bu, 0x5BDEAE1Du,
    0x9B64C2B0u, 0xEC63F226u, 0x756AA39Cu, 0x026D930Au, 0x9C0906A9u, 0xEB0E363Fu,
    0x72076785u, 0x05005713u, 0x95BF4A82u, 0xE2B87A14u, 0x7BB12BAEu, 0x0CB61B38u,
    0x92D28E9Bu, 0xE5D5BE0Du, 0x7CDCEFB7u, 0x0BDBDF21u, 0x86D3D2D4u, 0xF1D4E242u,
    0x68DDB3F8u, 0x1FDA836Eu, 0x81BE16CDu, 0xF6B9265Bu, 0x6FB077E1u, 0x18B74777u,
    0x88085AE6u, 0xFF0F6A70u, 0x66063BCAu, 0x11010B5Cu, 0x8F659EFFu, 0xF862AE69u,
    0x616BFFD3u, 0x166CCF45u, 0xA00AE278u, 0xD70DD2EEu, 0x4E048354u, 0x3903B3C2u,
    0xA7672661u, 0xD06016F7u, 0x4969474Du, 0x3E6E77DBu, 0xAED16A4Au, 0xD9D65ADCu,
    0x40DF0B66u, 0x37D83BF0u, 0xA9BCAE53u, 0xDEBB9EC5u, 0x47B2CF7Fu, 0x30B5FFE9u,
    0xBDBDF21Cu, 0xCABAC28Au, 0x53B39330u, 0x24B4A3A6u, 0xBAD03605u, 0xCDD70693u,
    0x54DE5729u, 0x23D967BFu, 0xB3667A2Eu, 0xC4614AB8u, 0x5D681B02u, 0x2A6F2B94u,
    0xB40BBE37u, 0xC30C8EA1u, 0x5A05DF1Bu, 0x2D02EF8Du,
};

uint32_t lk_token_crc32(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++) c = crc_table[(c ^ p[i]) & 0xFFu] ^ (c >> 8);
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
    /* One CSPRNG call for the whole random part (not one per digit): bytes
     * under TOKEN_BYTE_LIMIT (4 x 62) map to a digit without bias, others
     * are drawn again; the raw bytes are wiped. */
    unsigned char buf[TOKEN_DRAW];
    int n = 0;
    while (n < LK_TOKEN_RANDOM_LEN) {
        randombytes_buf(buf, sizeof buf);
        for (size_t i = 0; i < sizeof buf && n < LK_TOKEN_RANDOM_LEN; i++)
            if (buf[i] < TOKEN_BYTE_LIMIT) r[n++] = alphabet[buf[i] % 62];
    }
    sodium_memzero(buf, sizeof buf);
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
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, token, len);
    SHA256_Final(out, &c);
    sodium_memzero(&c, sizeof c); /* it held the token */
}

void lk_token_redact(const char *token, char out[LK_TOKEN_REDACTED_SIZE])
{
    /* "lko_" + 4 visible + "…" + last 4 */
    memcpy(out, token, LK_TOKEN_PREFIX_LEN + 4);
    memcpy(out + 8, "\xE2\x80\xA6", 3);
    memcpy(out + 11, token + LK_TOKEN_LEN - 4, 4);
    out[15] = '\0';
}
