/*
 * service_scopes.c — scoped keys, allowed_cidrs, minting limits and the
 * org's key lifetime (service_scopes.h).
 *
 * The order of the checks at creation is the order of the contract's
 * table: authorization of the caller (authz via lk_svc__key_authz), the
 * body (name, expires_at, scopes, allowed_cidrs: 400s), the org's maximum
 * lifetime (400), then the minting limits (403), then the write. A
 * request that is wrong in several ways gets the 400 first: what to fix
 * in the request before what the credential may not do.
 *
 * Invariants: scopes stored are closed masks (scope.h); allowed_cidrs
 * stored are canonical text produced here from a parsed lk_cidr_list, so
 * every reader may parse them back without error; the token lives in the
 * caller's buffer only and is wiped on every failure after generation.
 */
#include "service_scopes.h"

#include "authz.h"
#include "timefmt.h"
#include "usage.h"

#include <assert.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define FIELD_SCOPES "scopes"
#define FIELD_CIDRS "allowed_cidrs"
#define FIELD_EXPIRES "expires_at"

static const char *KEY_NF = "access key not found";
static const char *ORG_NF = "organization not found";

static int64_t now_of(const lk_svc *svc)
{
    return svc->cfg && svc->cfg->now ? svc->cfg->now() : lk_time_now();
}

static void begin(lk_svc *svc)
{
    lk_err_clear(&svc->err);
    lk_err_clear(&svc->st->err);
}

static int store_err(lk_svc *svc, int rc, const char *not_found)
{
    if (rc == LK_ENOT_FOUND && not_found) return lk_err_set(&svc->err, rc, not_found);
    lk_err_set(&svc->err, rc, svc->st->err.message[0] ? svc->st->err.message : NULL);
    return rc;
}

/* The closed mask a creation asks for. */
static int parse_scopes(lk_svc *svc, const lk_strv *v, bool org_key, lk_scopes *out)
{
    if (!v->present) {
        *out = LK_SCOPE_ALL;
        return LK_OK;
    }
    return lk_scope_parse_list(v->s, v->len, v->n, org_key ? LK_SCOPE_FOR_ORG_KEY : 0, out,
                               &svc->err);
}

/* A list of CIDRs into canonical text (out holds LK_KEY_CIDRS_SIZE). */
static int cidrs_to_text(lk_svc *svc, const lk_strv *v, char out[LK_KEY_CIDRS_SIZE])
{
    lk_cidr_list l;
    lk_cidr_list_init(&l);
    out[0] = '\0';
    if (v->n > LK_CIDR_LIST_MAX)
        return lk_err_field(&svc->err, FIELD_CIDRS, "at most 32 allowed_cidrs");
    for (size_t i = 0; i < v->n; i++) {
        lk_cidr c;
        if (v->s[i] == NULL)
            return lk_err_field(&svc->err, FIELD_CIDRS, "allowed_cidrs must be strings");
        int rc = lk_cidr_parse(v->s[i], v->len[i], &c, NULL, FIELD_CIDRS, &svc->err);
        if (rc == LK_OK) rc = lk_cidr_list_add(&l, &c, FIELD_CIDRS, &svc->err);
        if (rc != LK_OK) return rc;
    }
    size_t at = 0;
    for (unsigned i = 0; i < l.n; i++) {
        char t[LK_CIDR_TEXT_SIZE];
        lk_cidr_format(&l.item[i], t);
        size_t n = strlen(t);
        assert(at + n + 2 <= LK_KEY_CIDRS_SIZE); /* 32 × (49 + 1) fits */
        if (i > 0) out[at++] = ',';
        memcpy(out + at, t, n);
        at += n;
    }
    out[at] = '\0';
    return LK_OK;
}

/* The org's maximum lifetime for a new org key (400 on expires_at). */
static int check_org_lifetime(lk_svc *svc, const char *org_id, int64_t expires_at, int64_t now)
{
    lk_org o;
    int rc = svc->st->ops->org_get(svc->st, org_id, &o);
    if (rc != LK_OK) return store_err(svc, rc, ORG_NF);
    if (o.key_max_lifetime_days <= 0) return LK_OK;
    if (expires_at != 0 && expires_at <= now + o.key_max_lifetime_days * LK_SECS_PER_DAY)
        return LK_OK;
    lk_err_setf(&svc->err, LK_EVALIDATION,
                "this organization's access keys must expire within %lld days",
                (long long)o.key_max_lifetime_days);
    snprintf(svc->err.field, sizeof(svc->err.field), "%s", FIELD_EXPIRES);
    return LK_EVALIDATION;
}

/* Minting limits for a key-authenticated caller (403). */
static int check_minting(lk_svc *svc, const lk_principal *p, lk_scopes want, int64_t expires_at)
{
    if (p->kind != LK_PRINCIPAL_ORG_KEY && p->kind != LK_PRINCIPAL_PERSONAL_KEY) return LK_OK;
    lk_scopes missing = want & ~p->key.scopes;
    if (missing != 0) {
        lk_scopes bit = missing & (~missing + 1); /* the lowest one: first in table order */
        return lk_err_scope(&svc->err, lk_scope_name(bit),
                            "a key may only create keys with scopes it holds itself");
    }
    if (p->key.expires_at != 0 && (expires_at == 0 || expires_at > p->key.expires_at))
        return lk_err_set(&svc->err, LK_EFORBIDDEN,
                          "a key that expires may only create keys that expire no later "
                          "than itself");
    return LK_OK;
}

/* The new key's record, checked (everything but id, token and store). */
static int build_key(lk_svc *svc, const lk_principal *p, const char *org_id,
                     const lk_key_spec *spec, int64_t now, lk_key *out)
{
    int rc = lk_validate_name(spec->name, spec->name_len, out->name, "name", &svc->err);
    if (rc) return rc;
    if (spec->expires_at != 0 && spec->expires_at <= now)
        return lk_err_field(&svc->err, FIELD_EXPIRES, "must be in the future");
    if ((rc = parse_scopes(svc, &spec->scopes, org_id != NULL, &out->scopes))) return rc;
    if ((rc = cidrs_to_text(svc, &spec->cidrs, out->allowed_cidrs))) return rc;
    if (org_id && (rc = check_org_lifetime(svc, org_id, spec->expires_at, now))) return rc;
    if ((rc = check_minting(svc, p, out->scopes, spec->expires_at))) return rc;

    out->type = org_id ? LK_KEY_ORG : LK_KEY_PERSONAL;
    if (org_id)
        memcpy(out->org_id, org_id, strnlen(org_id, LK_ID_SIZE - 1));
    else
        memcpy(out->user_id, p->user_id, sizeof(out->user_id));
    memcpy(out->created_by, p->user_id, sizeof(out->created_by));
    if (p->kind == LK_PRINCIPAL_ORG_KEY || p->kind == LK_PRINCIPAL_PERSONAL_KEY)
        memcpy(out->created_by_key, p->key.id, sizeof(out->created_by_key));
    out->created_at = now;
    out->expires_at = spec->expires_at;
    return LK_OK;
}

int lk_svc_key_create_spec(lk_svc *svc, const lk_principal *p, const char *org_id,
                           const lk_key_spec *spec, lk_key *out, char token[LK_TOKEN_SIZE])
{
    begin(svc);
    uint8_t hash[LK_TOKEN_HASH_LEN];
    int64_t now = now_of(svc);
    memset(out, 0, sizeof(*out));
    token[0] = '\0';
    int rc = lk_svc__key_authz(svc, p, org_id);
    if (rc || (rc = build_key(svc, p, org_id, spec, now, out))) return rc;

    lk_id_new("key_", out->id);
    if ((rc = lk_token_generate(org_id ? LK_TOKEN_ORG : LK_TOKEN_PERSONAL, token)) != LK_OK)
        return lk_err_set(&svc->err, rc, NULL);
    lk_token_hash(token, LK_TOKEN_LEN, hash);
    lk_token_redact(token, out->redacted);
    if ((rc = lk_audit_begin(svc)) == LK_OK) {
        rc = svc->st->ops->key_create(svc->st, out, hash);
        rc = lk_audit_end(svc, rc,
                          &(lk_audit){LK_AUDIT_KEY_CREATED, p, org_id,
                                      org_id ? NULL : p->user_id, "access_key", out->id,
                                      out->name});
    }
    sodium_memzero(hash, sizeof(hash));
    if (rc != LK_OK) {
        sodium_memzero(token, LK_TOKEN_SIZE);
        return store_err(svc, rc, org_id ? ORG_NF : NULL);
    }
    lk_key stored;
    if (svc->st->ops->key_get(svc->st, out->id, &stored) == LK_OK) *out = stored;
    return LK_OK;
}

/* The v1 call: every scope, anywhere. */
int lk_svc_key_create(lk_svc *svc, const lk_principal *p, const char *org_id, const char *name,
                      size_t len, int64_t expires_at, lk_key *out, char token[LK_TOKEN_SIZE])
{
    lk_key_spec spec = {.name = name, .name_len = len, .expires_at = expires_at};
    return lk_svc_key_create_spec(svc, p, org_id, &spec, out, token);
}

int lk_svc_key_update(lk_svc *svc, const lk_principal *p, const char *org_id, const char *key_id,
                      const char *name, size_t len, const lk_strv *cidrs, lk_key *out)
{
    begin(svc);
    char n[LK_NAME_SIZE];
    char text[LK_KEY_CIDRS_SIZE];
    bool set_cidrs = cidrs != NULL && cidrs->present;
    int rc = lk_svc__key_authz(svc, p, org_id);
    if (rc || (rc = lk_svc__key_load(svc, p, org_id, key_id, out))) return rc;
    if (name == NULL && !set_cidrs) return lk_err_field(&svc->err, "name", "name is required");
    if (name != NULL && (rc = lk_validate_name(name, len, n, "name", &svc->err))) return rc;
    if (set_cidrs && (rc = cidrs_to_text(svc, cidrs, text))) return rc;
    /* each change in its own transaction with its event (audit log) */
    const char *user = org_id ? NULL : p->user_id;
    if (name != NULL) {
        char from[LK_NAME_SIZE];
        memcpy(from, out->name, sizeof from);
        if ((rc = lk_audit_begin(svc)) != LK_OK) return rc;
        rc = svc->st->ops->key_rename(svc->st, key_id, n);
        rc = lk_audit_end(svc, rc,
                          &(lk_audit){LK_AUDIT_KEY_RENAMED, p, org_id, user, "access_key", key_id,
                                      n, .from = from, .to = n});
        if (rc != LK_OK) return store_err(svc, rc, KEY_NF);
    }
    if (set_cidrs) {
        if ((rc = lk_audit_begin(svc)) != LK_OK) return rc;
        rc = svc->st->ops->key_set_cidrs(svc->st, key_id, text);
        rc = lk_audit_end(svc, rc,
                          &(lk_audit){LK_AUDIT_KEY_CIDRS_CHANGED, p, org_id, user, "access_key",
                                      key_id, name ? n : out->name, .from = out->allowed_cidrs,
                                      .to = text});
        if (rc != LK_OK) return store_err(svc, rc, KEY_NF);
    }
    rc = svc->st->ops->key_get(svc->st, key_id, out);
    return rc ? store_err(svc, rc, KEY_NF) : LK_OK;
}

/* The v1 call (name only): lk_svc_key_update without allowed_cidrs. */
int lk_svc_key_rename(lk_svc *svc, const lk_principal *p, const char *org_id,
                      const char *key_id, const char *name, size_t len, lk_key *out)
{
    return lk_svc_key_update(svc, p, org_id, key_id, name, len, NULL, out);
}

/* Is client inside the key's allowed_cidrs (canonical text, non-empty)? */
static bool client_allowed(const char *cidrs, const lk_addr *client)
{
    if (client == NULL || client->family == 0) return false;
    lk_cidr_list l;
    if (lk_cidr_list_parse(cidrs, strnlen(cidrs, LK_KEY_CIDRS_SIZE), &l, NULL, FIELD_CIDRS, NULL) !=
        LK_OK)
        return false; /* never stored by this module: refuse rather than open up */
    return lk_cidr_list_contains(&l, client);
}

int lk_svc_key_admit(lk_svc *svc, const lk_principal *p, lk_scopes need, const lk_addr *client)
{
    if (p->kind != LK_PRINCIPAL_ORG_KEY && p->kind != LK_PRINCIPAL_PERSONAL_KEY) return LK_OK;
    assert(need != 0 && (need & (need - 1)) == 0); /* one scope per route */
    if (client != NULL) lk_usage_note_ip(svc->usage, p->key.id, client);
    /* the address first: from outside its ranges a key says nothing
     * about itself, not even which scopes it lacks */
    if (p->key.allowed_cidrs[0] != '\0' && !client_allowed(p->key.allowed_cidrs, client))
        return lk_err_set(&svc->err, LK_EFORBIDDEN,
                          "this access key may not be used from this address");
    if (!lk_scope_allows(p->key.scopes, need))
        return lk_err_scope(&svc->err, lk_scope_name(need),
                            "this access key does not have the scope this request needs");
    return LK_OK;
}

int lk_svc_org_update(lk_svc *svc, const lk_principal *p, const char *org_id, const char *name,
                      size_t len, const int64_t *days, lk_org *out)
{
    begin(svc);
    int rc;
    if (days != NULL) {
        /* checked before anything is written: no half-applied PATCH */
        if ((rc = lk_authz_check(svc, p, LK_ACT_ORG_OWNER, org_id))) return rc; /* owners only */
        if (*days < 0 || *days > LK_KEY_LIFETIME_DAYS_MAX)
            return lk_err_field(&svc->err, "access_key_max_lifetime_days",
                                "access_key_max_lifetime_days must be null or 1..3650");
    }
    if (name != NULL && (rc = lk_svc_org_rename(svc, p, org_id, name, len, out))) return rc;
    if (days == NULL) return name != NULL ? LK_OK : lk_svc_org_get(svc, p, org_id, out);
    if ((rc = svc->st->ops->org_set_key_lifetime(svc->st, org_id, *days)) != LK_OK)
        return store_err(svc, rc, ORG_NF);
    rc = svc->st->ops->org_get(svc->st, org_id, out);
    return rc ? store_err(svc, rc, ORG_NF) : LK_OK;
}
