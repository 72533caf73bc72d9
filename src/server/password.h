/*
 * password.h — password hashing with argon2id (libsodium crypto_pwhash_str).
 *
 * Cost: opslimit 2, memlimit 19 MiB (OWASP's argon2id baseline), about 20 to
 * 40 ms on the reference machine: too slow for an event loop, so the HTTP
 * layer runs signup and login on worker threads. The encoded string carries
 * its own parameters and salt, so the cost can be raised later and old
 * hashes keep verifying.
 */
#ifndef LK_PASSWORD_H
#define LK_PASSWORD_H

#include "store.h"

#include <stdbool.h>
#include <stddef.h>

/* Hash into out (LK_PWHASH_SIZE, NUL-ended). LK_OK or LK_ENOMEM. */
int lk_password_hash(const char *pw, size_t len, char out[LK_PWHASH_SIZE]);

/* true if pw matches the encoded hash. */
bool lk_password_verify(const char *hash, const char *pw, size_t len);

/* Verify against a fixed dummy hash, to spend the same time when the email
 * is unknown (no user enumeration by timing). Always false. */
bool lk_password_verify_dummy(const char *pw, size_t len);

#endif
