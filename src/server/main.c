/*
 * main.c — latchkeyd's entry point and wiring: flags (getopt_long),
 * environment fallbacks, the schema migration, then one lk_server_config
 * handed to the server (server.h). `latchkeyd migrate-data ...`
 * dispatches to migrate_data.h before any server flag is looked at.
 *
 *   --listen ADDR:PORT     LATCHKEY_LISTEN         127.0.0.1:8080
 *   --database URL         LATCHKEY_DATABASE_URL   sqlite:latchkey.db
 *   --signup open|closed   LATCHKEY_SIGNUP         open
 *   --threads N            LATCHKEY_THREADS        number of CPUs (1..256)
 *   --bearer-fail-limit N  LATCHKEY_BEARER_FAIL_LIMIT  1000 (failed Bearer
 *                          attempts per client address per minute)
 *   --trusted-proxies CIDR[,CIDR…]  LATCHKEY_TRUSTED_PROXIES  none (whose
 *                          X-Forwarded-For names the client; clientaddr.h)
 *   --tls-cert FILE        LATCHKEY_TLS_CERT       none: plain HTTP; with
 *   --tls-key FILE         LATCHKEY_TLS_KEY        both, HTTPS (HTTP/1.1, HTTP/2)
 *   --metrics-listen ADDR:PORT  LATCHKEY_METRICS_LISTEN  off (GET /metrics there)
 *   --log-format text|json LATCHKEY_LOG_FORMAT     text (access log on stderr)
 *   --signup-limit N       LATCHKEY_SIGNUP_LIMIT   20 (signups per client address
 *                          an hour; 0: no per-address limit)
 *   --device-code-ttl S    LATCHKEY_DEVICE_CODE_TTL  600 (seconds a CLI sign-in
 *                          waits for the browser; 1..3600; for tests)
 *   --audit-retention-days N  LATCHKEY_AUDIT_RETENTION_DAYS  365 (0: keep
 *                          audit events forever); purged by retention.h
 *   (no flag)              LATCHKEY_AUDIT_PURGE_INTERVAL_SECS  3600 (tests: short)
 *   --print-routes         (hidden) print the route table and exit
 *   --public-url URL       LATCHKEY_PUBLIC_URL     http:// (https:// with TLS) +
 *                                                  the listen address; invitation links
 *   --smtp-url URL         LATCHKEY_SMTP_URL       none; with --smtp-from, invitation
 *   --smtp-from ADDR       LATCHKEY_SMTP_FROM      links are emailed (mailer.h)
 *   (no flag)              LATCHKEY_MAX_CONNECTIONS     10000 (tests: small)
 *   (no flag)              LATCHKEY_REQUEST_TIMEOUT_MS  10000 (tests: short)
 *   (no flag)              LATCHKEY_RATELIMIT_CAPACITY  slots per throttle
 *                          table at most (tests: small tables)
 *   (no flag)              LATCHKEY_LOGIN_EMAIL_PACE    seconds between failed
 *                          logins per email after the burst, 1..60 (default
 *                          30; tests: short)
 *
 * Flags win over the environment. Every failure to start is one line on
 * stderr and exit status 2 (usage) or 1 (anything else). This is the only
 * place that reads the server's configuration and the only one that knows
 * the database URL (it migrates the schema once, then gives the server an
 * opener for per-thread connections); the layers below get it in
 * lk_server_config / lk_svc_config. Flags are exact: getopt_long's
 * abbreviations (--lis) are refused as unknown, as they always were.
 */
#include "cidr.h"
#include "metrics.h"
#include "mailer.h"
#include "migrate_data.h"
#include "retention.h"
#include "router.h"
#include "server.h"
#include "service_invitations.h"
#include "service_device.h"
#include "store.h"
#include "store_metrics.h"
#include "token.h"

#include <assert.h>
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef LK_VERSION
#define LK_VERSION "0.0.0"
#endif

#define DEFAULT_LISTEN "127.0.0.1:8080"
#define DEFAULT_DATABASE "sqlite:latchkey.db"
#define LK_THREADS_MAX 256
#define LK_MAX_CONNECTIONS_LIMIT 1000000 /* LATCHKEY_MAX_CONNECTIONS at most */
#define LK_REQUEST_TIMEOUT_LIMIT 3600000 /* LATCHKEY_REQUEST_TIMEOUT_MS at most */
#define LK_AUDIT_DAYS_MAX 36500          /* --audit-retention-days at most */

#if defined(__SANITIZE_ADDRESS__)
/* h2o 2.2 keeps per-thread free lists of socket buffers
 * (h2o_mem_alloc_recycle) that it never releases when a loop thread ends;
 * they are h2o's, bounded, and not ours to free. Everything else leaking
 * still fails a sanitizer run. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:h2o_mem_alloc_recycle\n";
}
#endif

static void usage(FILE *f)
{
    fputs("usage: latchkeyd [--listen ADDR:PORT] [--database URL] [--signup open|closed]\n"
          "                 [--threads N] [--bearer-fail-limit N] [--signup-limit N]\n"
          "                 [--trusted-proxies CIDR,...] [--tls-cert FILE --tls-key FILE]\n"
          "                 [--metrics-listen ADDR:PORT] [--log-format text|json]\n"
          "                 [--public-url URL] [--smtp-url URL --smtp-from ADDR]\n"
          "                 [--device-code-ttl S] [--audit-retention-days N]\n"
          "                 [--help] [--version]\n"
          "       latchkeyd migrate-data --from URL --to URL [--force]\n"
          "\n"
          "  --listen ADDR:PORT    address to serve on (env LATCHKEY_LISTEN; default "
          "127.0.0.1:8080)\n"
          "  --database URL        sqlite:PATH or postgresql://... (env LATCHKEY_DATABASE_URL;\n"
          "                        default sqlite:latchkey.db)\n"
          "  --signup open|closed  whether POST /v1/auth/signup accepts new users\n"
          "                        (env LATCHKEY_SIGNUP; default open)\n"
          "  --threads N           event-loop threads (env LATCHKEY_THREADS; default: number of "
          "CPUs)\n"
          "  --bearer-fail-limit N failed Bearer attempts allowed per client address per\n"
          "                        minute before 429 (env LATCHKEY_BEARER_FAIL_LIMIT;\n"
          "                        default 1000)\n"
          "  --trusted-proxies CIDR[,CIDR...]\n"
          "                        reverse proxies (at most 32 ranges) whose X-Forwarded-For\n"
          "                        names the client (env LATCHKEY_TRUSTED_PROXIES; default:\n"
          "                        none, the client is the TCP peer)\n"
          "  --signup-limit N      signups allowed per client address (IPv6: per /64) an\n"
          "                        hour before 429; 0: no limit (env LATCHKEY_SIGNUP_LIMIT;\n"
          "                        default 20)\n"
          "  --tls-cert FILE       serve HTTPS (HTTP/1.1 and HTTP/2) with this PEM certificate\n"
          "                        chain (env LATCHKEY_TLS_CERT); needs --tls-key\n"
          "  --tls-key FILE        the certificate's PEM private key (env LATCHKEY_TLS_KEY)\n"
          "  --metrics-listen ADDR:PORT\n"
          "                        serve Prometheus metrics at GET /metrics on this address,\n"
          "                        never on --listen (env LATCHKEY_METRICS_LISTEN; default off)\n"
          "  --log-format text|json  access log on stderr: text lines or one JSON object a\n"
          "                        line (env LATCHKEY_LOG_FORMAT; default text)\n"
          "  --public-url URL      the dashboard's address in invitation links (env\n"
          "                        LATCHKEY_PUBLIC_URL; default http://LISTEN)\n"
          "  --smtp-url URL        smtp://HOST:PORT: email invitation links (env\n"
          "                        LATCHKEY_SMTP_URL); needs --smtp-from\n"
          "  --smtp-from ADDR      the sender address (env LATCHKEY_SMTP_FROM)\n"
          "  --device-code-ttl S   seconds a `latchkey login` sign-in waits for the browser\n"
          "                        (env LATCHKEY_DEVICE_CODE_TTL; 1..3600, default 600;\n"
          "                        meant for tests)\n"
          "  --audit-retention-days N  audit events older than N days are purged hourly\n"
          "                        (env LATCHKEY_AUDIT_RETENTION_DAYS; default 365; 0 keeps all)\n"
          "  --help                show this and exit\n"
          "  --version             print the version and exit\n"
          "\n"
          "The schema is created or migrated at start. SIGTERM/SIGINT stop the server\n"
          "gracefully. The dashboard is served at /.\n",
          f);
}

static int parse_signup(const char *v, bool *open)
{
    if (strcmp(v, "open") == 0) {
        *open = true;
        return 0;
    }
    if (strcmp(v, "closed") == 0) {
        *open = false;
        return 0;
    }
    return -1;
}

/* A decimal integer in [min, max]; 0 or -1. */
static int parse_int(const char *v, long min, long max, int *out)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (v[0] == '\0' || *end != '\0' || errno != 0 || n < min || n > max) return -1;
    *out = (int)n;
    return 0;
}

/* A positive integer from the environment, else def (a bad value too:
 * these two are for tests and operators, not documented flags). */
static long env_long(const char *name, long def, long max)
{
    const char *v = getenv(name);
    if (v == NULL || v[0] == '\0') return def;
    char *end;
    long n = strtol(v, &end, 10);
    return (*end == '\0' && n > 0 && n <= max) ? n : def;
}

/* The settings as text: environment first, flags over it. */
typedef struct opts {
    const char *listen, *db, *signup, *threads, *bearer_limit, *tls_cert, *tls_key;
    const char *trusted; /* --trusted-proxies */
    const char *metrics_listen, *log_format;
    const char *signup_limit; /* account */
    const char *public_url, *smtp_url, *smtp_from; /* roles and invitations */
    const char *device_ttl; /* --- device --- */
    const char *audit_days; /* --- audit --- */
} opts;

static void opts_from_env(opts *o)
{
    o->listen = getenv("LATCHKEY_LISTEN");
    o->db = getenv("LATCHKEY_DATABASE_URL");
    o->signup = getenv("LATCHKEY_SIGNUP");
    o->threads = getenv("LATCHKEY_THREADS");
    o->bearer_limit = getenv("LATCHKEY_BEARER_FAIL_LIMIT");
    o->tls_cert = getenv("LATCHKEY_TLS_CERT");
    o->tls_key = getenv("LATCHKEY_TLS_KEY");
    o->trusted = getenv("LATCHKEY_TRUSTED_PROXIES");
    o->metrics_listen = getenv("LATCHKEY_METRICS_LISTEN");
    o->log_format = getenv("LATCHKEY_LOG_FORMAT");
    o->signup_limit = getenv("LATCHKEY_SIGNUP_LIMIT");
    o->public_url = getenv("LATCHKEY_PUBLIC_URL");
    o->smtp_url = getenv("LATCHKEY_SMTP_URL");
    o->smtp_from = getenv("LATCHKEY_SMTP_FROM");
    o->device_ttl = getenv("LATCHKEY_DEVICE_CODE_TTL");
    o->audit_days = getenv("LATCHKEY_AUDIT_RETENTION_DAYS");
    if (o->listen == NULL || o->listen[0] == '\0') o->listen = DEFAULT_LISTEN;
    if (o->db == NULL || o->db[0] == '\0') o->db = DEFAULT_DATABASE;
    if (o->signup == NULL || o->signup[0] == '\0') o->signup = "open";
}

enum {
    OPT_LISTEN = 256,
    OPT_DATABASE,
    OPT_SIGNUP,
    OPT_THREADS,
    OPT_BEARER,
    OPT_CERT,
    OPT_KEY,
    OPT_TRUSTED,
    OPT_METRICS,
    OPT_LOG_FORMAT,
    OPT_PUBLIC_URL,
    OPT_SMTP_URL,
    OPT_SMTP_FROM,
    OPT_DEVICE_TTL,
    OPT_AUDIT_DAYS,
    OPT_VERSION,
    OPT_ROUTES,
    OPT_SIGNUP_LIMIT, /* account */
};

static const struct option long_opts[] = {
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"database", required_argument, NULL, OPT_DATABASE},
    {"signup", required_argument, NULL, OPT_SIGNUP},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"bearer-fail-limit", required_argument, NULL, OPT_BEARER},
    {"tls-cert", required_argument, NULL, OPT_CERT},
    {"tls-key", required_argument, NULL, OPT_KEY},
    {"trusted-proxies", required_argument, NULL, OPT_TRUSTED},
    {"metrics-listen", required_argument, NULL, OPT_METRICS},
    {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
    {"public-url", required_argument, NULL, OPT_PUBLIC_URL},
    {"smtp-url", required_argument, NULL, OPT_SMTP_URL},
    {"smtp-from", required_argument, NULL, OPT_SMTP_FROM},
    {"device-code-ttl", required_argument, NULL, OPT_DEVICE_TTL},
    {"audit-retention-days", required_argument, NULL, OPT_AUDIT_DAYS},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {"print-routes", no_argument, NULL, OPT_ROUTES},
    {"signup-limit", required_argument, NULL, OPT_SIGNUP_LIMIT},
    {NULL, 0, NULL, 0},
};

/* The option text as typed for the option getopt_long just returned. */
static const char *typed(char **argv, int had_value)
{
    return had_value && optarg == argv[optind - 1] ? argv[optind - 2] : argv[optind - 1];
}

/* Whether a names a flag exactly: getopt_long also takes unique
 * abbreviations (--lis), which latchkeyd never has. */
static bool exact_flag(const char *a)
{
    if (a[0] != '-' || a[1] != '-') return true; /* -h */
    for (size_t i = 0; long_opts[i].name != NULL; i++) {
        size_t n = strlen(long_opts[i].name);
        if (strncmp(a + 2, long_opts[i].name, n) == 0 && (a[2 + n] == '\0' || a[2 + n] == '='))
            return true;
    }
    return false;
}

/* Store a flag's value in o. */
static void opts_set(opts *o, int c, const char *v)
{
    const char **slot[] = {&o->listen,   &o->db,       &o->signup,         &o->threads,
                           &o->bearer_limit, &o->tls_cert, &o->tls_key,        &o->trusted,
                           &o->metrics_listen, &o->log_format, &o->public_url, &o->smtp_url,
                           &o->smtp_from, &o->device_ttl, &o->audit_days};
    _Static_assert(OPT_AUDIT_DAYS - OPT_LISTEN + 1 == sizeof slot / sizeof slot[0], "slots");
    assert(c >= OPT_LISTEN && c <= OPT_AUDIT_DAYS);
    *slot[c - OPT_LISTEN] = v;
}

/* Flags over o. Returns -1 to go on, else the exit status (--help,
 * --version, --print-routes: 0; a usage error: 2, one line on stderr). */
static int opts_from_argv(opts *o, int argc, char **argv)
{
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:h", long_opts, NULL)) != -1) {
        const char *a = typed(argv, c == ':' ? 0 : optarg != NULL);
        char shortopt[] = {'-', (char)optopt, '\0'};
        if (c == '?' && optopt != 0) a = shortopt; /* -x, also inside -xh */
        if (c == '?' || !exact_flag(a)) {
            fprintf(stderr, "latchkeyd: unknown option '%s' (see --help)\n", a);
            return 2;
        }
        if (c == ':') {
            fprintf(stderr, "latchkeyd: %s needs a value (see --help)\n", a);
            return 2;
        }
        if (c == 'h') return usage(stdout), 0;
        if (c == OPT_VERSION) return printf("latchkeyd %s\n", LK_VERSION), 0;
        if (c == OPT_ROUTES) return lk_router_print(stdout), 0;
        if (c == OPT_SIGNUP_LIMIT) {
            o->signup_limit = optarg;
            continue;
        }
        opts_set(o, c, optarg);
    }
    if (optind < argc) {
        fprintf(stderr, "latchkeyd: unknown option '%s' (see --help)\n", argv[optind]);
        return 2;
    }
    return -1;
}

static int open_store(const void *ctx, lk_store **st);

#define USAGE_ERROR(...) (fprintf(stderr, "latchkeyd: " __VA_ARGS__), 2)

/* --- scopes: --trusted-proxies into cfg->svc.trusted_proxies (cidr.h's
 * strict parse; empty or unset: none). 0, or 2 after a usage line. */
static int trusted_fill(const opts *o, lk_server_config *cfg)
{
    lk_err e;
    lk_err_clear(&e);
    lk_cidr_list_init(&cfg->svc.trusted_proxies);
    if (o->trusted == NULL || o->trusted[0] == '\0') return 0;
    if (lk_cidr_list_parse(o->trusted, strlen(o->trusted), &cfg->svc.trusted_proxies, NULL,
                           "trusted-proxies", &e) != LK_OK)
        return USAGE_ERROR("--trusted-proxies (LATCHKEY_TRUSTED_PROXIES): %s\n",
                           lk_err_message(&e));
    return 0;
}

/* --metrics-listen and --log-format into cfg: 0, or 2 after a usage line. */
static int config_ops(const opts *o, lk_server_config *cfg)
{
    const char *m = o->metrics_listen, *f = o->log_format;
    cfg->metrics_listen = m != NULL && m[0] != '\0' ? m : NULL;
    if (cfg->metrics_listen != NULL && strcmp(cfg->metrics_listen, o->listen) == 0)
        return USAGE_ERROR("--metrics-listen must not be the --listen address: metrics are "
                           "not served on the public port\n");
    if (f == NULL || f[0] == '\0' || strcmp(f, "text") == 0)
        cfg->log_format = LK_LOG_TEXT;
    else if (strcmp(f, "json") == 0)
        cfg->log_format = LK_LOG_JSON;
    else
        return USAGE_ERROR("--log-format must be 'text' or 'json', not '%s'\n", f);
    return 0;
}

/* --- account: the throttles. Defaults from ratelimit.h; --signup-limit
 * sets the per-address signup rule; two hidden variables shrink the tables
 * and the per-email pace for tests. 0, or 2 after a usage line. */
#define LK_SIGNUP_LIMIT_MAX 1000000
#define LK_RATELIMIT_CAPACITY 65536 /* slots per table at most */
static int throttles_fill(const opts *o, lk_ratelimit_config *rl)
{
    lk_ratelimit_config_init(rl);
    if (o->signup_limit != NULL && o->signup_limit[0] != '\0') {
        int n;
        if (parse_int(o->signup_limit, 0, LK_SIGNUP_LIMIT_MAX, &n) != 0)
            return USAGE_ERROR("--signup-limit (LATCHKEY_SIGNUP_LIMIT) must be a number from 0 "
                               "to %d\n",
                               LK_SIGNUP_LIMIT_MAX);
        rl->rule[LK_RL_SIGNUP_CLIENT].max_failures = n > 0 ? n : -1; /* <= 0: off */
    }
    unsigned cap = (unsigned)env_long("LATCHKEY_RATELIMIT_CAPACITY", LK_RATELIMIT_CAPACITY,
                                      LK_RATELIMIT_CAPACITY);
    for (int i = 0; i < LK_RL_NRULES; i++)
        if (rl->capacity[i] > cap) rl->capacity[i] = cap;
    rl->rule[LK_RL_LOGIN_EMAIL].window_secs = (int)env_long(
        "LATCHKEY_LOGIN_EMAIL_PACE", rl->rule[LK_RL_LOGIN_EMAIL].window_secs, LK_RL_PACE_MAX);
    return 0;
}

/* --- roles and invitations: --public-url, --smtp-url, --smtp-from --- */
static char public_url[LK_PUBLIC_URL_MAX]; /* cfg->svc.public_url points here */

static bool url_text_ok(const char *u)
{
    for (const unsigned char *p = (const unsigned char *)u; *p; p++)
        if (*p <= ' ' || *p == 0x7f || *p == '"' || *p == '<' || *p == '>' || *p == '\\')
            return false;
    return true;
}

/* The invitation settings into cfg->svc; the mailer starts in main. */
static int invite_config(const opts *o, lk_server_config *cfg)
{
    const char *u = o->public_url;
    int n;
    if (u != NULL && u[0] != '\0') {
        if ((strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0) || !url_text_ok(u) ||
            strlen(u) >= sizeof public_url - 1)
            return USAGE_ERROR("--public-url must be an http:// or https:// URL without spaces, "
                               "at most %d bytes\n",
                               LK_PUBLIC_URL_MAX - 2);
        n = snprintf(public_url, sizeof public_url, "%s", u);
    } else {
        n = snprintf(public_url, sizeof public_url, "%s://%s", o->tls_cert ? "https" : "http",
                     o->listen);
    }
    if (n < 0 || (size_t)n >= sizeof public_url)
        return USAGE_ERROR("--listen is too long for a public URL\n");
    while (n > 0 && public_url[n - 1] == '/')
        public_url[--n] = '\0';
    cfg->svc.public_url = public_url;
    bool has_url = o->smtp_url && o->smtp_url[0], has_from = o->smtp_from && o->smtp_from[0];
    if (has_url != has_from) return USAGE_ERROR("--smtp-url and --smtp-from go together\n");
    if (has_url && !lk_mailer_url_ok(o->smtp_url))
        return USAGE_ERROR("--smtp-url must be smtp://HOST:PORT or smtps://HOST:PORT\n");
    return 0;
}

/* Start the mailer when SMTP is configured: 0, or 1 after a line on stderr. */
static int mailer_start(const opts *o, lk_server_config *cfg)
{
    if (o->smtp_url == NULL || o->smtp_url[0] == '\0') return 0;
    lk_err e;
    lk_err_clear(&e);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "latchkeyd: cannot initialise libcurl\n");
        return 1;
    }
    if (lk_mailer_start(o->smtp_url, o->smtp_from, &cfg->svc.mailer, &e) != LK_OK) {
        fprintf(stderr, "latchkeyd: %s\n", lk_err_message(&e));
        return e.code == LK_EVALIDATION ? 2 : 1;
    }
    return 0;
}
/* --- end roles and invitations --- */

/* The server's configuration from the text settings: 0, or 2 after a
 * usage line on stderr. */
static int config_fill(opts *o, lk_server_config *cfg)
{
    int rc;
    if (o->tls_cert != NULL && o->tls_cert[0] == '\0') o->tls_cert = NULL;
    if (o->tls_key != NULL && o->tls_key[0] == '\0') o->tls_key = NULL;
    if ((o->tls_cert == NULL) != (o->tls_key == NULL))
        return USAGE_ERROR("--tls-cert and --tls-key go together\n");
    *cfg = (lk_server_config){.listen = o->listen,
                              .tls_cert = o->tls_cert,
                              .tls_key = o->tls_key,
                              .open_store = open_store,
                              .store_ctx = o->db,
                              .database_url = o->db,
                              /* SQLite: one writer, group commit (writer.h) */
                              .group_commit = lk_store_url_is(o->db, LK_STORE_SQLITE_SCHEME)};
    lk_svc_config_init(&cfg->svc);
    if (parse_signup(o->signup, &cfg->svc.signup_open) != 0)
        return USAGE_ERROR("--signup must be 'open' or 'closed', not '%s'\n", o->signup);
    if (o->threads != NULL && o->threads[0] != '\0') {
        if (parse_int(o->threads, 1, LK_THREADS_MAX, &cfg->threads) != 0)
            return USAGE_ERROR("--threads must be a number from 1 to %d\n", LK_THREADS_MAX);
    } else {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        cfg->threads = n < 1 ? 1 : (n > LK_THREADS_MAX ? LK_THREADS_MAX : (int)n);
    }
    if (o->bearer_limit != NULL && o->bearer_limit[0] != '\0' &&
        parse_int(o->bearer_limit, 1, INT_MAX, &cfg->svc.bearer_per_client.max_failures) != 0)
        return USAGE_ERROR("--bearer-fail-limit (LATCHKEY_BEARER_FAIL_LIMIT) must be a number "
                           "from 1 to %d\n",
                           INT_MAX);
    if (o->device_ttl != NULL && o->device_ttl[0] != '\0' &&
        parse_int(o->device_ttl, LK_DEVICE_TTL_MIN, LK_DEVICE_TTL_MAX, &cfg->svc.device_ttl) != 0)
        return USAGE_ERROR("--device-code-ttl (LATCHKEY_DEVICE_CODE_TTL) must be a number of "
                           "seconds from %d to %d\n",
                           LK_DEVICE_TTL_MIN, LK_DEVICE_TTL_MAX);
    if (o->listen[0] == '\0' || o->db[0] == '\0')
        return USAGE_ERROR("--listen and --database must not be empty\n");
    if (trusted_fill(o, cfg) != 0) return 2;
    if (config_ops(o, cfg) != 0) return 2;
    if (throttles_fill(o, &cfg->rl) != 0) return 2;
    if ((rc = invite_config(o, cfg)) != 0) return rc;
    cfg->max_connections =
        (int)env_long("LATCHKEY_MAX_CONNECTIONS", LK_MAX_CONNECTIONS, LK_MAX_CONNECTIONS_LIMIT);
    cfg->request_timeout_ms = (uint64_t)env_long("LATCHKEY_REQUEST_TIMEOUT_MS",
                                                 LK_REQUEST_TIMEOUT_MS, LK_REQUEST_TIMEOUT_LIMIT);
    cfg->audit_retention_days = LK_AUDIT_RETENTION_DAYS_DEFAULT;
    if (o->audit_days != NULL && o->audit_days[0] != '\0' &&
        parse_int(o->audit_days, 0, LK_AUDIT_DAYS_MAX, &cfg->audit_retention_days) != 0)
        return USAGE_ERROR("--audit-retention-days (LATCHKEY_AUDIT_RETENTION_DAYS) must be a "
                           "number from 0 to %d\n",
                           LK_AUDIT_DAYS_MAX);
    cfg->audit_purge_interval_secs = (int)env_long("LATCHKEY_AUDIT_PURGE_INTERVAL_SECS",
                                                   LK_RETENTION_INTERVAL_SECS, INT_MAX);
    return 0;
}

/* The database URL as it may be printed: for scheme://user:password@host/db
 * the password and the query string (which may hold password=...) are left
 * out. Writes into out (always NUL-terminated, truncated to n). */
static void safe_db_url(const char *url, char *out, size_t n)
{
    const char *auth = strstr(url, "://");
    if (auth == NULL) {
        snprintf(out, n, "%s", url);
        return;
    }
    auth += 3;
    size_t alen = strcspn(auth, "/?");
    const char *at = NULL;
    for (const char *p = auth; p < auth + alen; p++)
        if (*p == '@') at = p;
    size_t ulen = 0; /* user name part of the userinfo, without ":password" */
    if (at != NULL) ulen = strcspn(auth, ":@");
    const char *host = at ? at + 1 : auth;
    snprintf(out, n, "%.*s%.*s%s%.*s", (int)(auth - url), url, (int)ulen, auth, at ? "@" : "",
             (int)strcspn(host, "?"), host);
}

/* lk_store_open_fn: one connection to the URL in ctx. */
static int open_store(const void *ctx, lk_store **st)
{
    const char *url_in = ctx;
    lk_err e;
    lk_err_clear(&e);
    if (lk_store_open(url_in, st, &e) != 0) {
        char url[256];
        safe_db_url(url_in, url, sizeof url);
        fprintf(stderr, "latchkeyd: cannot open database %s: %s\n", url, lk_err_message(&e));
        return -1;
    }
    if (lk_metrics_on()) lk_store_metrics_wrap(*st); /* store-call latency, errors, keys */
    return 0;
}

/* Create or migrate the schema once, before any thread opens the store. */
static int migrate_schema(const char *url)
{
    lk_store *st = NULL;
    if (open_store(url, &st) != 0) return -1;
    int rc = st->ops->migrate(st);
    if (rc == 0) rc = st->ops->ping(st);
    if (rc != 0) fprintf(stderr, "latchkeyd: database not usable: %s\n", lk_err_message(&st->err));
    lk_store_close(st);
    return rc == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "migrate-data") == 0) {
        return lk_migrate_data_main(argc - 1, argv + 1);
    }
    opts o;
    opts_from_env(&o);
    int rc = opts_from_argv(&o, argc, argv);
    if (rc >= 0) return rc;
    static lk_server_config cfg; /* the server points into it until exit */
    if ((rc = config_fill(&o, &cfg)) != 0) return rc;
    if (lk_token_init() != 0) {
        fprintf(stderr, "latchkeyd: cannot initialise libsodium\n");
        return 1;
    }
    lk_server *srv = lk_server_prepare(&cfg);
    if (srv == NULL || migrate_schema(o.db) != 0) return 1;
    if ((rc = mailer_start(&o, &cfg)) != 0) return rc;
    lk_retention *ret = lk_retention_start(cfg.open_store, cfg.store_ctx, &cfg.svc,
                                           cfg.audit_retention_days, cfg.audit_purge_interval_secs);
    rc = lk_server_run(srv);
    lk_retention_stop(ret);
    lk_mailer_stop(cfg.svc.mailer); /* delivers what is queued */
    return rc;
}
