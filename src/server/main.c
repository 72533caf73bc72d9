/*
 * main.c — latchkeyd's entry point: flags, environment fallbacks, then
 * lk_http_run (http.h). `latchkeyd migrate-data ...` dispatches to
 * migrate_data.h before any server flag is looked at.
 *
 *   --listen ADDR:PORT     LATCHKEY_LISTEN         127.0.0.1:8080
 *   --database URL         LATCHKEY_DATABASE_URL   sqlite:latchkey.db
 *   --signup open|closed   LATCHKEY_SIGNUP         open
 *   --threads N            LATCHKEY_THREADS        number of CPUs (1..256)
 *   --bearer-fail-limit N  LATCHKEY_BEARER_FAIL_LIMIT  1000 (failed Bearer
 *                          attempts per client address per minute)
 *   --tls-cert FILE        LATCHKEY_TLS_CERT       none: plain HTTP; with
 *   --tls-key FILE         LATCHKEY_TLS_KEY        both, HTTPS (HTTP/1.1, HTTP/2)
 *   --device-code-ttl S    LATCHKEY_DEVICE_CODE_TTL  600 (seconds a CLI sign-in
 *                          waits for the browser; 1..3600; for tests)
 *   --print-routes         (hidden) print the route table and exit
 *
 * Flags win over the environment. Every failure to start is one line on
 * stderr and exit status 2 (usage) or 1 (anything else). This is the only
 * place that reads the server's configuration; the layers below get it in
 * lk_http_config / lk_svc_config.
 */
#include "http.h"
#include "migrate_data.h"
#include "router.h"
#include "service_device.h"
#include "token.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef LK_VERSION
#define LK_VERSION "0.0.0"
#endif

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
          "                 [--threads N] [--bearer-fail-limit N]\n"
          "                 [--tls-cert FILE --tls-key FILE] [--help] [--version]\n"
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
          "  --tls-cert FILE       serve HTTPS (HTTP/1.1 and HTTP/2) with this PEM certificate\n"
          "                        chain (env LATCHKEY_TLS_CERT); needs --tls-key\n"
          "  --tls-key FILE        the certificate's PEM private key (env LATCHKEY_TLS_KEY)\n"
          "  --device-code-ttl S   seconds a `latchkey login` sign-in waits for the browser\n"
          "                        (env LATCHKEY_DEVICE_CODE_TTL; 1..3600, default 600;\n"
          "                        meant for tests)\n"
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

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "migrate-data") == 0) {
        return lk_migrate_data_main(argc - 1, argv + 1);
    }

    const char *listen = getenv("LATCHKEY_LISTEN");
    const char *db = getenv("LATCHKEY_DATABASE_URL");
    const char *signup = getenv("LATCHKEY_SIGNUP");
    const char *threads = getenv("LATCHKEY_THREADS");
    const char *bearer_limit = getenv("LATCHKEY_BEARER_FAIL_LIMIT");
    const char *tls_cert = getenv("LATCHKEY_TLS_CERT");
    const char *tls_key = getenv("LATCHKEY_TLS_KEY");
    const char *device_ttl = getenv("LATCHKEY_DEVICE_CODE_TTL");
    if (listen == NULL || listen[0] == '\0') listen = "127.0.0.1:8080";
    if (db == NULL || db[0] == '\0') db = "sqlite:latchkey.db";
    if (signup == NULL || signup[0] == '\0') signup = "open";

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        const char *eq = strchr(a, '=');
        size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
#define FLAG(name) (nlen == strlen(name) && strncmp(a, name, nlen) == 0)
        if (FLAG("--help") || FLAG("-h")) {
            usage(stdout);
            return 0;
        }
        if (FLAG("--version")) {
            printf("latchkeyd %s\n", LK_VERSION);
            return 0;
        }
        if (FLAG("--print-routes")) {
            lk_router_print(stdout);
            return 0;
        }
        if (!(FLAG("--listen") || FLAG("--database") || FLAG("--signup") || FLAG("--threads") ||
              FLAG("--bearer-fail-limit") || FLAG("--tls-cert") || FLAG("--tls-key") ||
              FLAG("--device-code-ttl"))) {
            fprintf(stderr, "latchkeyd: unknown option '%s' (see --help)\n", a);
            return 2;
        }
        if (eq) {
            val = eq + 1;
        } else if (i + 1 < argc) {
            val = argv[++i];
        } else {
            fprintf(stderr, "latchkeyd: %s needs a value (see --help)\n", a);
            return 2;
        }
        if (FLAG("--listen"))
            listen = val;
        else if (FLAG("--database"))
            db = val;
        else if (FLAG("--signup"))
            signup = val;
        else if (FLAG("--threads"))
            threads = val;
        else if (FLAG("--tls-cert"))
            tls_cert = val;
        else if (FLAG("--tls-key"))
            tls_key = val;
        else if (FLAG("--device-code-ttl"))
            device_ttl = val;
        else
            bearer_limit = val;
#undef FLAG
    }

    if (tls_cert != NULL && tls_cert[0] == '\0') tls_cert = NULL;
    if (tls_key != NULL && tls_key[0] == '\0') tls_key = NULL;
    if ((tls_cert == NULL) != (tls_key == NULL)) {
        fprintf(stderr, "latchkeyd: --tls-cert and --tls-key go together\n");
        return 2;
    }
    lk_http_config cfg = {
        .listen = listen, .database_url = db, .tls_cert = tls_cert, .tls_key = tls_key};
    lk_svc_config_init(&cfg.svc);
    if (parse_signup(signup, &cfg.svc.signup_open) != 0) {
        fprintf(stderr, "latchkeyd: --signup must be 'open' or 'closed', not '%s'\n", signup);
        return 2;
    }
    if (threads != NULL && threads[0] != '\0') {
        if (parse_int(threads, 1, 256, &cfg.threads) != 0) {
            fprintf(stderr, "latchkeyd: --threads must be a number from 1 to 256\n");
            return 2;
        }
    } else {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        cfg.threads = n < 1 ? 1 : (n > 256 ? 256 : (int)n);
    }
    if (bearer_limit != NULL && bearer_limit[0] != '\0' &&
        parse_int(bearer_limit, 1, INT_MAX, &cfg.svc.bearer_per_client.max_failures) != 0) {
        fprintf(stderr,
                "latchkeyd: --bearer-fail-limit (LATCHKEY_BEARER_FAIL_LIMIT) must be a number from "
                "1 to %d\n",
                INT_MAX);
        return 2;
    }
    if (device_ttl != NULL && device_ttl[0] != '\0' &&
        parse_int(device_ttl, LK_DEVICE_TTL_MIN, LK_DEVICE_TTL_MAX, &cfg.svc.device_ttl) != 0) {
        fprintf(stderr, "latchkeyd: --device-code-ttl (LATCHKEY_DEVICE_CODE_TTL) must be a number "
                        "of seconds from %d to %d\n",
                LK_DEVICE_TTL_MIN, LK_DEVICE_TTL_MAX);
        return 2;
    }
    if (listen[0] == '\0' || db[0] == '\0') {
        fprintf(stderr, "latchkeyd: --listen and --database must not be empty\n");
        return 2;
    }
    if (lk_token_init() != 0) {
        fprintf(stderr, "latchkeyd: cannot initialise libsodium\n");
        return 1;
    }
    return lk_http_run(&cfg);
}
