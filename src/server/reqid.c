/*
 * reqid.c — request ids (see reqid.h).
 *
 * Per thread: a random prefix drawn at the thread's first id and a counter
 * that only this thread touches. The counter is written in base 36 over
 * LK_REQID_COUNTER_LEN characters (36^8 ≈ 2.8e12 ids before it wraps, at
 * which point the prefix is drawn again).
 */
#include "reqid.h"

#include <assert.h>
#include <sodium.h>
#include <stdint.h>
#include <string.h>

#define ALPHABET "abcdefghijklmnopqrstuvwxyz0123456789"
#define BASE 36u
#define COUNTER_WRAP 2821109907456ull /* 36^LK_REQID_COUNTER_LEN */

_Static_assert(LK_REQID_GEN_LEN <= LK_REQID_MAX, "a generated id is a valid id");

static _Thread_local char prefix[LK_REQID_PREFIX_LEN];
static _Thread_local bool have_prefix;
static _Thread_local uint64_t counter;

bool lk_reqid_valid(const char *s, size_t n)
{
    if (s == NULL || n == 0 || n > LK_REQID_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

static void new_prefix(void)
{
    unsigned char r[LK_REQID_PREFIX_LEN];
    randombytes_buf(r, sizeof r);
    for (size_t i = 0; i < LK_REQID_PREFIX_LEN; i++)
        prefix[i] = ALPHABET[r[i] % BASE]; /* the slight bias is harmless for an id */
    have_prefix = true;
    counter = 0;
}

size_t lk_reqid_generate(char out[LK_REQID_SIZE])
{
    if (!have_prefix || counter >= COUNTER_WRAP) new_prefix();
    uint64_t v = counter++;
    memcpy(out, prefix, LK_REQID_PREFIX_LEN);
    for (int i = LK_REQID_GEN_LEN - 1; i >= LK_REQID_PREFIX_LEN; i--) {
        out[i] = ALPHABET[v % BASE];
        v /= BASE;
    }
    out[LK_REQID_GEN_LEN] = '\0';
    assert(lk_reqid_valid(out, LK_REQID_GEN_LEN));
    return LK_REQID_GEN_LEN;
}
