/*
 * cli_request.c — requests as the commands make them (cli.h): API paths
 * with every argument percent-escaped into one segment, lists fetched page
 * by page (at most MAX_PAGES, each answer capped by client.h), and items
 * looked up by ID or exact name. Knows the API's list shape ({"data": [...],
 * "next_cursor": ...}) and nothing of any one resource.
 */
#include "cli.h"
#include "timefmt.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAX_PAGES 1000
#define PAGE_QUERY_MAX 64 /* "?limit=&cursor=" around the escaped values */

json_t *lk_cli_name_body(const char *name)
{
    return json_pack("{s:s}", "name", name);
}

const char *lk_cli_jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* Print the raw body of a response on stdout, ending with a newline. */
void lk_cli_print_raw(const lk_client_resp *r)
{
    if (r->raw_len == 0) return;
    fwrite(r->raw, 1, r->raw_len, stdout);
    if (r->raw[r->raw_len - 1] != '\n') fputc('\n', stdout);
}

/* path = fmt with each argument percent-escaped as one segment. */
int lk_cli_build_path(lk_cli_ctx *x, char *out, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t o = 0;
    int rc = 0;
    for (const char *p = fmt; *p && rc == 0; p++) {
        if (p[0] == '%' && p[1] == 's') {
            char esc[LK_CLI_ESC_MAX];
            const char *v = va_arg(ap, const char *);
            if (lk_client_escape(v, esc, sizeof esc) != 0 || o + strlen(esc) >= size) {
                rc = -1;
                break;
            }
            memcpy(out + o, esc, strlen(esc));
            o += strlen(esc);
            p++;
        } else {
            if (o + 1 >= size) {
                rc = -1;
                break;
            }
            out[o++] = *p;
        }
    }
    va_end(ap);
    out[o < size ? o : size - 1] = '\0';
    if (rc != 0) return lk_cli_usage_error(x, "an argument is too long");
    return 0;
}

/* The server says the key in use expires at `at`: warn once per run on
 * stderr when that is within LK_CLI_EXPIRY_WARN_DAYS. */
static void warn_key_expiry(lk_cli_ctx *x, long long at)
{
    if (at <= 0 || x->expiry_warned) return;
    int64_t now = lk_time_now();
    if (at > now + LK_CLI_EXPIRY_WARN_DAYS * LK_CLI_SECS_PER_DAY) return;
    char when[LK_TIME_SIZE];
    lk_time_format(at, when);
    long long left = (at - now) / LK_CLI_SECS_PER_DAY;
    x->expiry_warned = true;
    if (left < 1)
        lk_cli_notef("warning: the access key in use expires today (%s); create a new one", when);
    else
        lk_cli_notef("warning: the access key in use expires in %lld day%s (%s); create a new "
                     "one before then",
                     left, left == 1 ? "" : "s", when);
}

int lk_cli_request(lk_cli_ctx *x, const char *method, const char *path, json_t *body,
                   lk_client_resp *resp)
{
    int rc = lk_client_request(x->client, method, path, body, resp);
    warn_key_expiry(x, resp->key_expires_at);
    if (rc != 0) {
        rc = lk_cli_request_failed(x, rc);
        lk_client_resp_release(resp);
    }
    return rc;
}

/* Append "limit=&cursor=" from the flags (and an explicit cursor) to path. */
static int page_path(lk_cli_ctx *x, char *out, size_t size, const char *path, const char *cursor)
{
    char esc[LK_CLI_ESC_MAX];
    int n = snprintf(out, size, "%s", path);
    char sep = strchr(path, '?') ? '&' : '?';
    if (x->o.limit) {
        if (lk_client_escape(x->o.limit, esc, sizeof esc) != 0)
            return lk_cli_usage_error(x, "bad --limit");
        n += snprintf(out + n, size - (size_t)n, "%climit=%s", sep, esc);
        sep = '&';
    }
    if (cursor) {
        if (lk_client_escape(cursor, esc, sizeof esc) != 0)
            return lk_cli_usage_error(x, "the cursor is too long");
        n += snprintf(out + n, size - (size_t)n, "%ccursor=%s", sep, esc);
    }
    if ((size_t)n >= size) return lk_cli_usage_error(x, "an argument is too long");
    return 0;
}

/* GET a list. Without --cursor it follows next_cursor through every page
 * (at most MAX_PAGES); with it, one page. *items is a new array owned by
 * the caller. Returns 0 or an exit status (reported). */
int lk_cli_fetch_all(lk_cli_ctx *x, const char *path, json_t **items)
{
    char full[LK_CLI_PATH_MAX + LK_CLI_ESC_MAX + PAGE_QUERY_MAX];
    char cursor[LK_CLI_ESC_MAX] = "";
    bool follow = x->o.cursor == NULL;
    int rc;
    *items = json_array();
    if (!*items) return LK_EXIT_FAIL;
    if (x->o.cursor) snprintf(cursor, sizeof cursor, "%s", x->o.cursor);
    for (int page = 0; page < MAX_PAGES; page++) {
        if ((rc = page_path(x, full, sizeof full, path, cursor[0] ? cursor : NULL)) != 0) break;
        lk_client_resp r;
        if ((rc = lk_cli_request(x, "GET", full, NULL, &r)) != 0) break;
        json_t *data = json_object_get(r.json, "data");
        if (!json_is_array(data)) {
            lk_cli_errorf(x, "unexpected answer from %s: no \"data\" list",
                          lk_client_base_url(x->client));
            lk_client_resp_release(&r);
            rc = LK_EXIT_FAIL;
            break;
        }
        json_array_extend(*items, data);
        const char *next = lk_cli_jstr(r.json, "next_cursor");
        bool more =
            follow && next && *next && strlen(next) < sizeof cursor && strcmp(next, cursor) != 0;
        if (more) snprintf(cursor, sizeof cursor, "%s", next);
        lk_client_resp_release(&r);
        if (!more) return 0;
    }
    if (rc == 0) return 0; /* MAX_PAGES reached: show what we have */
    json_decref(*items);
    *items = NULL;
    return rc;
}

/* --json for a list: one page, printed as the API sent it. */
int lk_cli_print_list_json(lk_cli_ctx *x, const char *path)
{
    char full[LK_CLI_PATH_MAX + LK_CLI_ESC_MAX + PAGE_QUERY_MAX];
    int rc = page_path(x, full, sizeof full, path, x->o.cursor);
    if (rc != 0) return rc;
    lk_client_resp r;
    if ((rc = lk_cli_request(x, "GET", full, NULL, &r)) != 0) return rc;
    lk_cli_print_raw(&r);
    if (!json_is_null(json_object_get(r.json, "next_cursor")) &&
        json_object_get(r.json, "next_cursor"))
        lk_cli_notef("latchkey: more results: add --cursor %s",
                     lk_cli_jstr(r.json, "next_cursor") ? lk_cli_jstr(r.json, "next_cursor") : "");
    lk_client_resp_release(&r);
    return 0;
}

/* Find the item of a list whose id (or name, when by_name is given)
 * equals value. *found is a new reference owned by the caller. */
int lk_cli_find_item(lk_cli_ctx *x, const char *path, const char *id_field, const char *by_name,
                     const char *value, const char *what, json_t **found)
{
    json_t *items, *item, *match = NULL;
    size_t i;
    int n = 0;
    *found = NULL;
    int rc = lk_cli_fetch_all(x, path, &items);
    if (rc != 0) return rc;
    json_array_foreach(items, i, item)
    {
        const char *id = lk_cli_jstr(item, id_field);
        if (id && strcmp(id, value) == 0) {
            match = item;
            n = 1;
            break;
        }
    }
    if (!match && by_name) {
        json_array_foreach(items, i, item)
        {
            const char *name = lk_cli_jstr(item, by_name);
            bool fold = strcmp(by_name, "email") == 0; /* emails compare case-insensitively */
            if (name && (fold ? strcasecmp(name, value) == 0 : strcmp(name, value) == 0)) {
                if (!match) match = item;
                n++;
            }
        }
    }
    if (n == 1) {
        *found = json_incref(match);
        rc = 0;
    } else if (n == 0) {
        lk_cli_errorf(x, "%s '%s' not found (not_found)", what, value);
        rc = LK_EXIT_FAIL;
    } else {
        lk_cli_errorf(x, "%d %ss are named '%s'; use the ID instead", n, what, value);
        rc = LK_EXIT_FAIL;
    }
    json_decref(items);
    return rc;
}
