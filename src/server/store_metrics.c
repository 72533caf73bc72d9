/*
 * store_metrics.c — timed copies of the backends' op tables (see
 * store_metrics.h).
 *
 * TIMED_OPS is the list of wrapped ops: name, parameter list, argument
 * list. Adding an op to store.h: add its line here to time it (nothing
 * breaks without it). One timed table per backend, built on first use
 * under a mutex and never freed; a connection finds its backend's real
 * table through the timed one it points at.
 */
#include "store_metrics.h"

#include "metrics.h"

#include <assert.h>
#include <pthread.h>
#include <stddef.h>

#define HASH const uint8_t hash[LK_TOKEN_HASH_LEN]
#define TIMED_OPS(X)                                                                               \
    X(ping, (lk_store * st), (st))                                                                 \
    X(user_create, (lk_store * st, const lk_user *u, const char *el, const char *pw),              \
      (st, u, el, pw))                                                                             \
    X(user_get, (lk_store * st, const char *id, lk_user *o), (st, id, o))                          \
    X(user_get_by_email, (lk_store * st, const char *el, lk_user *o, char *pw), (st, el, o, pw))   \
    X(user_rename, (lk_store * st, const char *id, const char *n), (st, id, n))                    \
    X(session_create, (lk_store * st, HASH, const lk_session *s), (st, hash, s))                   \
    X(session_get, (lk_store * st, HASH, lk_session * o), (st, hash, o))                           \
    X(session_delete, (lk_store * st, HASH), (st, hash))                                           \
    X(org_create, (lk_store * st, const lk_org *o, const char *c, const char *b), (st, o, c, b))   \
    X(org_get, (lk_store * st, const char *id, lk_org *o), (st, id, o))                            \
    X(org_rename, (lk_store * st, const char *id, const char *n), (st, id, n))                     \
    X(org_delete, (lk_store * st, const char *id), (st, id))                                       \
    X(org_list_for_user, (lk_store * st, const char *u, const lk_page *pg, lk_org_cb cb, void *c), \
      (st, u, pg, cb, c))                                                                          \
    X(member_check, (lk_store * st, const char *o, const char *u), (st, o, u))                     \
    X(member_add, (lk_store * st, const char *o, const char *u, int64_t at), (st, o, u, at))       \
    X(member_remove, (lk_store * st, const char *o, const char *u), (st, o, u))                    \
    X(member_remove_unless_last, (lk_store * st, const char *o, const char *u), (st, o, u))        \
    X(member_count, (lk_store * st, const char *o, int64_t *n), (st, o, n))                        \
    X(member_list, (lk_store * st, const char *o, const lk_page *pg, lk_member_cb cb, void *c),    \
      (st, o, pg, cb, c))                                                                          \
    X(child_create, (lk_store * st, lk_child_kind k, const void *r), (st, k, r))                   \
    X(child_get, (lk_store * st, lk_child_kind k, const char *p, const char *id, void *r),         \
      (st, k, p, id, r))                                                                           \
    X(child_rename, (lk_store * st, lk_child_kind k, const char *p, const char *id, const char *n),\
      (st, k, p, id, n))                                                                           \
    X(child_delete, (lk_store * st, lk_child_kind k, const char *p, const char *id), (st, k, p, id))\
    X(child_list,                                                                                  \
      (lk_store * st, lk_child_kind k, const char *p, const lk_page *pg, lk_row_cb cb, void *c),   \
      (st, k, p, pg, cb, c))                                                                       \
    X(billing_get, (lk_store * st, const char *o, lk_billing *b), (st, o, b))                      \
    X(billing_set, (lk_store * st, const lk_billing *b), (st, b))                                  \
    X(key_create, (lk_store * st, const lk_key *k, HASH), (st, k, hash))                           \
    X(key_get, (lk_store * st, const char *id, lk_key *k), (st, id, k))                            \
    X(key_get_by_hash, (lk_store * st, HASH, lk_key * k), (st, hash, k))                           \
    X(key_get_by_hash_owner, (lk_store * st, HASH, lk_key * k, lk_user * u, lk_org * o),           \
      (st, hash, k, u, o))                                                                         \
    X(key_rename, (lk_store * st, const char *id, const char *n), (st, id, n))                     \
    X(key_delete, (lk_store * st, const char *id), (st, id))                                       \
    X(key_list_org,                                                                                \
      (lk_store * st, const char *o, int64_t now, const lk_page *pg, lk_key_cb cb, void *c),       \
      (st, o, now, pg, cb, c))                                                                     \
    X(key_list_user,                                                                               \
      (lk_store * st, const char *u, int64_t now, const lk_page *pg, lk_key_cb cb, void *c),       \
      (st, u, now, pg, cb, c))                                                                     \
    X(key_touch, (lk_store * st, const lk_key_touch *items, size_t n), (st, items, n))

enum {
#define X(name, params, args) OP_##name,
    TIMED_OPS(X)
#undef X
        OP_COUNT
};
_Static_assert(OP_COUNT <= LK_METRICS_STORE_OPS_MAX, "raise LK_METRICS_STORE_OPS_MAX");

static const char *const op_names[OP_COUNT] = {
#define X(name, params, args) #name,
    TIMED_OPS(X)
#undef X
};

#define BACKENDS_MAX 4

/* A backend's table with the timed ops swapped in; ops first, so a
 * connection's st->ops points at the whole struct. */
typedef struct timed_table {
    lk_store_ops ops;
    const lk_store_ops *real;
} timed_table;

static pthread_mutex_t tables_mu = PTHREAD_MUTEX_INITIALIZER;
static timed_table tables[BACKENDS_MAX]; /* [0, ntables) under tables_mu, then read-only */
static size_t ntables;

static const lk_store_ops *real_ops(const lk_store *st)
{
    return ((const timed_table *)(const void *)st->ops)->real;
}

static void count_keys(int op, int rc)
{
    if (rc != LK_OK) return;
    if (op == OP_key_create) lk_metrics_key_created();
    if (op == OP_key_delete) lk_metrics_key_deleted();
}

#define X(name, params, args)                                                                      \
    static int timed_##name params                                                                 \
    {                                                                                              \
        uint64_t t0 = lk_metrics_now_us();                                                         \
        int rc = real_ops(st)->name args;                                                          \
        lk_metrics_store(OP_##name, lk_metrics_now_us() - t0, rc);                                 \
        count_keys(OP_##name, rc);                                                                 \
        return rc;                                                                                 \
    }
TIMED_OPS(X)
#undef X

void lk_store_metrics_wrap(lk_store *st)
{
    assert(st != NULL && st->ops != NULL);
    pthread_mutex_lock(&tables_mu);
    timed_table *t = NULL;
    for (size_t i = 0; i < ntables; i++)
        if (tables[i].real == st->ops || &tables[i].ops == st->ops) t = &tables[i];
    if (t == NULL && ntables < BACKENDS_MAX) { /* else: left untimed */
        t = &tables[ntables++];
        t->real = st->ops;
        t->ops = *st->ops;
#define X(name, params, args) t->ops.name = timed_##name;
        TIMED_OPS(X)
#undef X
        lk_metrics_set_store_ops(op_names, OP_COUNT);
    }
    if (t != NULL) st->ops = &t->ops;
    pthread_mutex_unlock(&tables_mu);
}

void lk_store_metrics_key_owner(uint64_t usec, int rc)
{
    lk_metrics_store(OP_key_get_by_hash_owner, usec, rc);
}
