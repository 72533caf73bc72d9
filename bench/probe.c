/*
 * probe.c — the small HTTP/process helper bench/run.sh needs, so that the
 * harness depends on nothing beyond a C compiler, wrk and nginx (no curl,
 * no Python).
 *
 *   probe free-port
 *       Print a TCP port on 127.0.0.1 that was free a moment ago.
 *   probe wait PORT PATH TIMEOUT_MS [PID]
 *       Poll "GET PATH" on 127.0.0.1:PORT every 0.5 ms until it answers 200;
 *       print the milliseconds waited. Exit 1 if TIMEOUT_MS passes first or
 *       process PID (the server being waited for) is gone.
 *   probe req PORT METHOD PATH [TOKEN [BODY]]
 *       One HTTP/1.1 request (Bearer TOKEN if given and not "-"; BODY sent as
 *       application/json). Prints the status code on the first line, then
 *       the body. Exit 0 if an answer arrived.
 *
 * Only ever connects to 127.0.0.1. Answers are read into a fixed 1 MiB
 * buffer; anything beyond is dropped.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RESP_MAX (1 << 20)

static char resp[RESP_MAX + 1];

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int connect_port(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* One request with "Connection: close"; returns the status code (and the
 * body start in *body) or -1. */
static int request(int port, const char *method, const char *path, const char *token,
                   const char *body, const char **body_out)
{
    int fd = connect_port(port);
    if (fd < 0) return -1;
    char head[4096];
    int n = snprintf(head, sizeof head,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n", method,
                     path, port);
    if (token && strcmp(token, "-") != 0)
        n += snprintf(head + n, sizeof head - (size_t)n, "Authorization: Bearer %s\r\n", token);
    if (body)
        n += snprintf(head + n, sizeof head - (size_t)n,
                      "Content-Type: application/json\r\nContent-Length: %zu\r\n", strlen(body));
    n += snprintf(head + n, sizeof head - (size_t)n, "\r\n");
    if (n >= (int)sizeof head || write_all(fd, head, (size_t)n) != 0 ||
        (body && write_all(fd, body, strlen(body)) != 0)) {
        close(fd);
        return -1;
    }
    size_t got = 0;
    for (;;) {
        ssize_t r = read(fd, resp + got, RESP_MAX - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
        if (got == RESP_MAX) break;
    }
    close(fd);
    resp[got] = '\0';
    int status;
    if (sscanf(resp, "HTTP/1.%*d %d", &status) != 1) return -1;
    if (body_out) {
        char *b = strstr(resp, "\r\n\r\n");
        *body_out = b ? b + 4 : "";
    }
    return status;
}

static int cmd_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
        perror("probe: free-port");
        return 1;
    }
    printf("%d\n", ntohs(sa.sin_port));
    close(fd);
    return 0;
}

static int cmd_wait(int port, const char *path, long timeout_ms, long pid)
{
    double t0 = now_ms();
    for (;;) {
        if (request(port, "GET", path, NULL, NULL, NULL) == 200) break;
        if (pid > 0 && kill((pid_t)pid, 0) != 0) {
            fprintf(stderr, "probe: process %ld exited before it was ready\n", pid);
            return 1;
        }
        if (now_ms() - t0 > (double)timeout_ms) {
            fprintf(stderr, "probe: 127.0.0.1:%d%s not ready after %ld ms\n", port, path,
                    timeout_ms);
            return 1;
        }
        usleep(500);
    }
    printf("%.1f\n", now_ms() - t0);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "free-port") == 0) return cmd_free_port();
    if ((argc == 5 || argc == 6) && strcmp(argv[1], "wait") == 0)
        return cmd_wait(atoi(argv[2]), argv[3], strtol(argv[4], NULL, 10),
                        argc == 6 ? strtol(argv[5], NULL, 10) : 0);
    if (argc >= 5 && argc <= 7 && strcmp(argv[1], "req") == 0) {
        const char *body = NULL;
        int st = request(atoi(argv[2]), argv[3], argv[4], argc > 5 ? argv[5] : NULL,
                         argc > 6 ? argv[6] : NULL, &body);
        if (st < 0) {
            fprintf(stderr, "probe: no answer from 127.0.0.1:%s\n", argv[2]);
            return 1;
        }
        printf("%d\n%s\n", st, body);
        return 0;
    }
    fprintf(stderr, "usage: probe free-port | probe wait PORT PATH TIMEOUT_MS [PID] |\n"
                    "       probe req PORT METHOD PATH [TOKEN [BODY]]\n");
    return 2;
}
