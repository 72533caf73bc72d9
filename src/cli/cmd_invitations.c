/*
 * cmd_invitations.c — `latchkey invitations list|revoke --org ORG` over
 * lk_res_invitations (cli_resource.c), and `invitations accept
 * URL_OR_TOKEN` for the invited person (spec: "Roles and invitations").
 *
 * accept takes the link as the inviter sent it (`…/invite/lki_…`) or the
 * bare token, checks its shape offline (lki_ and 38 base62 characters: a
 * typo is a usage error, never a request), shows what it offers (GET
 * /v1/invitations/{token}) and joins (POST /v1/invitations/accept). The
 * token is a secret: it is wiped from this process's buffers when done and
 * never printed.
 */
#include "cli.h"
#include "cli_resource.h"

#include <assert.h>
#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define INVITE_PREFIX "lki_"
#define INVITE_TOKEN_LEN 42 /* "lki_" + 32 random + 6 checksum, base62 */
#define INVITE_PATH_SEGMENT "/invite/"

int lk_cmd_invitations_list(lk_cli_ctx *x)
{
    return lk_res_list(x, &lk_res_invitations);
}

int lk_cmd_invitations_revoke(lk_cli_ctx *x)
{
    assert(x->nargs == 1);
    return lk_res_delete(x, &lk_res_invitations, x->args[0]);
}

/* The token in a link or a bare token, into tok[INVITE_TOKEN_LEN + 1].
 * 0, or -1 if arg holds no well-formed token. */
static int token_of(const char *arg, char *tok)
{
    const char *s = arg, *p;
    while ((p = strstr(s, INVITE_PATH_SEGMENT)) != NULL)
        s = p + strlen(INVITE_PATH_SEGMENT);
    size_t n = strcspn(s, "?#/");
    if (n != INVITE_TOKEN_LEN || strncmp(s, INVITE_PREFIX, strlen(INVITE_PREFIX)) != 0) return -1;
    for (size_t i = strlen(INVITE_PREFIX); i < n; i++)
        if (!isalnum((unsigned char)s[i])) return -1;
    memcpy(tok, s, n);
    tok[n] = '\0';
    return 0;
}

/* The org an invitation offers (name and ID, made safe to print, each
 * LK_TABLE_CELL_MAX), from GET /v1/invitations/{tok}. */
static int preview(lk_cli_ctx *x, const char *tok, char *org_name, char *org_id)
{
    char path[LK_CLI_PATH_MAX];
    lk_client_resp r;
    snprintf(path, sizeof path, "/v1/invitations/%s", tok);
    int rc = lk_cli_request(x, "GET", path, NULL, &r);
    sodium_memzero(path, sizeof path);
    if (rc != 0) return rc;
    json_t *org = json_object_get(r.json, "organization");
    const char *name = lk_cli_jstr(org, "name"), *id = lk_cli_jstr(org, "id");
    lk_output_sanitize(name ? name : "", org_name, LK_TABLE_CELL_MAX);
    lk_output_sanitize(id ? id : "", org_id, LK_TABLE_CELL_MAX);
    lk_client_resp_release(&r);
    return 0;
}

int lk_cmd_invitations_accept(lk_cli_ctx *x)
{
    char tok[INVITE_TOKEN_LEN + 1], org_name[LK_TABLE_CELL_MAX], org_id[LK_TABLE_CELL_MAX];
    assert(x->nargs == 1);
    if (token_of(x->args[0], tok) != 0)
        return lk_cli_usage_error(x, "not an invitation link or token (…/invite/lki_…)");
    int rc = preview(x, tok, org_name, org_id);
    json_t *body = rc == 0 ? json_pack("{s:s}", "token", tok) : NULL;
    sodium_memzero(tok, sizeof tok);
    if (rc != 0) return rc;
    if (!body) return LK_EXIT_FAIL;
    lk_client_resp r;
    rc = lk_cli_request(x, "POST", "/v1/invitations/accept", body, &r);
    json_decref(body);
    if (rc != 0) return rc;
    if (x->o.json) {
        lk_cli_print_raw(&r);
    } else {
        char role[LK_TABLE_CELL_MAX];
        const char *ro = lk_cli_jstr(r.json, "role");
        lk_output_sanitize(ro ? ro : "", role, sizeof role);
        lk_cli_notef("Joined '%s' (%s) as %s.", org_name, org_id, role);
        if (!isatty(STDOUT_FILENO) && org_id[0]) printf("%s\n", org_id);
    }
    lk_client_resp_release(&r);
    return 0;
}
