/*
 * client.h — the latchkey CLI's small HTTP client: one libcurl easy handle
 * talking JSON to one latchkeyd base URL.
 *
 * What it is for: every command of the `latchkey` CLI goes through
 * lk_client_request(). It adds the credential (a bearer token, or the session
 * cookie + X-CSRF-Token that `latchkey login` uses for two requests), sends an
 * optional JSON body, reads the answer into a capped buffer, parses it with
 * jansson, and sorts the outcome into one of a few result codes that the CLI
 * maps to its exit status in exactly one place (lk_client_exit_code).
 *
 * Invariants:
 *  - Every byte read from the network has a hard limit: the body
 *    (LK_CLIENT_BODY_MAX), each header line and the sum of header bytes
 *    (LK_CLIENT_HEADERS_MAX). Going over fails the request; nothing grows
 *    without bound.
 *  - The token, the CSRF token and the session cookie are copied into the
 *    handle and wiped with sodium_memzero on lk_client_free. They are never
 *    written into an error message: messages are built from the URL, curl's
 *    error text (which never contains request headers) and the server's
 *    error body, and are scrubbed of anything that looks like a token
 *    before they are stored.
 *  - Only http:// and https:// URLs; redirects are not followed (a redirect
 *    would carry the credential to another place).
 *  - Connect timeout LK_CLIENT_CONNECT_TIMEOUT, whole-request timeout
 *    LK_CLIENT_TIMEOUT (seconds), overridable with LATCHKEY_TIMEOUT.
 *
 * Who calls it: the CLI (src/cli/cli_request.c, cmd_auth.c). It never
 * prints anything itself.
 */
#ifndef LK_CLIENT_H
#define LK_CLIENT_H

#include <jansson.h>
#include <stddef.h>

#define LK_CLIENT_BODY_MAX (4u * 1024u * 1024u) /* 4 MiB of response body */
#define LK_CLIENT_HEADERS_MAX (64u * 1024u)     /* sum of response header bytes */
#define LK_CLIENT_HEADER_LINE_MAX 8192u         /* one response header line */
#define LK_CLIENT_URL_MAX 2048u                 /* base URL, path and query */
#define LK_CLIENT_CONNECT_TIMEOUT 10L
#define LK_CLIENT_TIMEOUT 30L
#define LK_CLIENT_MSG_MAX 512
#define LK_CLIENT_COOKIE_MAX 512 /* the session cookie we keep */

/* The outcome of a request. 0 is success; negative values are failures. */
enum lk_client_result {
    LK_CLIENT_OK = 0,
    LK_CLIENT_EREFUSED = -1,     /* the server answered 4xx/5xx (not 401) */
    LK_CLIENT_EUNAUTH = -2,      /* the server answered 401 */
    LK_CLIENT_EUNREACHABLE = -3, /* refused, DNS failure, timeout, connection lost */
    LK_CLIENT_EPROTOCOL = -4,    /* an answer we cannot use: too large, not JSON */
    LK_CLIENT_EUSAGE = -5,       /* a bad URL or argument from the user */
    LK_CLIENT_ENOMEM = -6,
};

/* Exit statuses of the CLI (spec: "The CLI"). */
enum lk_exit {
    LK_EXIT_OK = 0,
    LK_EXIT_FAIL = 1,        /* the server refused or failed */
    LK_EXIT_USAGE = 2,       /* bad usage */
    LK_EXIT_UNAUTH = 3,      /* not authenticated */
    LK_EXIT_UNREACHABLE = 4, /* could not reach the server */
};

typedef struct lk_client lk_client;

/* One answer. raw is the body exactly as received (NUL-ended, raw_len bytes
 * without the NUL); json is its parse, or NULL for an empty or non-JSON body.
 * Both are owned by the response: release with lk_client_resp_release. */
typedef struct lk_client_resp {
    long status;
    char *raw;
    size_t raw_len;
    json_t *json;
    long retry_after;         /* seconds from Retry-After, or -1 */
    long long key_expires_at; /* Latchkey-Key-Expires-At (Unix seconds), or 0 */
} lk_client_resp;

/* Make a client for base_url (http:// or https://, no trailing path needed).
 * On success *out is owned by the caller (lk_client_free). Returns 0,
 * LK_CLIENT_EUSAGE for a URL that is not http(s) or too long, or
 * LK_CLIENT_ENOMEM. */
int lk_client_new(const char *base_url, lk_client **out);

/* Wipe the secrets held and free the handle. NULL is fine. */
void lk_client_free(lk_client *c);

/* Use this bearer token on every following request (copied; NULL clears). */
int lk_client_set_token(lk_client *c, const char *token);

/* lk_client_enable_cookies: keep the latchkey_session cookie the server
 * sets (at most LK_CLIENT_COOKIE_MAX bytes, wiped on free) and send it back.
 * lk_client_set_csrf: send csrf (copied) as X-CSRF-Token on POST/PATCH/DELETE.
 * Both are for `latchkey login`. NULL clears. */
int lk_client_set_csrf(lk_client *c, const char *csrf);
void lk_client_enable_cookies(lk_client *c);

/* The base URL, without a trailing slash. Owned by the client. */
const char *lk_client_base_url(const lk_client *c);

/* Send METHOD path (starting with '/', may carry a query) with an optional
 * JSON body (borrowed, not stolen). On return, resp is filled whenever the
 * server answered (also for 4xx/5xx: resp->json carries the error body) and
 * must be released by the caller; on transport failures it is empty.
 * Returns 0 for a 2xx answer, else a negative lk_client_result with a
 * one-line, token-free message in lk_client_errmsg(c). */
int lk_client_request(lk_client *c, const char *method, const char *path, json_t *body,
                      lk_client_resp *resp);

/* Free what resp holds and reset it to empty. */
void lk_client_resp_release(lk_client_resp *resp);

/* The message of the last failure (static to the handle, "" if none). */
const char *lk_client_errmsg(const lk_client *c);

/* The CLI's exit status for a result code: the one place this mapping lives. */
int lk_client_exit_code(int result);

/* Replace, in place, every substring of s that looks like a latchkey token
 * (lko_/lkp_ followed by base62 characters) with its prefix and "…". Used on
 * every message before it can reach a terminal. */
void lk_client_scrub(char *s);

/* Percent-encode s for use as one path segment or query value into out
 * (size bytes). Returns 0, or LK_CLIENT_EUSAGE if it does not fit. */
int lk_client_escape(const char *s, char *out, size_t size);

#endif
