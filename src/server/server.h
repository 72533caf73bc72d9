/*
 * server.h — latchkeyd's server: sockets, event-loop threads, signals,
 * graceful shutdown. main.c hands it one lk_server_config; it reads no
 * flag and no environment, and opens stores only through the config's
 * opener (the schema is migrated by main before lk_server_run).
 *
 * Shape:
 *
 *   main thread ── lk_server_prepare ── (main migrates) ── lk_server_run:
 *                  open everything, start, sigwait(TERM/INT), stop
 *   loop thread × N: one h2o evloop, its own SO_REUSEPORT listen socket,
 *                    its own lk_store connection + lk_svc + lk_usage (and on
 *                    PostgreSQL a pipelined connection for key look-ups,
 *                    pgwait.h, that never blocks the loop); a timer
 *                    flushes lk_usage every LK_USAGE_FLUSH_SECS; requests go
 *                    to http.h's dispatcher; access lines to accesslog.h
 *   worker × M:      jobs.h (signup, login: argon2id off the loops)
 *   metrics × 0..1:  with metrics_listen, metrics_server.h's own h2o loop
 *                    serving GET /metrics (started before any store opens, so
 *                    every loop's and worker's store calls are timed)
 *
 * Hostile clients (docs/security.md): open connections are capped (over
 * the cap a new connection is accepted and closed at once; the cap is
 * also kept below the descriptor limit), and a request must arrive whole
 * — headers and body — within the request timeout, which is also the
 * keep-alive idle and TLS handshake timeout.
 *
 * Shutdown (SIGTERM/SIGINT): every loop closes its listen socket, closes
 * its idle keep-alive connections, finishes the requests in flight (those
 * still arriving, running, deferred, or being written; bounded by
 * LK_SHUTDOWN_WAIT_MS), flushes usage; then workers stop, stores close,
 * exit status 0.
 */
#ifndef LK_SERVER_H
#define LK_SERVER_H

#include "accesslog.h"
#include "jobs.h"
#include "service.h"

#include <stdbool.h>
#include <stdint.h>

#define LK_MAX_CONNECTIONS 10000    /* default connection cap */
#define LK_REQUEST_TIMEOUT_MS 10000 /* default request / idle timeout */

typedef struct lk_server_config {
    const char *listen;          /* "ADDR:PORT" ("[::1]:8080" for IPv6) */
    int threads;                 /* event loops, >= 1 */
    const char *tls_cert;        /* PEM certificate chain, or NULL: plain HTTP */
    const char *tls_key;         /* PEM private key (set with tls_cert) */
    int max_connections;         /* open client connections, >= 1 */
    uint64_t request_timeout_ms; /* whole request, keep-alive idle, TLS hello */
    lk_store_open_fn open_store; /* one connection per loop and worker */
    bool group_commit;           /* writes on one writer thread (writer.h): SQLite */
    const void *store_ctx;       /* open_store's argument */
    const char *database_url;    /* postgresql://…: each loop also gets a pipelined
                                    connection for key look-ups (pgwait.h); else NULL */
    lk_svc_config svc;
    const char *metrics_listen; /* "ADDR:PORT" for GET /metrics (metrics_server.h), NULL: off */
    lk_log_format log_format;   /* the access log's format (accesslog.h) */
    /* --- account: the throttles' rules and table sizes (ratelimit.h) --- */
    lk_ratelimit_config rl;
    /* --- audit --- (main.c starts retention.h with these) */
    int audit_retention_days;      /* 0: keep every event */
    int audit_purge_interval_secs; /* how often the purge runs */
} lk_server_config;

typedef struct lk_server lk_server;

/* Block SIGTERM/SIGINT (so only the server's sigwait sees them), parse
 * the listen address, load TLS. cfg must outlive the server. Returns the
 * (process-wide, static) server, or NULL after one line on stderr. */
lk_server *lk_server_prepare(const lk_server_config *cfg);

/* Open the stores, listen, serve until SIGTERM/SIGINT, drain, stop.
 * Returns the process exit status (0 after a signal; 1 after a start-up
 * failure, with one line on stderr). */
int lk_server_run(lk_server *srv);

#endif
