/*
 * cmd_orgs.c — `latchkey orgs list|create` (spec: "The CLI"). Both are the
 * generic resource commands over lk_res_orgs (cli_resource.c).
 */
#include "cli.h"
#include "cli_resource.h"

#include <assert.h>

int lk_cmd_orgs_list(lk_cli_ctx *x)
{
    return lk_res_list(x, &lk_res_orgs);
}

int lk_cmd_orgs_create(lk_cli_ctx *x)
{
    assert(x->nargs == 1);
    return lk_res_create(x, &lk_res_orgs, lk_cli_name_body(x->args[0]));
}
