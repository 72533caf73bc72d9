/*
 * cmd_members.c — `latchkey members list|add|remove --org ORG` (spec: "The
 * CLI") over lk_res_members (cli_resource.c). A member is named by user ID,
 * or by email (anything with an '@'), which is looked up case-insensitively.
 * Roles and invitations (1.1): `members invite` prints the invitation link
 * once; `members role` changes a role (cmd_invitations.c has the rest).
 */
#include "cli.h"
#include "cli_resource.h"

#include <assert.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int lk_cmd_members_list(lk_cli_ctx *x)
{
    return lk_res_list(x, &lk_res_members);
}

int lk_cmd_members_add(lk_cli_ctx *x)
{
    assert(x->nargs == 1);
    return lk_res_create(x, &lk_res_members, json_pack("{s:s}", "email", x->args[0]));
}

int lk_cmd_members_remove(lk_cli_ctx *x)
{
    char one[LK_CLI_PATH_MAX];
    const char *who = x->args[0];
    assert(x->nargs == 1);
    int rc = lk_res_one_path(x, &lk_res_members, who, one);
    if (rc != 0) return rc;
    lk_client_resp r;
    if ((rc = lk_cli_request(x, "DELETE", one, NULL, &r)) != 0) return rc;
    lk_client_resp_release(&r);
    if (!x->o.json) lk_cli_notef("Removed %s from the organization.", who);
    return 0;
}

/* --- roles and invitations --------------------------------------------------- */

/* `members invite EMAIL --org ORG [--role ROLE]`: the link goes to stdout
 * (alone, so `URL=$(latchkey members invite …)` works), remarks to stderr;
 * --json prints the API's answer, link included. Shown only this once. */
int lk_cmd_members_invite(lk_cli_ctx *x)
{
    char path[LK_CLI_PATH_MAX];
    assert(x->nargs == 1);
    int rc = lk_res_path(x, &lk_res_invitations, path);
    if (rc != 0) return rc;
    json_t *body = json_pack("{s:s}", "email", x->args[0]);
    if (!body || (x->o.role && json_object_set_new(body, "role", json_string(x->o.role)) != 0)) {
        json_decref(body);
        return LK_EXIT_FAIL;
    }
    lk_client_resp r;
    rc = lk_cli_request(x, "POST", path, body, &r);
    json_decref(body);
    if (rc != 0) return rc;
    const char *url = lk_cli_jstr(r.json, "url");
    if (x->o.json) {
        lk_cli_print_raw(&r);
    } else if (!url) {
        lk_cli_errorf(x, "the server's answer holds no invitation link");
        rc = LK_EXIT_FAIL;
    } else {
        char who[LK_TABLE_CELL_MAX], role[LK_TABLE_CELL_MAX], link[LK_CLI_PATH_MAX];
        const char *ro = lk_cli_jstr(r.json, "role");
        lk_output_sanitize(x->args[0], who, sizeof who);
        lk_output_sanitize(ro ? ro : "", role, sizeof role);
        lk_output_sanitize(url, link, sizeof link);
        if (isatty(STDOUT_FILENO))
            lk_cli_notef("Invited %s as %s. The link (for that email only, 7 days, once):", who,
                         role);
        printf("%s\n", link);
        fflush(stdout);
        sodium_memzero(link, sizeof link);
        lk_cli_notef("Send this link to %s now: it will not be shown again.", who);
    }
    lk_client_resp_release(&r);
    return rc;
}

/* `members role USER ROLE --org ORG`: USER is a user ID or an email. */
int lk_cmd_members_role(lk_cli_ctx *x)
{
    const char *who = x->args[0], *role = x->args[1];
    assert(x->nargs == 2);
    if (strcmp(role, "owner") != 0 && strcmp(role, "member") != 0)
        return lk_cli_usage_error(x, "ROLE must be owner or member");
    return lk_res_patch(x, &lk_res_members, who, json_pack("{s:s}", "role", role));
}
