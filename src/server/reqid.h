/*
 * reqid.h — request ids: the X-Request-Id every response carries and the
 * access log records.
 *
 * An incoming X-Request-Id is kept when it is sane: 1..LK_REQID_MAX bytes
 * of [A-Za-z0-9._-] (what proxies and tracing systems send — UUIDs, hex
 * trace ids, "req-…"). Anything else (too long, empty, spaces, quotes,
 * control bytes, non-ASCII) is ignored and an id is generated, so the
 * value is always safe to echo in a header and to write in a log line.
 *
 * A generated id is LK_REQID_GEN_LEN characters of [a-z0-9]: a random
 * per-thread prefix (LK_REQID_PREFIX_LEN characters, from libsodium once
 * per thread) followed by that thread's request counter. Ids are unique
 * within a process (distinct counters) and, with overwhelming probability,
 * across threads and processes (60 random bits per prefix); generating
 * one costs a counter increment and a few divisions — no syscall, no lock.
 *
 * Pure functions on caller memory; no HTTP type here.
 */
#ifndef LK_REQID_H
#define LK_REQID_H

#include <stdbool.h>
#include <stddef.h>

#define LK_REQID_MAX 64                                               /* longest id accepted */
#define LK_REQID_SIZE (LK_REQID_MAX + 1)                              /* with its NUL */
#define LK_REQID_PREFIX_LEN 12                                        /* random, per thread */
#define LK_REQID_COUNTER_LEN 8                                        /* per-thread counter */
#define LK_REQID_GEN_LEN (LK_REQID_PREFIX_LEN + LK_REQID_COUNTER_LEN) /* 20 */

/* Is s[0..n) an id we keep: 1..LK_REQID_MAX bytes of [A-Za-z0-9._-]? */
bool lk_reqid_valid(const char *s, size_t n);

/* A new id into out (NUL-terminated); returns its length,
 * LK_REQID_GEN_LEN. Thread-safe (per-thread state). */
size_t lk_reqid_generate(char out[LK_REQID_SIZE]);

#endif
