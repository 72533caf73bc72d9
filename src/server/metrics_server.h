/*
 * metrics_server.h — the --metrics-listen listener: GET /metrics in the
 * Prometheus text format (metrics.h), on its own address, never on the
 * public port.
 *
 * One thread with its own h2o event loop, socket and configuration: a
 * scrape never waits behind API traffic and API traffic never waits
 * behind a scrape (the scrape only reads the per-thread counters with
 * relaxed loads). Answers GET/HEAD /metrics (200, text/plain;
 * version=0.0.4), 405 for another method there, 404 for every other path.
 * Open connections are capped (LK_METRICS_CONN_MAX; more are accepted and
 * closed at once) and a request must arrive within
 * LK_METRICS_REQ_TIMEOUT_MS: it is an operator's port, but still a socket.
 */
#ifndef LK_METRICS_SERVER_H
#define LK_METRICS_SERVER_H

#define LK_METRICS_CONN_MAX 64
#define LK_METRICS_REQ_TIMEOUT_MS 10000

/* Bind listen ("ADDR:PORT", "[V6]:PORT") and start the thread. Call once,
 * after lk_metrics_enable. 0, or -1 after one line on stderr. */
int lk_metrics_server_start(const char *listen);

/* Stop the thread and close the socket (no-op if not started). */
void lk_metrics_server_stop(void);

#endif
