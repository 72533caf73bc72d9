/*
 * id.h — opaque, typed identifiers: "usr_", "org_", "prj_", "env_", "key_"
 * followed by LK_ID_RANDOM_LEN base62 characters from libsodium's CSPRNG
 * (about 119 bits, so IDs cannot be guessed or enumerated).
 *
 * An ID is only ever compared for equality and validated before it is used
 * in a store look-up, so a malformed ID from a URL is a clean 404.
 */
#ifndef LK_ID_H
#define LK_ID_H

#include <stdbool.h>
#include <stddef.h>

#define LK_ID_RANDOM_LEN 20
#define LK_ID_LEN (4 + LK_ID_RANDOM_LEN) /* 24 */
#define LK_ID_SIZE 32                    /* buffer size, room to spare */

/* Write prefix ("usr_" etc., 4 bytes) + random into out (NUL-ended). */
void lk_id_new(const char *prefix, char out[LK_ID_SIZE]);

/* Is s[0..len) a well-formed ID with this prefix? */
bool lk_id_valid(const char *prefix, const char *s, size_t len);

#endif
