/*
 * validate.h — the input rules of the contract, in one place:
 *
 *  - names (keys, orgs, projects, environments, users): trimmed of leading
 *    and trailing white space, then 1..100 characters (code points), valid
 *    UTF-8 (no overlongs, no surrogates), no control characters (C0, DEL, C1);
 *  - emails: exactly one '@', something on both sides, at most 254 bytes,
 *    no white space or control characters; stored as given, compared
 *    case-insensitively (lk_validate_email writes the lower-cased form);
 *  - passwords: 8..256 characters (code points), valid UTF-8.
 *
 * Each returns 0 or LK_EVALIDATION with the field and a message on e.
 * Never echoes a password into a message.
 */
#ifndef LK_VALIDATE_H
#define LK_VALIDATE_H

#include "err.h"

#include <stdbool.h>
#include <stddef.h>

#define LK_NAME_MAX_CHARS 100
#define LK_NAME_SIZE (LK_NAME_MAX_CHARS * 4 + 1) /* bytes, worst case UTF-8 */
#define LK_EMAIL_MAX 254
#define LK_EMAIL_SIZE (LK_EMAIL_MAX + 1)
#define LK_PASSWORD_MIN 8
#define LK_PASSWORD_MAX 256

/* Validate and trim a name into out (LK_NAME_SIZE). `field` names it in the
 * error ("name"). */
int lk_validate_name(const char *s, size_t len, char out[LK_NAME_SIZE], const char *field,
                     lk_err *e);

/* Validate an email; out gets it trimmed, lower gets it lower-cased (ASCII).
 * Either may be NULL. */
int lk_validate_email(const char *s, size_t len, char out[LK_EMAIL_SIZE],
                      char lower[LK_EMAIL_SIZE], const char *field, lk_err *e);

int lk_validate_password(const char *s, size_t len, lk_err *e);

/* Strict UTF-8 check; *chars gets the code point count if non-NULL. */
bool lk_utf8_valid(const char *s, size_t len, size_t *chars);

#endif
