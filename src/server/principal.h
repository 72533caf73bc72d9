/*
 * principal.h — who is making a request: the result of authentication,
 * the input of authorization.
 *
 * A type of its own so that authz.h (below the service) and service.h
 * (which fills it) both use it without including each other. Plain data:
 * fixed-size, nothing to free. It holds no token (the store keeps only
 * hashes), but a session principal carries the session's CSRF token, so
 * one is never logged; it lives on the dispatcher's stack for one request.
 */
#ifndef LK_PRINCIPAL_H
#define LK_PRINCIPAL_H

#include "store.h"

#include <stdbool.h>

typedef enum lk_principal_kind {
    LK_PRINCIPAL_NONE = 0,
    LK_PRINCIPAL_SESSION,      /* dashboard / terminal session cookie */
    LK_PRINCIPAL_PERSONAL_KEY, /* lkp_ bearer token */
    LK_PRINCIPAL_ORG_KEY,      /* lko_ bearer token */
} lk_principal_kind;

typedef struct lk_principal {
    lk_principal_kind kind;
    char user_id[LK_ID_SIZE]; /* SESSION, PERSONAL_KEY: the user */
    char org_id[LK_ID_SIZE];  /* ORG_KEY: its org */
    lk_key key;               /* *_KEY: the key record */
    lk_session session;       /* SESSION: includes the csrf token */
    /* *_KEY authenticated with LK_AUTH_OWNER: the key's user (personal) or
     * org (org key), read in the same statement as the key. */
    bool has_owner;
    lk_user owner_user;
    lk_org owner_org;
} lk_principal;

#endif
