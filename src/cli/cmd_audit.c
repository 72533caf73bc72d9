/*
 * cmd_audit.c — `latchkey audit [--org ORG] [--action A] [--limit N]`
 * (spec: "CLI additions"): the newest events of an organization's audit
 * log, or without --org the caller's own security log, as a table (TIME,
 * ACTION, ACTOR, TARGET, IP) or, with --json, the API's page unchanged.
 *
 * A log can hold a year of events, so this shows one page (--limit,
 * default AUDIT_DEFAULT_LIMIT) rather than following every cursor; when
 * there is more it says how to ask for the next page (--cursor). The
 * actor and target objects are flattened into one cell each ("Ada",
 * "access_key ci-prod"), every cell then made terminal-safe by the table.
 */
#include "cli.h"
#include "cli_resource.h"

#include <stdio.h>
#include <string.h>

#define AUDIT_DEFAULT_LIMIT "50"
#define AUDIT_QUERY_MAX (3 * LK_CLI_ESC_MAX + 40) /* ?limit=&action=&cursor= */
#define LABEL_MAX 512

/* "?limit=N&action=A&cursor=C" with the values escaped. */
static int audit_query(lk_cli_ctx *x, char *out, size_t size)
{
    const char *names[] = {"limit", "action", "cursor"};
    const char *vals[] = {x->o.limit ? x->o.limit : AUDIT_DEFAULT_LIMIT, x->o.action, x->o.cursor};
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char esc[LK_CLI_ESC_MAX];
        if (!vals[i]) continue;
        if (lk_client_escape(vals[i], esc, sizeof esc) != 0)
            return lk_cli_usage_error(x, "--%s is too long", names[i]);
        int n = snprintf(out + o, size - o, "%c%s=%s", o ? '&' : '?', names[i], esc);
        if (n < 0 || (size_t)n >= size - o) return lk_cli_usage_error(x, "an option is too long");
        o += (size_t)n;
    }
    return 0;
}

/* "name" of a {type, id, name} object, else its type ("anonymous"). */
static void label(json_t *obj, bool with_type, char out[LABEL_MAX])
{
    const char *type = lk_cli_jstr(obj, "type"), *name = lk_cli_jstr(obj, "name");
    if (with_type && type && name)
        snprintf(out, LABEL_MAX, "%s %s", type, name);
    else
        snprintf(out, LABEL_MAX, "%s", name ? name : (type ? type : ""));
}

/* Each event with actor_label and target_label added (for the columns). */
static void flatten(json_t *items)
{
    size_t i;
    json_t *ev;
    json_array_foreach(items, i, ev)
    {
        char a[LABEL_MAX], t[LABEL_MAX];
        label(json_object_get(ev, "actor"), false, a);
        label(json_object_get(ev, "target"), true, t);
        json_object_set_new(ev, "actor_label", json_string(a));
        json_object_set_new(ev, "target_label", json_string(t));
    }
}

int lk_cmd_audit(lk_cli_ctx *x)
{
    char path[LK_CLI_PATH_MAX], query[AUDIT_QUERY_MAX], full[LK_CLI_PATH_MAX + AUDIT_QUERY_MAX];
    int rc = lk_res_path(x, &lk_res_audit, path);
    if (rc == 0) rc = audit_query(x, query, sizeof query);
    if (rc != 0) return rc;
    snprintf(full, sizeof full, "%s%s", path, query);
    lk_client_resp r;
    if ((rc = lk_cli_request(x, "GET", full, NULL, &r)) != 0) return rc;
    json_t *data = json_object_get(r.json, "data");
    const char *next = lk_cli_jstr(r.json, "next_cursor");
    if (x->o.json) {
        lk_cli_print_raw(&r);
    } else if (!json_is_array(data)) {
        lk_cli_errorf(x, "unexpected answer from %s: no \"data\" list",
                      lk_client_base_url(x->client));
        rc = LK_EXIT_FAIL;
    } else {
        flatten(data);
        rc = lk_res_print_table(&lk_res_audit, data);
    }
    if (rc == 0 && next && *next) lk_cli_notef("latchkey: older events: add --cursor %s", next);
    lk_client_resp_release(&r);
    return rc;
}
