/*
 * id.c — see id.h.
 */
#include "id.h"

#include <sodium.h>
#include <string.h>

static const char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* Random bytes drawn per CSPRNG call, and the largest multiple of 62 below
 * 256: a byte under ID_BYTE_LIMIT maps to a digit without bias (byte % 62),
 * others are dropped and drawn again. One call (one getrandom) per id
 * instead of one per digit; 32 bytes hold 20 accepted ones all but always. */
#define ID_DRAW 32
#define ID_BYTE_LIMIT 248

void lk_id_new(const char *prefix, char out[LK_ID_SIZE])
{
    unsigned char buf[ID_DRAW];
    int n = 0;
    memcpy(out, prefix, 4);
    while (n < LK_ID_RANDOM_LEN) {
        randombytes_buf(buf, sizeof buf);
        for (size_t i = 0; i < sizeof buf && n < LK_ID_RANDOM_LEN; i++)
            if (buf[i] < ID_BYTE_LIMIT) out[4 + n++] = alphabet[buf[i] % 62];
    }
    out[LK_ID_LEN] = '\0';
}

bool lk_id_valid(const char *prefix, const char *s, size_t len)
{
    if (len != LK_ID_LEN || memcmp(s, prefix, 4) != 0) return false;
    for (size_t i = 4; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
            return false;
    }
    return true;
}
