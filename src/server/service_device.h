/*
 * service_device.h — sign in from the CLI through the browser: the device
 * authorization grant of RFC 8628, in the contract's shape ("Sign-in from
 * the CLI through the browser").
 *
 *   latchkey login ── start ──► {device_code, user_code "BCDF-GHJK", …}
 *        │ prints the code and the URL, opens the browser
 *        │                          person at /device (signed in, session
 *        │                          + CSRF): lookup, then approve or deny
 *        └── poll every interval ──► authorization_pending | slow_down |
 *                                    access_denied | expired_token |
 *                                    {token, key} (once)
 *
 * Design and invariants:
 *  - Two secrets per request: the device_code (32 random bytes, base64url,
 *    ~256 bits) that only the CLI holds and that collects the key, and the
 *    user_code (8 letters of LK_USER_CODE_ALPHABET, ~34.6 bits) that the
 *    person types or follows. The store keeps only SHA-256 hashes of both
 *    (the user_code's with a domain prefix), never a code.
 *  - The key is minted when the approved request is first polled, in one
 *    store transaction with the USED transition (device_redeem): its token
 *    never rests anywhere, and two pollers racing get it once. It is a
 *    personal key of the approver (whoever approves, not whoever opened
 *    the page), named after client_name.
 *  - Single use: after the token was handed out, the device_code answers
 *    expired_token, exactly like an unknown or expired one.
 *  - Pace: a poll less than `interval` seconds after the previous one gets
 *    slow_down and raises the interval by LK_DEVICE_SLOW_DOWN (RFC 8628
 *    3.5), for this request from then on.
 *  - Guessing: lookup/approve/deny with a user_code that is malformed,
 *    unknown, expired or already decided count one failure against the
 *    client address (ratelimit.h); past the limit every answer is 429,
 *    the right code included, so the throttle is no oracle. The
 *    feasibility argument is in SECURITY.md.
 *  - Only a session (a person in the dashboard) may look up, approve or
 *    deny: a key gets 403, so no key can mint keys this way.
 *  - Nothing here logs; codes and tokens are wiped from local buffers.
 *
 * Called by api_device.c; calls store (device_* ops), token.c, ratelimit.
 */
#ifndef LK_SERVICE_DEVICE_H
#define LK_SERVICE_DEVICE_H

#include "service.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LK_USER_CODE_ALPHABET "BCDFGHJKLMNPQRSTVWXZ" /* no vowels: no words */
#define LK_USER_CODE_ALPHABET_LEN 20
#define LK_USER_CODE_LEN 8        /* letters; 20^8 ≈ 2.56e10 codes */
#define LK_USER_CODE_SIZE 10      /* "BCDF-GHJK" + NUL */
#define LK_USER_CODE_INPUT_MAX 64 /* bytes of user input looked at, at most */
#define LK_DEVICE_CODE_BYTES 32
#define LK_DEVICE_CODE_LEN 43 /* base64url of 32 bytes, unpadded */
#define LK_DEVICE_CODE_SIZE 48
#define LK_DEVICE_TTL 600   /* seconds a request lives (expires_in) */
#define LK_DEVICE_TTL_MIN 1 /* --device-code-ttl range (for tests) */
#define LK_DEVICE_TTL_MAX 3600
#define LK_DEVICE_INTERVAL 5      /* seconds between polls */
#define LK_DEVICE_SLOW_DOWN 5     /* added to the interval on each slow_down */
#define LK_DEVICE_INTERVAL_MAX 60 /* slow_down never raises it further */
#define LK_DEVICE_CLIENT_DEFAULT "latchkey CLI"
#define LK_DEVICE_CREATE_TRIES 3 /* a user_code collision draws a new one */

/* The answer to start. device_code is a secret: the caller wipes it after
 * writing the response. */
typedef struct lk_device_grant {
    char device_code[LK_DEVICE_CODE_SIZE];
    char user_code[LK_USER_CODE_SIZE]; /* "BCDF-GHJK" */
    int64_t expires_in;
    int64_t interval;
} lk_device_grant;

/* What the /device page shows before the person decides. */
typedef struct lk_device_info {
    char user_code[LK_USER_CODE_SIZE];
    char client_name[LK_NAME_SIZE];
    char client_addr[LK_DEVICE_ADDR_SIZE];
    int64_t scopes;
    int64_t created_at;
    int64_t expires_at;
} lk_device_info;

/* Public. client_name NULL: LK_DEVICE_CLIENT_DEFAULT; else a valid name
 * (LK_EVALIDATION, field "client_name"). scopes: n names (lens their
 * lengths), has_scopes false when the body had none (= every scope); an
 * unknown or repeated scope is LK_EVALIDATION, field "scopes". client:
 * the requesting address, shown to the approver. */
int lk_svc_device_start(lk_svc *svc, const char *client_name, size_t name_len,
                        const char *const scopes[], const size_t scope_lens[], size_t nscopes,
                        bool has_scopes, const char *client, lk_device_grant *out);

/* Public, the poll. LK_EAUTH_PENDING, LK_ESLOW_DOWN, LK_EEXPIRED_TOKEN
 * (unknown, expired, malformed or already used), LK_EACCESS_DENIED; on
 * LK_OK *key is the new personal key and token its token (the caller wipes
 * it after writing the response). */
int lk_svc_device_token(lk_svc *svc, const char *device_code, size_t len, lk_key *key,
                        char token[LK_TOKEN_SIZE]);

/* Session only (else LK_EFORBIDDEN). user_code in any case, with or
 * without the dash and spaces. LK_ENOT_FOUND for a code that is unknown,
 * expired or already decided; LK_ERATE_LIMITED past the guess limit. */
int lk_svc_device_lookup(lk_svc *svc, const lk_principal *p, const char *user_code, size_t len,
                         const char *client, lk_device_info *out);
int lk_svc_device_decide(lk_svc *svc, const lk_principal *p, const char *user_code, size_t len,
                         const char *client, bool approve);

/* Canonical letters (8, upper case, no dash) of a typed user_code into
 * out (LK_USER_CODE_LEN + 1); -1 if it is not one. Pure; for tests too. */
int lk_device_user_code_canon(const char *in, size_t len, char out[LK_USER_CODE_LEN + 1]);

#endif
