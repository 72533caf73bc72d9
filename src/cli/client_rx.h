/*
 * client_rx.h — the response decoder inside client.c, exposed so that
 * fuzz/fuzz_client.c links the real code: the libcurl header and body
 * callbacks and the error-body reader. Only client.c and the harness use
 * it; the CLI goes through client.h.
 *
 * Invariants (enforced by the callbacks): len <= LK_CLIENT_BODY_MAX and
 * buf[len] == '\0' whenever buf is set; header_bytes <=
 * LK_CLIENT_HEADERS_MAX; cookie is "" or starts "latchkey_session=".
 */
#ifndef LK_CLIENT_RX_H
#define LK_CLIENT_RX_H

#include "client.h"

#include <stdbool.h>
#include <stddef.h>

/* What the callbacks fill while one request runs. buf is owned by the
 * caller (free). */
typedef struct lk_client_rx {
    char *buf;
    size_t len, cap;
    size_t header_bytes;
    long retry_after;
    bool want_cookie;
    char cookie[LK_CLIENT_COOKIE_MAX]; /* "latchkey_session=value", or "" */
    bool body_too_large;
    bool headers_too_large;
} lk_client_rx;

/* CURLOPT_WRITEFUNCTION / CURLOPT_HEADERFUNCTION with ud an lk_client_rx:
 * return n*size to go on, anything else to make curl stop. */
size_t lk_client_rx_body(char *data, size_t size, size_t n, void *ud);
size_t lk_client_rx_header(char *data, size_t size, size_t n, void *ud);

/* The failed answer in resp (status, JSON error body) as c's one-line,
 * token-free message (lk_client_errmsg). */
void lk_client_error_from_body(lk_client *c, const lk_client_resp *resp);

#endif
