/*
 * cmd_projects.c — `latchkey projects list|create|delete` and `latchkey
 * envs list|create` (spec: "The CLI"): the generic resource commands over
 * lk_res_projects and lk_res_envs (cli_resource.c). PRJ and --project are
 * a project ID (prj_…) or an exact name.
 */
#include "cli.h"
#include "cli_resource.h"

#include <assert.h>

int lk_cmd_projects_list(lk_cli_ctx *x)
{
    return lk_res_list(x, &lk_res_projects);
}

int lk_cmd_projects_create(lk_cli_ctx *x)
{
    assert(x->nargs == 1);
    return lk_res_create(x, &lk_res_projects, lk_cli_name_body(x->args[0]));
}

int lk_cmd_projects_delete(lk_cli_ctx *x)
{
    assert(x->nargs == 1);
    return lk_res_delete(x, &lk_res_projects, x->args[0]);
}

int lk_cmd_envs_list(lk_cli_ctx *x)
{
    return lk_res_list(x, &lk_res_envs);
}

int lk_cmd_envs_create(lk_cli_ctx *x)
{
    assert(x->nargs == 1);
    return lk_res_create(x, &lk_res_envs, lk_cli_name_body(x->args[0]));
}
