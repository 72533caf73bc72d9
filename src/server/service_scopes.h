/*
 * service_scopes.h — least privilege for access keys (the contract's
 * "Scoped keys"): the use-cases that create and change scoped keys, the
 * per-request admission of a key (scope, allowed_cidrs, last_used_ip) and
 * the org's access_key_max_lifetime_days.
 *
 *     api_keys.c, api_orgs.c, auth.c ──► this ──► authz ──► store
 *
 * Invariants:
 *  - A key's scopes are a closed bitmask (scope.h) fixed at creation;
 *    "*" (or no scopes field) is LK_SCOPE_ALL. Only the key's allowed_cidrs
 *    and name change afterwards.
 *  - Minting limits: a key-authenticated caller creates keys only with
 *    scopes it holds itself and, when it expires, an expiry no later than
 *    its own (else LK_EFORBIDDEN, required_scope naming the first scope it
 *    lacks); created_by_key records the minting key. Sessions mint freely.
 *  - allowed_cidrs is stored as canonical text ("10.0.0.0/8,2001:db8::/32",
 *    see LK_KEY_CIDRS_SIZE), normalised (host bits cleared), at most
 *    LK_CIDR_LIST_MAX entries, no duplicates.
 *  - lk_svc_key_admit is the hot-path check: one bit test on the key row
 *    already loaded by authentication, and for a key with allowed_cidrs a
 *    parse of at most 32 short strings. It asks the store nothing.
 *  - Nothing here sees a token except lk_svc_key_create_spec's out-buffer,
 *    wiped by the caller after the response is written.
 */
#ifndef LK_SERVICE_SCOPES_H
#define LK_SERVICE_SCOPES_H

#include "cidr.h"
#include "scope.h"
#include "service.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LK_KEY_LIFETIME_DAYS_MAX 3650 /* access_key_max_lifetime_days: 1..10 years */
#define LK_SECS_PER_DAY 86400

/* A list of strings from a request body (borrowed; lengths in len).
 * present == false: the field was absent. */
typedef struct lk_strv {
    bool present;
    size_t n;
    const char *const *s;
    const size_t *len;
} lk_strv;

/* What POST …/access-keys asks for. name is required; expires_at 0 =
 * never; scopes absent = "*"; allowed_cidrs absent = anywhere. */
typedef struct lk_key_spec {
    const char *name;
    size_t name_len;
    int64_t expires_at;
    lk_strv scopes;
    lk_strv cidrs;
} lk_key_spec;

/* lk_svc_key_create with scopes, allowed_cidrs, minting limits and the
 * org's maximum lifetime. org_id NULL: a personal key. token as for
 * lk_svc_key_create (the caller wipes it). Errors: LK_EVALIDATION (field
 * "scopes", "allowed_cidrs", "expires_at", "name"), LK_EFORBIDDEN (minting
 * limits), and those of lk_svc_key_create. */
int lk_svc_key_create_spec(lk_svc *svc, const lk_principal *p, const char *org_id,
                           const lk_key_spec *spec, lk_key *out, char token[LK_TOKEN_SIZE]);

/* PATCH a key: name (NULL: unchanged) and allowed_cidrs (!present:
 * unchanged; an empty list: anywhere). At least one of them must be given
 * (else LK_EVALIDATION field "name"). *out: the key after the change. */
int lk_svc_key_update(lk_svc *svc, const lk_principal *p, const char *org_id, const char *key_id,
                      const char *name, size_t len, const lk_strv *cidrs, lk_key *out);

/* Every request with a key (sessions pass): LK_EFORBIDDEN when client is
 * outside the key's allowed_cidrs (checked first: an outsider learns
 * nothing about the key's scopes); LK_EFORBIDDEN with required_scope when
 * the key lacks `need`; and notes client as the key's
 * last_used_ip (batched with last_used_at, usage.h). client may be NULL
 * (unknown: a key with allowed_cidrs is then refused). */
int lk_svc_key_admit(lk_svc *svc, const lk_principal *p, lk_scopes need, const lk_addr *client);

/* PATCH an org: name (NULL: unchanged; lk_svc_org_rename's rules) and
 * access_key_max_lifetime_days (days NULL: unchanged; *days 0 = no limit,
 * stored NULL; else 1..LK_KEY_LIFETIME_DAYS_MAX, LK_EVALIDATION
 * otherwise). Setting the lifetime needs LK_ACT_ORG_ADMIN (owners once
 * roles exist; an org key may not); both are checked before anything is
 * written. *out: the org after the change. */
int lk_svc_org_update(lk_svc *svc, const lk_principal *p, const char *org_id, const char *name,
                      size_t len, const int64_t *days, lk_org *out);

#endif
