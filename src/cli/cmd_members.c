/*
 * cmd_members.c — `latchkey members list|add|remove --org ORG` (spec: "The
 * CLI") over lk_res_members (cli_resource.c). A member is named by user ID,
 * or by email (anything with an '@'), which is looked up case-insensitively.
 */
#include "cli.h"
#include "cli_resource.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

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
    char path[LK_CLI_PATH_MAX], one[LK_CLI_PATH_MAX], user[LK_CLI_ESC_MAX];
    const char *who = x->args[0];
    assert(x->nargs == 1);
    int rc = lk_res_path(x, &lk_res_members, path);
    if (rc != 0) return rc;
    snprintf(user, sizeof user, "%s", who);
    if (strchr(who, '@') && (rc = lk_res_resolve(x, &lk_res_members, path, who, user)) != 0)
        return rc;
    if ((rc = lk_res_item_path(x, path, user, one)) != 0) return rc;
    lk_client_resp r;
    if ((rc = lk_cli_request(x, "DELETE", one, NULL, &r)) != 0) return rc;
    lk_client_resp_release(&r);
    if (!x->o.json) lk_cli_notef("Removed %s from the organization.", who);
    return 0;
}
