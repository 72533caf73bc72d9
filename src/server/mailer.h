/*
 * mailer.h — outgoing email (invitation links) through libcurl's SMTP, off
 * the event loops.
 *
 *     service_invitations.c ──► lk_mailer_send (copies, queues, returns)
 *                                    │
 *                       one mailer thread ──► libcurl SMTP ──► smtp://host:port
 *
 * latchkeyd starts one mailer when --smtp-url and --smtp-from are both set
 * (main.c reads them; nothing here reads the environment). A send only
 * copies the message into a bounded queue (LK_MAILER_QUEUE_MAX) and wakes
 * the thread, so a slow or dead SMTP server never holds a request: the API
 * call that caused the email has already answered. A full queue or a
 * failed delivery is logged to stderr — the recipient and the SMTP error,
 * never the message body — and is not reported to the API caller (the
 * inviter still has the link in the create response).
 *
 * Invariants:
 *  - Every field is capped (LK_MAILER_*_MAX); CR and LF are refused in the
 *    address and subject fields, so no caller can inject a header.
 *  - Message bodies hold secrets (an invitation link): each queued body is
 *    wiped with sodium_memzero once sent or dropped, and never logged.
 *  - lk_mailer_stop delivers what is queued (each delivery bounded by
 *    LK_MAILER_TIMEOUT_SECS), starting no delivery later than
 *    LK_MAILER_DRAIN_SECS after the stop and aborting one still running
 *    then (the rest is dropped and logged),
 *    and then joins the thread: a dead SMTP server cannot hold a shutdown
 *    for long.
 *  - Thread-safe: any thread may call lk_mailer_send.
 */
#ifndef LK_MAILER_H
#define LK_MAILER_H

#include "err.h"

#include <stddef.h>

#define LK_MAILER_QUEUE_MAX 64    /* messages waiting at most */
#define LK_MAILER_ADDR_MAX 256    /* an address (RFC 5321: 254 + NUL) */
#define LK_MAILER_URL_MAX 512     /* --smtp-url */
#define LK_MAILER_SUBJECT_MAX 512 /* bytes of UTF-8 (an org name is up to 400) */
#define LK_MAILER_BODY_MAX 4096   /* bytes of UTF-8 text */
#define LK_MAILER_TIMEOUT_SECS 30 /* one whole delivery */
#define LK_MAILER_CONNECT_SECS 10 /* connecting to the SMTP server */
#define LK_MAILER_DRAIN_SECS 10   /* at stop: start no delivery after this */

typedef struct lk_mailer lk_mailer;

/* Is url an SMTP URL the mailer accepts (smtp:// or smtps://, capped)?
 * For main.c's flag check. */
int lk_mailer_url_ok(const char *url);

/* Start the mailer thread for smtp_url ("smtp://host:port" or smtps://)
 * sending as `from` (an address). curl_global_init must have run (main.c,
 * before any thread). On success *out is owned by the caller: release with
 * lk_mailer_stop. LK_EVALIDATION for a bad URL or address, LK_EINTERNAL
 * if the thread cannot start; a message on e. */
int lk_mailer_start(const char *smtp_url, const char *from, lk_mailer **out, lk_err *e);

/* Queue one plain-text UTF-8 message to `to`. Everything is copied; the
 * caller keeps (and wipes) its own buffers. LK_OK when queued (delivery is
 * not awaited), LK_EVALIDATION for a field over its cap or with CR/LF in
 * to/subject, LK_EUNAVAILABLE when the queue is full (logged). m may be
 * NULL (no mailer configured): LK_OK, nothing sent. */
int lk_mailer_send(lk_mailer *m, const char *to, const char *subject, const char *body);

/* Deliver what is queued, stop the thread, free m. NULL is a no-op. */
void lk_mailer_stop(lk_mailer *m);

#endif
