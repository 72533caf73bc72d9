/*
 * service_audit.c — the audit log, service side (declared in service.h's
 * "audit" block): recording an event in the
 * same transaction as the change it describes, and the two lists.
 *
 *     service.c (each change) ──► lk_audit_begin … store op … lk_audit_end
 *                                      └── store begin() … audit_insert, commit()
 *
 * The one mechanism: a change and its event are one store transaction.
 * A mutating use-case opens it with lk_audit_begin, runs its store op(s),
 * and closes it with lk_audit_end(svc, rc, &event): when rc is LK_OK the
 * event is inserted and the transaction committed; otherwise (the op
 * failed, or the event insert or the commit fails) everything is rolled
 * back. So no change exists without its event and no event without its
 * change, on both backends (store ops that open a transaction of their own
 * nest inside it: SQLite savepoints, PostgreSQL's in_tx).
 *
 *     int rc = lk_audit_begin(svc);
 *     if (rc == LK_OK) rc = svc->st->ops->project_rename(svc->st, org, id, n);
 *     rc = lk_audit_end(svc, rc, &(lk_audit){"project.renamed", p, org, NULL,
 *                       "project", id, n, .from = old.name, .to = n});
 *
 * Who and from where: the actor comes from the principal (a session is
 * "user", else the key type; none is "anonymous"); the client address and
 * User-Agent from svc->origin, which the HTTP layer sets per request
 * (lk_svc_set_origin: User-Agent capped to LK_AUDIT_UA_SIZE - 1 bytes,
 * control bytes and invalid UTF-8 removed). An event never holds a token,
 * a password, a hash or a cookie: only ids, names, emails and the details
 * the call site passes (names and values, never secrets).
 *
 * No API edits or deletes an event; lk_svc_audit_purge (the retention
 * timer, off the request path) deletes those older than the retention.
 *
 * Invariants:
 *  - lk_audit_end is the only way an event of a change is written, and it
 *    writes it inside the transaction lk_audit_begin opened: commit happens
 *    only after both the change and the event succeeded, and any failure
 *    rolls both back.
 *  - Every text that reaches an event is capped to its field and cleaned
 *    (no control bytes, valid UTF-8). Nothing secret is ever passed in.
 *  - The lists answer like every other list (limit + 1 rows asked, cursor
 *    = seq), newest first; filters are validated before any store call.
 *  - Nothing here logs, and nothing here includes an HTTP or JSON header:
 *    details are built by the small escaper below.
 */
#include "service.h"

#include "authz.h"
#include "timefmt.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ACTOR_USER "user"
#define ACTOR_PERSONAL_KEY "personal_key"
#define ACTOR_ORG_KEY "organization_key"
#define ACTOR_ANONYMOUS "anonymous"
#define SECONDS_PER_DAY 86400
#define ESCAPE_MAX 6 /* "\u00XX" */

/* --- cleaning ------------------------------------------------------------ */

/* Length of the UTF-8 sequence starting with byte b (0: not a lead byte). */
static size_t utf8_len(unsigned char b)
{
    if (b < 0x80) return 1;
    if ((b & 0xe0) == 0xc0) return 2;
    if ((b & 0xf0) == 0xe0) return 3;
    if ((b & 0xf8) == 0xf0) return 4;
    return 0;
}

/* Copy src[0..len) into out[size] without control bytes (C0, DEL) and
 * without invalid UTF-8, never splitting a character; NUL-terminated. */
static void clean_copy(char *out, size_t size, const char *src, size_t len)
{
    size_t o = 0;
    assert(size > 0);
    for (size_t i = 0; src && i < len;) {
        unsigned char b = (unsigned char)src[i];
        size_t n = utf8_len(b);
        if (n == 0 || i + n > len || !lk_utf8_valid(src + i, n, NULL)) {
            i++;
            continue;
        }
        if (n == 1 && (b < 0x20 || b == 0x7f)) {
            i++;
            continue;
        }
        if (o + n >= size) break;
        memcpy(out + o, src + i, n);
        o += n;
        i += n;
    }
    out[o] = '\0';
}

static void copy_str(char *out, size_t size, const char *src)
{
    clean_copy(out, size, src, src ? strlen(src) : 0);
}

void lk_svc_set_origin(lk_svc *svc, const char *ip, const char *ua, size_t ua_len)
{
    copy_str(svc->origin.ip, sizeof svc->origin.ip, ip);
    clean_copy(svc->origin.user_agent, sizeof svc->origin.user_agent, ua, ua ? ua_len : 0);
}

/* --- details ------------------------------------------------------------- */

/* Append c to out[*o..cap); false if it does not fit. */
static bool put_char(char *out, size_t cap, size_t *o, char c)
{
    if (*o + 1 > cap) return false;
    out[(*o)++] = c;
    return true;
}

/* Append s as a JSON string to out[*o..cap); false if it does not fit. */
static bool put_json_str(char *out, size_t cap, size_t *o, const char *s)
{
    if (!put_char(out, cap, o, '"')) return false;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        char esc[ESCAPE_MAX + 1];
        size_t n = 1;
        if (*c == '"' || *c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*c;
            n = 2;
        } else if (*c < 0x20) {
            n = (size_t)snprintf(esc, sizeof esc, "\\u%04x", *c);
        } else {
            esc[0] = (char)*c;
        }
        if (*o + n > cap) return false;
        memcpy(out + *o, esc, n);
        *o += n;
    }
    return put_char(out, cap, o, '"');
}

void lk_audit_details(char out[LK_AUDIT_DETAILS_SIZE], const char *const *kv, int n)
{
    const size_t cap = LK_AUDIT_DETAILS_SIZE - 2; /* room for "}" and NUL */
    char val[LK_AUDIT_DETAILS_SIZE / 4];
    size_t o = 0;
    (void)put_char(out, cap, &o, '{');
    for (int i = 0; i < n; i++) {
        if (kv[2 * i + 1] == NULL) continue;
        size_t mark = o;
        copy_str(val, sizeof val, kv[2 * i + 1]);
        bool ok = o == 1 || put_char(out, cap, &o, ',');
        ok = ok && put_json_str(out, cap, &o, kv[2 * i]) && put_char(out, cap, &o, ':') &&
             put_json_str(out, cap, &o, val);
        if (!ok) {
            o = mark; /* leave the pair out whole rather than cut it */
            break;
        }
    }
    out[o++] = '}';
    out[o] = '\0';
}

/* --- recording ----------------------------------------------------------- */

/* The actor's fields of ev from the principal (a session's user is read
 * for the name). */
static int fill_actor(lk_svc *svc, const lk_principal *p, lk_audit_event *ev)
{
    if (p == NULL || p->kind == LK_PRINCIPAL_NONE) {
        copy_str(ev->actor_type, sizeof ev->actor_type, ACTOR_ANONYMOUS);
        return LK_OK;
    }
    if (p->kind == LK_PRINCIPAL_SESSION) {
        lk_user u;
        int rc = svc->st->ops->user_get(svc->st, p->user_id, &u);
        if (rc != LK_OK && rc != LK_ENOT_FOUND) return rc;
        copy_str(ev->actor_type, sizeof ev->actor_type, ACTOR_USER);
        copy_str(ev->actor_id, sizeof ev->actor_id, p->user_id);
        copy_str(ev->actor_user_id, sizeof ev->actor_user_id, p->user_id);
        if (rc == LK_OK) copy_str(ev->actor_name, sizeof ev->actor_name, u.name);
        return LK_OK;
    }
    bool personal = p->kind == LK_PRINCIPAL_PERSONAL_KEY;
    copy_str(ev->actor_type, sizeof ev->actor_type, personal ? ACTOR_PERSONAL_KEY : ACTOR_ORG_KEY);
    copy_str(ev->actor_id, sizeof ev->actor_id, p->key.id);
    copy_str(ev->actor_name, sizeof ev->actor_name, p->key.name);
    if (personal) copy_str(ev->actor_user_id, sizeof ev->actor_user_id, p->key.user_id);
    return LK_OK;
}

/* Build and insert the event a describes. */
static int insert_event(lk_svc *svc, const lk_audit *a)
{
    assert(a != NULL && a->action != NULL);
    lk_audit_event *ev = calloc(1, sizeof *ev);
    if (ev == NULL) return lk_err_set(&svc->st->err, LK_ENOMEM, NULL);
    if (svc->audit_id[0] == '\0') lk_id_new("evt_", svc->audit_id);
    memcpy(ev->id, svc->audit_id, sizeof ev->id);
    svc->audit_id[0] = '\0'; /* used: the next event draws its own */
    copy_str(ev->action, sizeof ev->action, a->action);
    int rc = fill_actor(svc, a->actor, ev);
    copy_str(ev->target_type, sizeof ev->target_type, a->target_type);
    copy_str(ev->target_id, sizeof ev->target_id, a->target_id);
    copy_str(ev->target_name, sizeof ev->target_name, a->target_name);
    copy_str(ev->org_id, sizeof ev->org_id, a->org_id);
    copy_str(ev->user_id, sizeof ev->user_id, a->user_id);
    memcpy(ev->ip, svc->origin.ip, sizeof ev->ip);
    memcpy(ev->user_agent, svc->origin.user_agent, sizeof ev->user_agent);
    if (a->details) {
        copy_str(ev->details, sizeof ev->details, a->details);
    } else {
        const char *kv[] = {"from", a->from, "to", a->to};
        lk_audit_details(ev->details, kv, 2);
    }
    ev->created_at = svc->cfg && svc->cfg->now ? svc->cfg->now() : lk_time_now();
    if (rc == LK_OK) rc = svc->st->ops->audit_insert(svc->st, ev);
    free(ev);
    return rc;
}

/* svc->err from a store failure (keeping a message the service set). */
static int fail(lk_svc *svc, int rc)
{
    if (svc->err.code == LK_OK)
        lk_err_set(&svc->err, rc, svc->st->err.message[0] ? svc->st->err.message : NULL);
    return rc;
}

int lk_audit_begin(lk_svc *svc)
{
    /* ~20 CSPRNG calls: not while holding the database's write lock */
    lk_id_new("evt_", svc->audit_id);
    int rc = svc->st->ops->begin(svc->st);
    return rc == LK_OK ? LK_OK : fail(svc, rc);
}

int lk_audit_end(lk_svc *svc, int rc, const lk_audit *a)
{
    if (rc == LK_OK) rc = insert_event(svc, a);
    if (rc == LK_OK) return (rc = svc->st->ops->commit(svc->st)) == LK_OK ? LK_OK : fail(svc, rc);
    lk_err saved = svc->st->err;
    (void)svc->st->ops->rollback(svc->st);
    svc->st->err = saved;
    return rc;
}

int lk_audit_insert(lk_svc *svc, const lk_audit *a)
{
    return insert_event(svc, a);
}

int lk_audit_record(lk_svc *svc, const lk_audit *a)
{
    int rc = lk_audit_begin(svc);
    if (rc != LK_OK) return rc;
    return lk_audit_end(svc, LK_OK, a);
}

/* --- lists --------------------------------------------------------------- */

#define ACTION_MAX (LK_AUDIT_ACTION_SIZE - 1)

/* A dotted action name: [a-z_.], 1..ACTION_MAX bytes. */
static bool action_ok(const char *s, size_t len)
{
    if (len == 0 || len > ACTION_MAX) return false;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_' || s[i] == '.')) return false;
    return true;
}

typedef struct audit_pager {
    int limit, n;
    bool more;
    int64_t last_seq;
    lk_audit_cb cb;
    void *ctx;
} audit_pager;

static int audit_tramp(void *c, const lk_audit_event *ev)
{
    audit_pager *pg = c;
    if (pg->n >= pg->limit) {
        pg->more = true;
        return 0;
    }
    pg->n++;
    pg->last_seq = ev->seq;
    return pg->cb(pg->ctx, ev);
}

/* Validate the filters into f, run the list, set l->next. */
static int run_list(lk_svc *svc, lk_audit_filter *f, const char *action, size_t action_len,
                    const char *actor, size_t actor_len, lk_list *l, lk_audit_cb cb, void *ctx)
{
    char act[LK_AUDIT_ACTION_SIZE] = "", who[LK_ID_SIZE] = "";
    if (action) {
        if (!action_ok(action, action_len))
            return lk_err_field(&svc->err, "action", "is not an audit action name");
        memcpy(act, action, action_len);
    }
    if (actor) {
        if (!lk_id_valid("usr_", actor, actor_len) && !lk_id_valid("key_", actor, actor_len))
            return lk_err_field(&svc->err, "actor", "must be a user id or an access key id");
        memcpy(who, actor, actor_len);
    }
    f->action = act;
    f->actor = who;
    int limit = l->page.limit;
    if (limit < 1) limit = LK_LIST_DEFAULT_LIMIT;
    if (limit > LK_LIST_MAX_LIMIT) limit = LK_LIST_MAX_LIMIT;
    audit_pager pg = {.limit = limit, .cb = cb, .ctx = ctx};
    lk_page page = {.before_seq = l->page.before_seq, .limit = limit + 1};
    l->next = 0;
    int rc = svc->st->ops->audit_list(svc->st, f, &page, audit_tramp, &pg);
    if (rc != LK_OK) return fail(svc, rc);
    l->next = pg.more ? pg.last_seq : 0;
    return LK_OK;
}

int lk_svc_audit_list_org(lk_svc *svc, const lk_principal *p, const char *org_id,
                          const char *action, size_t action_len, const char *actor,
                          size_t actor_len, lk_list *l, lk_audit_cb cb, void *ctx)
{
    lk_err_clear(&svc->err);
    lk_err_clear(&svc->st->err);
    int rc = lk_authz_check(svc, p, LK_ACT_ORG_READ_WRITE, org_id);
    if (rc) return rc;
    lk_audit_filter f = {.org_id = org_id};
    return run_list(svc, &f, action, action_len, actor, actor_len, l, cb, ctx);
}

int lk_svc_audit_list_me(lk_svc *svc, const lk_principal *p, const char *action,
                         size_t action_len, lk_list *l, lk_audit_cb cb, void *ctx)
{
    lk_err_clear(&svc->err);
    lk_err_clear(&svc->st->err);
    int rc = lk_authz_check(svc, p, LK_ACT_SELF, NULL);
    if (rc) return rc;
    lk_audit_filter f = {.user_id = p->user_id};
    return run_list(svc, &f, action, action_len, NULL, 0, l, cb, ctx);
}

/* --- retention ----------------------------------------------------------- */

int lk_svc_audit_purge(lk_svc *svc, int days, int64_t *deleted)
{
    lk_err_clear(&svc->err);
    *deleted = 0;
    if (days <= 0) return LK_OK;
    int64_t now = svc->cfg && svc->cfg->now ? svc->cfg->now() : lk_time_now();
    int64_t before = now - (int64_t)days * SECONDS_PER_DAY;
    int64_t n;
    do {
        int rc = svc->st->ops->audit_purge(svc->st, before, LK_AUDIT_PURGE_BATCH, &n);
        if (rc != LK_OK) return fail(svc, rc);
        *deleted += n;
    } while (n >= LK_AUDIT_PURGE_BATCH);
    return LK_OK;
}
