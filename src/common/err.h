/*
 * err.h — the one error type of latchkey.
 *
 * Every function that can fail returns an int: 0 (LK_OK) on success, a
 * negative LK_E* code otherwise. The codes, their names, the HTTP status
 * they become and the API's snake_case `code` string all come from the
 * single X-macro table LK_ERR_MAP below (the shape of libuv's UV_ERRNO_MAP):
 * adding an error is one line here and nowhere else.
 *
 * Details travel beside the code on an lk_err handle (as SQLite keeps its
 * message on the connection): a human-readable message for the API, the
 * offending field for validation errors, and Retry-After for rate limits.
 *
 * Invariants:
 *  - A message never contains a secret (token, password, hash) or an SQL
 *    statement. Messages that reach an API caller are generic ("organization
 *    not found", "database is unavailable"); only errors shown to the
 *    operator (opening the store at start-up, migrate-data) carry the
 *    driver's own text, and URLs in them are printed without passwords.
 *  - lk_err is plain data (fixed buffers), safe to keep on the stack.
 */
#ifndef LK_ERR_H
#define LK_ERR_H

#include <stddef.h>

/* X(NAME, value, http_status, api_code, default_message) */
#define LK_ERR_MAP(X)                                                                              \
    X(INVALID_JSON, -1, 400, "invalid_json", "request body is not valid JSON")                     \
    X(VALIDATION, -2, 400, "validation_failed", "validation failed")                               \
    X(UNAUTHENTICATED, -3, 401, "unauthenticated", "authentication required")                      \
    X(FORBIDDEN, -4, 403, "forbidden", "this credential may not do this")                          \
    X(NOT_FOUND, -5, 404, "not_found", "not found")                                                \
    X(METHOD, -6, 405, "method_not_allowed", "method not allowed")                                 \
    X(CONFLICT, -7, 409, "conflict", "conflict")                                                   \
    X(TOO_LARGE, -8, 413, "payload_too_large", "request body is too large")                        \
    X(MEDIA_TYPE, -9, 415, "unsupported_media_type", "Content-Type must be application/json")      \
    X(RATE_LIMITED, -10, 429, "rate_limited", "too many requests")                                 \
    X(INTERNAL, -11, 500, "internal", "internal error")                                            \
    X(UNAVAILABLE, -12, 503, "unavailable", "service unavailable")                                 \
    X(NOMEM, -13, 500, "internal", "out of memory")                                                \
    /* --- device authorization (RFC 8628's token endpoint errors) --- */                          \
    X(AUTH_PENDING, -14, 400, "authorization_pending", "the sign-in has not been approved yet")    \
    X(SLOW_DOWN, -15, 400, "slow_down", "polling too fast: wait longer between polls")             \
    X(EXPIRED_TOKEN, -16, 400, "expired_token", "the device code is expired, used or unknown")     \
    X(ACCESS_DENIED, -17, 400, "access_denied", "the sign-in was denied")

enum lk_err_code {
    LK_OK = 0,
#define LK__ERR_ENUM(name, val, status, code, msg) LK_E##name = (val),
    LK_ERR_MAP(LK__ERR_ENUM)
#undef LK__ERR_ENUM
};

#define LK_ERR_MSG_MAX 200
#define LK_ERR_FIELD_MAX 48

typedef struct lk_err {
    int code;                          /* LK_OK or an LK_E* value */
    int retry_after;                   /* seconds, for LK_ERATE_LIMITED */
    char field[LK_ERR_FIELD_MAX];      /* offending field for LK_EVALIDATION, or "" */
    char message[LK_ERR_MSG_MAX];      /* safe to show to the caller */
    const char *required_scope;        /* static scope name for a scope 403, or NULL */
} lk_err;

/* Reset to "no error". */
void lk_err_clear(lk_err *e);

/* Record an error; msg NULL means the table's default message. Returns code,
 * so `return lk_err_set(e, LK_ENOT_FOUND, "key not found");` reads well.
 * e may be NULL (then only the code is returned). */
int lk_err_set(lk_err *e, int code, const char *msg);

/* printf-style variant; the formatted text is truncated to LK_ERR_MSG_MAX. */
int lk_err_setf(lk_err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* LK_EVALIDATION with the offending field name (and a message). */
int lk_err_field(lk_err *e, const char *field, const char *msg);

/* LK_EFORBIDDEN for a key used outside its scopes: scope is the static
 * name of the scope it lacks (scope.h), written as "required_scope". */
int lk_err_scope(lk_err *e, const char *scope, const char *msg);

/* Table look-ups. Unknown codes map to the INTERNAL row. Static strings. */
const char *lk_err_name(int code);     /* "NOT_FOUND" */
const char *lk_err_api_code(int code); /* "not_found" */
const char *lk_err_default_msg(int code);
int lk_err_http_status(int code); /* 404 */

/* The message to show: e->message if set, else the default for the code. */
const char *lk_err_message(const lk_err *e);

#endif
