/*
 * validate.c — see validate.h. Pure functions; no allocation.
 */
#include "validate.h"

#include <stdint.h>
#include <string.h>

/* Decode one UTF-8 sequence at s[0..len). Returns its length (1..4) and the
 * code point in *cp, or 0 if it is malformed (overlong, surrogate, > U+10FFFF,
 * truncated). */
static size_t utf8_next(const unsigned char *s, size_t len, uint32_t *cp)
{
    unsigned char c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t n;
    uint32_t v, min;
    if ((c & 0xE0) == 0xC0) {
        n = 2, v = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        n = 3, v = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        n = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (len < n) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
    *cp = v;
    return n;
}

bool lk_utf8_valid(const char *s, size_t len, size_t *chars)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, count = 0;
    uint32_t cp;
    while (i < len) {
        size_t n = utf8_next(p + i, len - i, &cp);
        if (n == 0) return false;
        i += n;
        count++;
    }
    if (chars) *chars = count;
    return true;
}

static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static bool is_control(uint32_t cp)
{
    return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F);
}

int lk_validate_name(const char *s, size_t len, char out[LK_NAME_SIZE], const char *field,
                     lk_err *e)
{
    const unsigned char *p = (const unsigned char *)s;
    while (len > 0 && is_space(p[0])) p++, len--;
    while (len > 0 && is_space(p[len - 1])) len--;
    if (len == 0) return lk_err_field(e, field, "must not be empty");

    size_t i = 0, chars = 0;
    uint32_t cp;
    while (i < len) {
        size_t n = utf8_next(p + i, len - i, &cp);
        if (n == 0) return lk_err_field(e, field, "must be valid UTF-8");
        if (is_control(cp)) return lk_err_field(e, field, "must not contain control characters");
        i += n;
        if (++chars > LK_NAME_MAX_CHARS)
            return lk_err_field(e, field, "must be at most 100 characters");
    }
    memcpy(out, p, len);
    out[len] = '\0';
    return LK_OK;
}

int lk_validate_email(const char *s, size_t len, char out[LK_EMAIL_SIZE],
                      char lower[LK_EMAIL_SIZE], const char *field, lk_err *e)
{
    const unsigned char *p = (const unsigned char *)s;
    while (len > 0 && is_space(p[0])) p++, len--;
    while (len > 0 && is_space(p[len - 1])) len--;
    if (len == 0) return lk_err_field(e, field, "must not be empty");
    if (len > LK_EMAIL_MAX) return lk_err_field(e, field, "must be at most 254 characters");
    if (!lk_utf8_valid((const char *)p, len, NULL))
        return lk_err_field(e, field, "must be valid UTF-8");
    size_t at = len, ats = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '@') at = i, ats++;
        if (p[i] < 0x21 || p[i] == 0x7F) return lk_err_field(e, field, "must be a valid email");
    }
    if (ats != 1 || at == 0 || at == len - 1)
        return lk_err_field(e, field, "must be a valid email address");
    if (out) {
        memcpy(out, p, len);
        out[len] = '\0';
    }
    if (lower) {
        for (size_t i = 0; i < len; i++)
            lower[i] = (p[i] >= 'A' && p[i] <= 'Z') ? (char)(p[i] + 32) : (char)p[i];
        lower[len] = '\0';
    }
    return LK_OK;
}

int lk_validate_password(const char *s, size_t len, lk_err *e)
{
    size_t chars;
    if (!lk_utf8_valid(s, len, &chars)) return lk_err_field(e, "password", "must be valid UTF-8");
    if (memchr(s, '\0', len)) return lk_err_field(e, "password", "must not contain NUL");
    if (chars < LK_PASSWORD_MIN)
        return lk_err_field(e, "password", "must be at least 8 characters");
    if (chars > LK_PASSWORD_MAX)
        return lk_err_field(e, "password", "must be at most 256 characters");
    return LK_OK;
}
