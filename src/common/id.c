/*
 * id.c — see id.h.
 */
#include "id.h"

#include <sodium.h>
#include <string.h>

static const char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

void lk_id_new(const char *prefix, char out[LK_ID_SIZE])
{
    memcpy(out, prefix, 4);
    for (int i = 0; i < LK_ID_RANDOM_LEN; i++) out[4 + i] = alphabet[randombytes_uniform(62)];
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
