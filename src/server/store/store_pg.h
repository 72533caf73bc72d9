/*
 * store_pg.h — what the PostgreSQL backend (store_pg.c) lends to the
 * pipelined key look-up (pg_pipe.h), so that the look-up runs this
 * backend's statement with this backend's connection settings and decoder:
 * no second copy of the SQL, the connection options or the row layout.
 *
 * Everything here is about one libpq connection at a time and holds no
 * state of its own; the caller owns each PGconn and PGresult.
 */
#ifndef LK_STORE_PG_H
#define LK_STORE_PG_H

#include "store.h"

#include <libpq-fe.h>

/* A blocking connect to url with the backend's settings (connect and
 * statement timeouts, keepalives, bytea_output=hex, application_name
 * "latchkeyd", notices ignored, terse errors). Returns the PGconn (the
 * caller checks PQstatus and always PQfinish'es it), or NULL when out of
 * memory. */
PGconn *lk_store_pg_connect(const char *url);

/* key_get_by_hash_owner's statement: its prepared name (static), and its
 * SQL expanded from schema.c into sql[cap]. One parameter: the token hash
 * as binary bytea (LK_TOKEN_HASH_LEN bytes). 0, or -1 if cap is too small. */
int lk_store_pg_key_owner_stmt(const char **name, char *sql, size_t cap);

/* Row 0 of that statement's result into key, user and org (zeroed first;
 * user/org stay zero when the key has none). LK_OK, or LK_ENOT_FOUND when
 * the result has no row. */
int lk_store_pg_key_owner_read(const PGresult *r, lk_key *key, lk_user *user, lk_org *org);

/* A failed result (res may be NULL: a connection error): one log line (the
 * statement's name `what`, the SQLSTATE, the primary message; never a
 * value), and its code: LK_EUNAVAILABLE for a lost connection and the
 * "not available now" SQLSTATEs, else LK_EINTERNAL. */
int lk_store_pg_result_err(PGconn *conn, const PGresult *res, const char *what);

#endif
