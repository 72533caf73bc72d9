/*
 * password.c — see password.h. argon2id through libsodium's
 * crypto_pwhash_str, which writes a self-describing encoded string
 * ("$argon2id$v=19$m=19456,t=2,p=1$salt$hash") with its own random salt.
 *
 * The dummy hash used for unknown emails is made once per process from a
 * random password (pthread_once), with the same cost as real hashes, so a
 * login for an unknown email spends the same time as a wrong password.
 *
 * Never logs or copies a password; the caller owns and wipes its buffer.
 */
#include "password.h"

#include "err.h"

#include <pthread.h>
#include <sodium.h>
#include <string.h>

#define LK_PW_OPSLIMIT 2ULL
#define LK_PW_MEMLIMIT ((size_t)19 * 1024 * 1024)

static char dummy_hash[LK_PWHASH_SIZE];
static int dummy_ok;
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

_Static_assert(LK_PWHASH_SIZE >= crypto_pwhash_STRBYTES, "LK_PWHASH_SIZE too small");

int lk_password_hash(const char *pw, size_t len, char out[LK_PWHASH_SIZE])
{
    if (crypto_pwhash_str(out, pw, len, LK_PW_OPSLIMIT, LK_PW_MEMLIMIT) != 0) return LK_ENOMEM;
    return LK_OK;
}

bool lk_password_verify(const char *hash, const char *pw, size_t len)
{
    if (hash == NULL || memchr(hash, '\0', LK_PWHASH_SIZE) == NULL) return false;
    return crypto_pwhash_str_verify(hash, pw, len) == 0;
}

static void make_dummy(void)
{
    unsigned char rnd[24];
    randombytes_buf(rnd, sizeof(rnd));
    dummy_ok = crypto_pwhash_str(dummy_hash, (const char *)rnd, sizeof(rnd), LK_PW_OPSLIMIT,
                                 LK_PW_MEMLIMIT) == 0;
    sodium_memzero(rnd, sizeof(rnd));
}

bool lk_password_verify_dummy(const char *pw, size_t len)
{
    pthread_once(&dummy_once, make_dummy);
    volatile int sink = 0;
    if (dummy_ok) sink = crypto_pwhash_str_verify(dummy_hash, pw, len);
    (void)sink;
    return false;
}
