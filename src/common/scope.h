/*
 * scope.h — what an access key may do (the contract's "Scoped keys"), as a
 * bitmask.
 *
 * Design and invariants:
 *  - One X-macro table, LK_SCOPE_MAP, gives every scope its bit and its
 *    name; the names are in sorted (strcmp) order, so the table order is
 *    the canonical order of a formatted list. Adding a scope is one line.
 *  - A mask is "closed": every :write bit comes with its :read bit, and
 *    org:read is always set (every key may read its org). lk_scope_parse_list
 *    returns closed masks; lk_scope_close closes one read from elsewhere.
 *    So lk_scope_allows is one AND and one compare — the hot-path check.
 *  - LK_SCOPE_ALL ("*") is every bit; an org key's "*" is the same mask
 *    (the user:* routes refuse org keys on their own).
 *  - Error messages name the offending scope, quoted, cut to a short
 *    printable piece; field is always "scopes".
 *
 * Pure functions, no allocation, thread-safe. Used by authz (the check),
 * the key service (parse at creation, minting limits: lk_scope_allows
 * (minter, requested)), the store backends (the mask is what is stored)
 * and the CLI (--scope, --read-only).
 */
#ifndef LK_SCOPE_H
#define LK_SCOPE_H

#include "err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint32_t lk_scopes;

/* X(ENUM, "name", bit) — sorted by name. Every resource but the audit log
 * has a :read and a :write scope, on adjacent bits (LK__SCOPE_RW). */
#define LK__SCOPE_RW(X, RES, res, bit) X(RES##_READ, res ":read", bit) X(RES##_WRITE, res ":write", (bit) + 1)
#define LK_SCOPE_MAP(X)                                                                            \
    X(AUDIT_READ, "audit:read", 0)                                                                 \
    LK__SCOPE_RW(X, BILLING, "billing", 1)                                                         \
    LK__SCOPE_RW(X, KEYS, "keys", 3)                                                               \
    LK__SCOPE_RW(X, MEMBERS, "members", 5)                                                         \
    LK__SCOPE_RW(X, ORG, "org", 7)                                                                 \
    LK__SCOPE_RW(X, PROJECTS, "projects", 9)                                                       \
    LK__SCOPE_RW(X, USER, "user", 11)

enum {
#define LK__SCOPE_BIT(name, str, bit) LK_SCOPE_##name = (lk_scopes)1u << (bit),
    LK_SCOPE_MAP(LK__SCOPE_BIT)
#undef LK__SCOPE_BIT
};

#define LK_SCOPE_COUNT 13
#define LK_SCOPE_ALL ((lk_scopes)((1u << LK_SCOPE_COUNT) - 1))
#define LK_SCOPE_USER (LK_SCOPE_USER_READ | LK_SCOPE_USER_WRITE)
#define LK_SCOPE_NAME_MAX 32  /* longest name accepted for a look-up */
#define LK_SCOPE_LIST_MAX 32  /* names in one request (more must repeat one) */
#define LK_SCOPE_TEXT_SIZE 256 /* lk_scope_format_text: every name + commas */

/* lk_scope_parse_list flags */
#define LK_SCOPE_FOR_ORG_KEY 1u /* user:* scopes are refused */

/* Does held allow everything in required? Both closed masks. */
static inline bool lk_scope_allows(lk_scopes held, lk_scopes required)
{
    return (held & required) == required;
}

/* Add the :read bit of every :write bit held, and org:read. */
lk_scopes lk_scope_close(lk_scopes s);

/* Every :read scope (user:read too unless flags has LK_SCOPE_FOR_ORG_KEY). */
lk_scopes lk_scope_read_only(unsigned flags);

/* The bit of one name (no "*"), or 0 if unknown. */
lk_scopes lk_scope_from_name(const char *s, size_t len);
/* The name of one bit (a static string), or NULL if not exactly one bit. */
const char *lk_scope_name(lk_scopes bit);

/* Parse n names (lens[i] their lengths; lens NULL: NUL-terminated) into a
 * closed mask. LK_EVALIDATION, field "scopes", for: no names, more than
 * LK_SCOPE_LIST_MAX, an unknown or repeated name, "*" with anything else,
 * a user:* name with LK_SCOPE_FOR_ORG_KEY. *out is 0 on failure. */
int lk_scope_parse_list(const char *const names[], const size_t lens[], size_t n,
                        unsigned flags, lk_scopes *out, lk_err *e);

/* The canonical list of s (closed first): {"*"} for LK_SCOPE_ALL, else the
 * names of its bits in table (sorted) order. Fills at most cap static
 * strings into names and returns how many there are (may exceed cap). */
size_t lk_scope_format(lk_scopes s, const char *names[], size_t cap);
/* The same list joined by ","; out holds LK_SCOPE_TEXT_SIZE bytes. */
void lk_scope_format_text(lk_scopes s, char out[LK_SCOPE_TEXT_SIZE]);

#endif
