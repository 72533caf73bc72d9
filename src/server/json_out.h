/*
 * json_out.h — JSON response bodies written directly into a request's
 * memory pool, without building a jansson tree.
 *
 * Why: the hot path (GET /v1/whoami with a key) measured a third faster with
 * a fixed-format body than with jansson (docs/performance.md). Every
 * record the API returns has a fixed shape, so each gets one writer here.
 *
 * Invariants:
 *  - Strings are escaped per RFC 8259 (", \, and every byte below 0x20);
 *    input strings come from the store and are valid UTF-8.
 *  - Times are RFC 3339 UTC via timefmt.h; 0 ("not set") is written null.
 *  - An lk_buf never frees: its memory belongs to the pool it was given
 *    (h2o's per-request pool), released when the request is disposed.
 *  - A token is written only by lk_json_key() when the caller passes one
 *    (the create responses); nothing here logs.
 */
#ifndef LK_JSON_OUT_H
#define LK_JSON_OUT_H

#include "service.h"

#include <h2o/memory.h>
#include <stddef.h>
#include <stdint.h>

typedef struct lk_buf {
    char *p; /* bytes written so far (not NUL-terminated) */
    size_t len, cap;
    h2o_mem_pool_t *pool; /* owner of p; not owned by the buffer */
} lk_buf;

/* Start an empty buffer with room for `cap` bytes from pool. */
void lk_buf_init(lk_buf *b, h2o_mem_pool_t *pool, size_t cap);
void lk_buf_putn(lk_buf *b, const char *s, size_t n);
void lk_buf_puts(lk_buf *b, const char *s);
/* A string literal, its length counted by the compiler. */
#define lk_buf_put_lit(b, lit) lk_buf_putn((b), "" lit, sizeof(lit) - 1)
void lk_buf_putc(lk_buf *b, char c);
void lk_buf_put_int(lk_buf *b, int64_t v);
/* A JSON string literal with quotes; s[0..n) need not be NUL-terminated. */
void lk_buf_put_str(lk_buf *b, const char *s, size_t n);
/* "key": prefix (key is a trusted literal, no escaping). */
void lk_buf_put_key(lk_buf *b, const char *key);
/* An RFC 3339 time string, or null for 0. */
void lk_buf_put_time(lk_buf *b, int64_t t);

/* Records, as the contract shapes them. */
void lk_json_user(lk_buf *b, const lk_user *u);
void lk_json_org(lk_buf *b, const lk_org *o);
void lk_json_member(lk_buf *b, const lk_member *m);
void lk_json_project(lk_buf *b, const lk_project *p);
void lk_json_env(lk_buf *b, const lk_env *v);
void lk_json_billing(lk_buf *b, const lk_billing *bl);
/* token: NULL for every response except the one that creates the key. */
void lk_json_key(lk_buf *b, const lk_key *k, const char *token);
void lk_json_whoami(lk_buf *b, const lk_whoami *w);

/* Lists: lk_json_list_begin writes `{"data":[`; each item is preceded by
 * lk_json_list_sep (a comma from the second on); lk_json_list_end closes
 * with next_cursor (null when next == 0). */
typedef struct lk_json_list {
    lk_buf *b;
    size_t n;
} lk_json_list;
void lk_json_list_begin(lk_json_list *l, lk_buf *b);
void lk_json_list_sep(lk_json_list *l);
void lk_json_list_end(lk_json_list *l, int64_t next);

#endif
