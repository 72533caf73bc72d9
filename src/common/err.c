/*
 * err.c — tables and helpers behind err.h. All mapping from an lk_err code
 * to names, HTTP statuses and API codes happens here and only here.
 */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct row {
    int code;
    int status;
    const char *name;
    const char *api;
    const char *msg;
};

static const struct row rows[] = {
#define LK__ERR_ROW(name, val, status, api, msg) {val, status, #name, api, msg},
    LK_ERR_MAP(LK__ERR_ROW)
#undef LK__ERR_ROW
};

static const struct row *find(int code)
{
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        if (rows[i].code == code) return &rows[i];
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        if (rows[i].code == LK_EINTERNAL) return &rows[i];
    return &rows[0];
}

void lk_err_clear(lk_err *e)
{
    e->code = LK_OK;
    e->retry_after = 0;
    e->field[0] = '\0';
    e->message[0] = '\0';
    e->required_scope = NULL;
}

int lk_err_set(lk_err *e, int code, const char *msg)
{
    if (e == NULL) return code;
    e->code = code;
    e->field[0] = '\0';
    e->required_scope = NULL;
    /* strnlen + memcpy: what snprintf("%s") did, at a tenth of the cost
     * (this runs on every failed request) */
    size_t n = msg ? strnlen(msg, sizeof(e->message) - 1) : 0;
    if (n) memcpy(e->message, msg, n);
    e->message[n] = '\0';
    return code;
}

int lk_err_setf(lk_err *e, int code, const char *fmt, ...)
{
    if (e == NULL) return code;
    va_list ap;
    e->code = code;
    e->field[0] = '\0';
    e->required_scope = NULL;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof(e->message), fmt, ap);
    va_end(ap);
    return code;
}

int lk_err_field(lk_err *e, const char *field, const char *msg)
{
    if (e == NULL) return LK_EVALIDATION;
    lk_err_set(e, LK_EVALIDATION, msg);
    snprintf(e->field, sizeof(e->field), "%s", field);
    return LK_EVALIDATION;
}

int lk_err_scope(lk_err *e, const char *scope, const char *msg)
{
    if (e == NULL) return LK_EFORBIDDEN;
    lk_err_set(e, LK_EFORBIDDEN, msg);
    e->required_scope = scope;
    return LK_EFORBIDDEN;
}

const char *lk_err_name(int code)
{
    return code == LK_OK ? "OK" : find(code)->name;
}

const char *lk_err_api_code(int code)
{
    return code == LK_OK ? "ok" : find(code)->api;
}

const char *lk_err_default_msg(int code)
{
    return code == LK_OK ? "ok" : find(code)->msg;
}

int lk_err_http_status(int code)
{
    return code == LK_OK ? 200 : find(code)->status;
}

const char *lk_err_message(const lk_err *e)
{
    return e->message[0] ? e->message : lk_err_default_msg(e->code);
}
