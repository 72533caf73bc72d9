/*
 * usage.h — last_used_at without a database write per request.
 *
 * Each thread notes "key K used at T" into its own small table (no locks);
 * the HTTP layer calls lk_usage_flush() from a timer every
 * LK_USAGE_FLUSH_SECS and at shutdown, which writes the whole batch in one
 * store transaction (key_touch). So last_used_at lags real use by at most
 * LK_USAGE_FLUSH_SECS plus one flush, within the contract's 60 seconds. If
 * the table fills between flushes it flushes early; it never grows.
 * The client address of the latest noted use travels with it
 * (last_used_ip, lk_usage_note_ip), formatted only when it changes.
 */
#ifndef LK_USAGE_H
#define LK_USAGE_H

#include <stdint.h>

#define LK_USAGE_FLUSH_SECS 15

typedef struct lk_store lk_store;
typedef struct lk_usage lk_usage;

/* Owned by the caller: lk_usage_free. NULL on OOM. */
lk_usage *lk_usage_new(unsigned capacity);
void lk_usage_free(lk_usage *u);

/* Record a use; if the table is full, flushes to st first. key_id may also
 * be a session id ("ses_…"): its last_seen_at is written the same way
 * (store session_touch). */
void lk_usage_note(lk_usage *u, lk_store *st, const char *key_id, int64_t at);
/* --- scopes --- The client address of the use just noted for key_id
 * (lk_usage_note first): flushed with it as last_used_ip. A key not in
 * the table is ignored. */
typedef struct lk_addr lk_addr;
void lk_usage_note_ip(lk_usage *u, const char *key_id, const lk_addr *ip);
/* Write everything noted so far; returns an lk_err code. */
int lk_usage_flush(lk_usage *u, lk_store *st);

#endif
