/*
 * main.c — the `latchkey` command-line client's entry point (spec: "The
 * CLI"): argv, the command table, help and dispatch.
 *
 *     latchkey [--url URL] [--token TOKEN] [--json] COMMAND ...
 *
 * Design: one getopt_long pass over argv collects every option (before or
 * after the command, `--opt VALUE` or `--opt=VALUE`; `--` ends options) and
 * the positional words in order; the command table then says, per command,
 * how many words it takes, which options it allows and needs, and whether
 * it finds its own credential (CMD_NO_CREDENTIAL). Usage errors are found
 * before anything else happens and print that command's usage line
 * (exit 2). Adding a command: a function in its group's cmd_<group>.c and
 * one entry in `commands` below.
 *
 * Output: a person gets aligned tables on stdout (cli_output.h) and every
 * remark on stderr; --json prints the API's answer byte for byte. Exit
 * statuses: 0 done, 1 refused/failed, 2 usage, 3 unauthenticated,
 * 4 unreachable (client.h, lk_client_exit_code).
 */
#include "cli.h"
#include "cli_output.h"
#include "token.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HELP_USAGE_WIDTH 46 /* the usage column of `latchkey --help` */

/* ------------------------------------------------------------ the table */

static const lk_cli_command commands[] = {
    {"login", NULL, "login [--password] [--no-browser] [--scope S]...",
     "sign in through the browser (or --password); stores a personal key for this machine", 0, 0,
     F_PASSWORD | F_NO_BROWSER | F_SCOPE, 0, CMD_NO_CREDENTIAL, lk_cmd_login},
    {"logout", NULL, "logout", "revoke the stored key and remove the credentials file", 0, 0, 0, 0,
     CMD_NO_CREDENTIAL, lk_cmd_logout},
    {"whoami", NULL, "whoami", "show who the credential is", 0, 0, 0, 0, 0, lk_cmd_whoami},
    {"orgs", "list", "orgs list", "list your organizations", 0, 0, F_LIST, 0, 0, lk_cmd_orgs_list},
    {"orgs", "create", "orgs create NAME", "create an organization (you become a member)", 1, 1, 0,
     0, 0, lk_cmd_orgs_create},
    {"members", "list", "members list --org ORG", "list the members of an organization", 0, 0,
     F_ORG | F_LIST, F_ORG, 0, lk_cmd_members_list},
    {"members", "add", "members add EMAIL --org ORG", "add an existing user by email", 1, 1, F_ORG,
     F_ORG, 0, lk_cmd_members_add},
    {"members", "remove", "members remove USER --org ORG",
     "remove a member (USER is a user ID or an email)", 1, 1, F_ORG, F_ORG, 0,
     lk_cmd_members_remove},
    {"members", "invite", "members invite EMAIL --org ORG [--role owner]",
     "invite someone by email and print the link (shown only this once)", 1, 1, F_ORG | F_ROLE,
     F_ORG, 0, lk_cmd_members_invite},
    {"members", "role", "members role USER ROLE --org ORG",
     "make a member an owner or a member (owners only)", 2, 2, F_ORG, F_ORG, 0,
     lk_cmd_members_role},
    {"invitations", "list", "invitations list --org ORG", "list pending invitations", 0, 0,
     F_ORG | F_LIST, F_ORG, 0, lk_cmd_invitations_list},
    {"invitations", "revoke", "invitations revoke INV --org ORG",
     "revoke an invitation (INV is its ID or the invited email)", 1, 1, F_ORG, F_ORG, 0,
     lk_cmd_invitations_revoke},
    {"invitations", "accept", "invitations accept URL_OR_TOKEN",
     "join the organization of an invitation sent to your email", 1, 1, 0, 0, 0,
     lk_cmd_invitations_accept},
    {"projects", "list", "projects list --org ORG", "list the projects of an organization", 0, 0,
     F_ORG | F_LIST, F_ORG, 0, lk_cmd_projects_list},
    {"projects", "create", "projects create NAME --org ORG", "create a project", 1, 1, F_ORG, F_ORG,
     0, lk_cmd_projects_create},
    {"projects", "delete", "projects delete PRJ --org ORG", "delete a project", 1, 1, F_ORG, F_ORG,
     0, lk_cmd_projects_delete},
    {"envs", "list", "envs list --org ORG --project PRJ", "list the environments of a project", 0,
     0, F_ORG | F_PROJECT | F_LIST, F_ORG | F_PROJECT, 0, lk_cmd_envs_list},
    {"envs", "create", "envs create NAME --org ORG --project PRJ", "create an environment", 1, 1,
     F_ORG | F_PROJECT, F_ORG | F_PROJECT, 0, lk_cmd_envs_create},
    {"keys", "list", "keys list [--org ORG]",
     "list your personal keys, or an organization's keys with --org", 0, 0, F_ORG | F_LIST, 0, 0,
     lk_cmd_keys_list},
    {"keys", "create",
     "keys create NAME [--org ORG] [--expires DATE] [--scope S…|--read-only] "
     "[--allow-cidr CIDR…]",
     "create a key and print its token (shown only this once)", 1, 1,
     F_ORG | F_EXPIRES | F_SCOPE | F_READ_ONLY | F_ALLOW_CIDR, 0, 0, lk_cmd_keys_create},
    {"keys", "rename", "keys rename KEY NEW_NAME [--org ORG]", "rename a key", 2, 2, F_ORG, 0, 0,
     lk_cmd_keys_rename},
    {"keys", "delete", "keys delete KEY [--org ORG] [--yes]",
     "revoke a key at once (asks first on a terminal)", 1, 1, F_ORG | F_YES, 0, 0,
     lk_cmd_keys_delete},
    {"keys", "check", "keys check TOKEN|-",
     "offline: is it well-formed, which kind, does the checksum hold (- reads stdin)", 1, 1, 0, 0,
     CMD_NO_CREDENTIAL, lk_cmd_keys_check},
    /* --- account (cmd_account.c) --- */
    {"sessions", "list", "sessions list", "list the browser sessions of your account", 0, 0, F_LIST,
     0, 0, lk_cmd_sessions_list},
    {"sessions", "revoke", "sessions revoke ID", "sign one session out at once", 1, 1, 0, 0, 0,
     lk_cmd_sessions_revoke},
    {"password", NULL, "password",
     "change your password on a terminal (other sessions end)", 0, 0, 0, 0, 0,
     lk_cmd_password},
    {"keys", "rotate", "keys rotate KEY [--org ORG] [--grace DURATION]",
     "give a key a new token; the old one works for --grace (default: ends now)", 1, 1,
     F_ORG | F_GRACE, 0, 0, lk_cmd_keys_rotate},
    /* --- audit --- */
    {"audit", NULL, "audit [--org ORG] [--action A] [--limit N]",
     "show the audit log, newest first: an organization's, or your own security log", 0, 0,
     F_ORG | F_ACTION | F_LIST, 0, 0, lk_cmd_audit},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

/* The options, each once: X(ID, name, has_arg, F_* bit (0: global), what
 * it sets in lk_cli_opts, help line or NULL). What it sets: VAL(field), the
 * value as given; ON(field), true; LIST(scope) / LIST(cidr), one more value
 * of a repeatable option. getopt_long's table, the help a command prints
 * for the options it allows (in this order) and what parse_args does with
 * each are all made from this list. */
#define OFF(field) offsetof(lk_cli_opts, field)
#define VAL(field) SET_VALUE, OFF(field)
#define ON(field) SET_TRUE, OFF(field)
#define LIST(which) SET_LIST, OFF(which)
#define CLI_OPTIONS(X)                                                                             \
    X(URL, "url", required_argument, 0, VAL(url), NULL)                                            \
    X(TOKEN, "token", required_argument, 0, VAL(token), NULL)                                      \
    X(JSON, "json", no_argument, 0, ON(json), NULL)                                                \
    X(ORG, "org", required_argument, F_ORG, VAL(org),                                              \
      "  --org ORG        organization ID (org_…) or exact name\n")                                \
    X(PROJECT, "project", required_argument, F_PROJECT, VAL(project),                              \
      "  --project PRJ    project ID (prj_…) or exact name\n")                                     \
    X(EXPIRES, "expires", required_argument, F_EXPIRES, VAL(expires),                              \
      "  --expires DATE   RFC 3339 time or YYYY-MM-DD (midnight UTC)\n")                           \
    X(YES, "yes", no_argument, F_YES, ON(yes),                                                     \
      "  --yes            do not ask; needed without a terminal\n")                                \
    X(LIMIT, "limit", required_argument, F_LIMIT, VAL(limit),                                      \
      "  --limit N        page size; --cursor C starts at a page (one page only)\n")               \
    X(CURSOR, "cursor", required_argument, F_CURSOR, VAL(cursor), NULL)                            \
    X(SCOPE, "scope", required_argument, F_SCOPE, LIST(scope),                                     \
      "  --scope S        what the key may do, e.g. projects:read (repeat, or S,S;\n"              \
      "                   default: everything; see docs/scopes.md)\n")                             \
    X(READ_ONLY, "read-only", no_argument, F_READ_ONLY, ON(read_only),                             \
      "  --read-only      every :read scope and nothing else\n")                                   \
    X(ALLOW_CIDR, "allow-cidr", required_argument, F_ALLOW_CIDR, LIST(cidr),                       \
      "  --allow-cidr C   use only from this IPv4/IPv6 range (repeat, or C,C)\n")                  \
    X(ROLE, "role", required_argument, F_ROLE, VAL(role),                                          \
      "  --role ROLE      owner or member (default member)\n")                                     \
    X(GRACE, "grace", required_argument, F_GRACE, VAL(grace),                                      \
      "  --grace DURATION how long the old token still works: 0 (default), 30m, 1h, 7d\n")         \
    X(PASSWORD, "password", no_argument, F_PASSWORD, ON(password),                                 \
      "  --password       ask for email and password here instead of the browser\n")               \
    X(NO_BROWSER, "no-browser", no_argument, F_NO_BROWSER, ON(no_browser),                         \
      "  --no-browser     print the sign-in URL, do not open a browser\n")                         \
    X(ACTION, "action", required_argument, F_ACTION, VAL(action),                                  \
      "  --action A       only events with this action (e.g. access_key.created)\n")

typedef enum opt_set { SET_VALUE, SET_TRUE, SET_LIST } opt_set;

enum {
    O__FIRST = 256, /* above every short option */
#define CLI__ENUM(id, name, has_arg, bit, sets, help) O_##id,
    CLI_OPTIONS(CLI__ENUM)
#undef CLI__ENUM
};

static const struct option long_opts[] = {
#define CLI__LONG(id, name, has_arg, bit, sets, help) {name, has_arg, NULL, O_##id},
    CLI_OPTIONS(CLI__LONG)
#undef CLI__LONG
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};
/* '-': words come back in order as option 1; ':': a missing value is ':' */
static const char short_opts[] = "-:hVy";

static const struct cli_option {
    const char *name;
    unsigned bit;
    opt_set set;
    size_t off;
    const char *help;
} options[] = {
#define CLI__DESC(id, name, has_arg, bit, sets, help)                                              \
    [O_##id - O__FIRST - 1] = {name, bit, sets, help},
    CLI_OPTIONS(CLI__DESC)
#undef CLI__DESC
};
#define NOPTIONS (sizeof options / sizeof options[0])

static const char global_help[] =
    "Global options (before or after the command):\n"
    "  --url URL      server (else LATCHKEY_URL, else the URL stored by login,\n"
    "                 else " LK_CLI_DEFAULT_URL ")\n"
    "  --token TOKEN  access key (else LATCHKEY_TOKEN, else the credentials file)\n"
    "  --json         print the API's JSON unchanged\n"
    "  -h, --help     help; `latchkey COMMAND --help` for one command\n"
    "  --version      print the version\n";

static const char exit_help[] =
    "Exit status: 0 done, 1 the server refused or failed, 2 bad usage,\n"
    "3 not authenticated, 4 could not reach the server.\n";

/* ------------------------------------------------------------------ help */

static void print_command_help(const lk_cli_command *c)
{
    printf("usage: latchkey %s\n\n%c%s.\n", c->usage, toupper((unsigned char)c->help[0]),
           c->help + 1);
    for (size_t i = 0; i < NOPTIONS; i++)
        if ((c->allowed & options[i].bit) && options[i].help) fputs(options[i].help, stdout);
    printf("\n%s\n%s", global_help, exit_help);
}

static void print_help(const char *group)
{
    if (!group)
        printf("latchkey — command-line client for the latchkey access-key service\n\n"
               "usage: latchkey [--url URL] [--token TOKEN] [--json] COMMAND ...\n\n"
               "Commands:\n");
    else
        printf("Commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (!group || strcmp(commands[i].group, group) == 0)
            printf("  %-*s %s\n", HELP_USAGE_WIDTH, commands[i].usage, commands[i].help);
    printf("\n%s\n%s", global_help, exit_help);
    if (!group) printf("\nSee latchkey(1) for more.\n");
}

/* The name of the (first) option with F_* bit `bit`. */
static const char *flag_name(unsigned bit)
{
    for (size_t i = 0; i < NOPTIONS; i++)
        if (options[i].bit == bit) return options[i].name;
    assert(!"an F_* bit without a name");
    return "?";
}

/* ------------------------------------------------------------------ argv */

static void add_word(lk_cli_opts *o, const char *w)
{
    if (o->npos < LK_CLI_MAX_POS)
        o->pos[o->npos++] = w;
    else
        o->too_many = true;
}

/* Option id (one of O_*): record what it sets and its F_* bit. */
static void set_option(lk_cli_opts *o, int id, const char *v)
{
    assert(id > O__FIRST && id <= O__FIRST + (int)NOPTIONS);
    const struct cli_option *opt = &options[id - O__FIRST - 1];
    char *field = (char *)o + opt->off;
    o->seen |= opt->bit;
    if (opt->set == SET_VALUE) {
        memcpy(field, &v, sizeof v);
    } else if (opt->set == SET_TRUE) {
        *(bool *)(void *)field = true;
    } else {
        int *n = opt->off == OFF(scope) ? &o->nscope : &o->ncidr;
        if (*n >= LK_CLI_LIST_OPT_MAX)
            o->list_too_long = true;
        else
            ((const char **)(void *)field)[(*n)++] = v;
    }
}

/* The option getopt just refused, as the user wrote it. */
static const char *refused(char **argv, int optind_after, int optopt_val)
{
    static char shortopt[3];
    const char *a = argv[optind_after - 1];
    if (strncmp(a, "--", 2) == 0 || optopt_val <= 0 || optopt_val > UCHAR_MAX) return a;
    snprintf(shortopt, sizeof shortopt, "-%c", optopt_val);
    return shortopt;
}

/* One getopt_long pass; problems are recorded in o and reported once the
 * command is known (so they come with its usage line). */
static void parse_args(int argc, char **argv, lk_cli_opts *o)
{
    int ch;
    opterr = 0;
    optind = 1;
    while ((ch = getopt_long(argc, argv, short_opts, long_opts, NULL)) != -1) {
        switch (ch) {
        case 1:
            add_word(o, optarg);
            break;
        case 'h':
            o->help = true;
            break;
        case 'V':
            o->version = true;
            break;
        case 'y':
            set_option(o, O_YES, NULL);
            break;
        case ':':
            if (!o->flag_noval) o->flag_noval = argv[optind - 1];
            break;
        case '?':
            if (!o->bad_flag) o->bad_flag = refused(argv, optind, optopt);
            break;
        default:
            set_option(o, ch, optarg);
        }
    }
    for (; optind < argc; optind++) /* the words after "--" */
        add_word(o, argv[optind]);
}

/* -------------------------------------------------------------- dispatch */

static bool is_group(const char *g)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (commands[i].sub && strcmp(commands[i].group, g) == 0) return true;
    return false;
}

/* An unknown or missing subcommand of a group: say so, list the group. */
static int bad_subcommand(const char *group, const char *sub)
{
    fprintf(stderr, "latchkey: %s '%s%s%s'\n", sub ? "unknown command" : "missing subcommand for",
            group, sub ? " " : "", sub ? sub : "");
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].group, group) == 0)
            fprintf(stderr, "usage: latchkey %s\n", commands[i].usage);
    return LK_EXIT_USAGE;
}

/* Set x->cmd, x->args from the words from pos[first] on. Returns 0, -1
 * when help was printed (exit 0), or an exit status (reported). */
static int pick_command(lk_cli_ctx *x, int first)
{
    lk_cli_opts *o = &x->o;
    const char *group = o->pos[first];
    const char *sub = o->npos > first + 1 ? o->pos[first + 1] : NULL;
    bool grouped = is_group(group);
    for (size_t i = 0; i < NCOMMANDS; i++) {
        const lk_cli_command *c = &commands[i];
        if (strcmp(c->group, group) != 0 || (grouped ? !c->sub : c->sub != NULL)) continue;
        if (!grouped || (sub && strcmp(c->sub, sub) == 0)) x->cmd = c;
    }
    if (!x->cmd && !grouped) return lk_cli_usage_error(x, "unknown command '%s'", group);
    if (!x->cmd && o->help && !sub) {
        print_help(group);
        return -1;
    }
    if (!x->cmd) return bad_subcommand(group, sub);
    x->args = o->pos + first + (grouped ? 2 : 1);
    x->nargs = o->npos - first - (grouped ? 2 : 1);
    return 0;
}

/* The command's words and options against its table entry. */
static int check_usage(lk_cli_ctx *x)
{
    const lk_cli_opts *o = &x->o;
    const lk_cli_command *c = x->cmd;
    if (o->bad_flag) return lk_cli_usage_error(x, "unknown option '%s'", o->bad_flag);
    if (o->flag_noval) return lk_cli_usage_error(x, "option '%s' needs a value", o->flag_noval);
    if (o->too_many || x->nargs > c->args_max) return lk_cli_usage_error(x, "too many arguments");
    if (o->list_too_long)
        return lk_cli_usage_error(x, "at most %d --scope / --allow-cidr values",
                                  LK_CLI_LIST_OPT_MAX);
    if (x->nargs < c->args_min) return lk_cli_usage_error(x, "missing argument");
    unsigned extra = o->seen & ~c->allowed;
    if (extra)
        return lk_cli_usage_error(x, "option --%s does not apply here", flag_name(extra & -extra));
    if (o->limit) {
        char *end;
        errno = 0;
        long n = strtol(o->limit, &end, 10);
        if (errno || end == o->limit || *end || n < LK_CLI_LIMIT_MIN || n > LK_CLI_LIMIT_MAX)
            return lk_cli_usage_error(x, "--limit wants a number from %d to %d", LK_CLI_LIMIT_MIN,
                                      LK_CLI_LIMIT_MAX);
    }
    unsigned missing = c->required & ~o->seen;
    if (missing) return lk_cli_usage_error(x, "--%s is required", flag_name(missing & -missing));
    for (int i = 0; i < x->nargs; i++)
        if (!x->args[i][0]) return lk_cli_usage_error(x, "an argument is empty");
    return 0;
}

static int run(int argc, char **argv, lk_cli_ctx *x)
{
    lk_cli_opts *o = &x->o;
    parse_args(argc, argv, o);
    x->err_color = lk_output_color(stderr);
    if (o->version) {
        printf("latchkey %s\n", LK_CLIENT_VERSION);
        return 0;
    }
    int first = 0;
    if (o->npos > 0 && strcmp(o->pos[0], "help") == 0) {
        o->help = true;
        first = 1;
    }
    if (o->npos <= first) {
        if (!o->help) return lk_cli_usage_error(x, "no command given");
        print_help(NULL);
        return 0;
    }
    int rc = pick_command(x, first);
    if (rc != 0) return rc < 0 ? 0 : rc;
    if (o->help) {
        print_command_help(x->cmd);
        return 0;
    }
    if ((rc = check_usage(x)) != 0) return rc;
    if (!(x->cmd->flags & CMD_NO_CREDENTIAL) && (rc = lk_cli_connect(x)) != 0) return rc;
    return x->cmd->run(x);
}

int main(int argc, char **argv)
{
    lk_cli_ctx x;
    memset(&x, 0, sizeof x);
    lk_output_locale();
    if (lk_token_init() != 0) {
        fprintf(stderr, "latchkey: error: cannot initialise libsodium\n");
        return LK_EXIT_FAIL;
    }
    int rc = run(argc, argv, &x);
    lk_client_free(x.client);
    lk_cred_clear(&x.cred);
    if ((fflush(stdout) != 0 || ferror(stdout)) && rc == 0) {
        fprintf(stderr, "latchkey: error: cannot write to stdout\n");
        rc = LK_EXIT_FAIL;
    }
    return rc;
}
