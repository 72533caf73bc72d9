/*
 * store.c — backend selection. The only place that knows which URL scheme
 * belongs to which backend; everything else talks to st->ops.
 */
#include "store.h"

#include <string.h>

const lk_store_ops *lk_store_backend(const char *url, lk_err *e)
{
    if (lk_store_url_is(url, LK_STORE_SQLITE_SCHEME)) return &lk_store_sqlite_ops;
    if (lk_store_url_is(url, LK_STORE_PG_SCHEME) || lk_store_url_is(url, LK_STORE_PG_SCHEME_SHORT))
        return &lk_store_pg_ops;
    lk_err_set(e, LK_EINTERNAL,
               "unsupported database URL (expected sqlite:PATH or postgresql://...)");
    return NULL;
}

int lk_store_open(const char *url, lk_store **out, lk_err *e)
{
    const lk_store_ops *ops = lk_store_backend(url, e);
    if (ops == NULL) return LK_EINTERNAL;
    return ops->open(url, out, e);
}

void lk_store_close(lk_store *st)
{
    if (st) st->ops->close(st);
}

int lk_store_err_schema_newer(lk_err *e, long long have, int known)
{
    return lk_err_setf(e, LK_EINTERNAL,
                       "database schema is newer than this latchkeyd (version %lld, this build "
                       "knows up to %d)",
                       have, known);
}
