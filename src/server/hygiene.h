/*
 * hygiene.h — HTTP/1 request-head rules h2o 2.2 does not enforce itself
 * (RFC 9112 3.2 and 5.2): an HTTP/1.1 request needs exactly one Host
 * header (none, or two, is 400); no request may use obsolete line folding
 * (a header line that starts with a space or a tab is 400). HTTP/1.0 may
 * omit Host but not repeat it. HTTP/2 has no such head (its :authority is
 * checked by h2o).
 *
 * h2o keeps neither fact: it moves Host to req->authority (the first one
 * wins) and folds continuation lines away. So, like the framing check in
 * http.c, this reads the request's raw head, which h2o keeps at the start
 * of the connection's input buffer while the request is handled; when the
 * buffer does not start with this request's method the check passes
 * (never a false refusal). Reads at most the head's bytes; allocates
 * nothing. Called by the dispatcher (http.c) before anything else.
 */
#ifndef LK_HYGIENE_H
#define LK_HYGIENE_H

#include <h2o.h>

/* NULL if the head is fine, else a message for the 400 answer (static). */
const char *lk_hygiene_check(h2o_req_t *req);

#endif
