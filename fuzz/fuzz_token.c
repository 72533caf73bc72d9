/*
 * fuzz_token.c — libFuzzer harness for the token module (src/common/token.c):
 * lk_token_parse on arbitrary bytes; when it accepts, the redacted preview
 * and the hash must work and the preview must look like the contract says.
 * Also the checksum encoder on the input's CRC32.
 */
#include "token.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A private copy so reads past `size` are caught by ASan. */
    char *s = malloc(size ? size : 1);
    if (s == NULL) return 0;
    if (size) memcpy(s, data, size);
    lk_token_kind kind = 0;
    lk_token_status st = lk_token_parse(s, size, &kind);
    if (lk_token_status_str(st) == NULL) abort();
    if (st == LK_TOKEN_OK) {
        if (size != LK_TOKEN_LEN || (kind != LK_TOKEN_ORG && kind != LK_TOKEN_PERSONAL)) abort();
        char red[LK_TOKEN_REDACTED_SIZE];
        lk_token_redact(s, red);
        if (strlen(red) != 15 || memcmp(red, s, 8) != 0 ||
            memcmp(red + strlen(red) - 4, s + LK_TOKEN_LEN - 4, 4) != 0)
            abort();
        uint8_t h[LK_TOKEN_HASH_LEN];
        lk_token_hash(s, size, h);
    }
    char check[LK_TOKEN_CHECK_LEN];
    lk_token_crc_encode(lk_token_crc32(s, size), check);
    free(s);
    return 0;
}
