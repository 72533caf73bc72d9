/*
 * hygiene.c — see hygiene.h.
 */
#include "hygiene.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#define HTTP_1_1 0x101
#define HOST_PREFIX "host:"

/* The raw head of req's HTTP/1 request in its connection's input buffer:
 * *head and *n, or false when it is not there (HTTP/2, already consumed,
 * or the buffer holds something else). */
static bool raw_head(h2o_req_t *req, const char **head, size_t *n)
{
    if (req->version >= 0x200 || req->conn->callbacks->get_socket == NULL) return false;
    h2o_socket_t *sock = req->conn->callbacks->get_socket(req->conn);
    if (sock == NULL || sock->input == NULL) return false;
    const char *p = sock->input->bytes;
    size_t len = sock->input->size;
    h2o_iovec_t m = req->input.method;
    if (len <= m.len || memcmp(p, m.base, m.len) != 0 || p[m.len] != ' ') return false;
    *head = p;
    *n = len;
    return true;
}

const char *lk_hygiene_check(h2o_req_t *req)
{
    const char *p;
    size_t n;
    if (!raw_head(req, &p, &n)) return NULL;
    int hosts = 0;
    const char *nl = memchr(p, '\n', n); /* end of the request line */
    while (nl != NULL) {
        size_t ls = (size_t)(nl - p) + 1;                     /* start of the next line */
        if (ls >= n || p[ls] == '\r' || p[ls] == '\n') break; /* end of the head */
        if (p[ls] == ' ' || p[ls] == '\t') return "obsolete line folding in a header";
        if (n - ls > strlen(HOST_PREFIX) &&
            strncasecmp(p + ls, HOST_PREFIX, strlen(HOST_PREFIX)) == 0)
            hosts++;
        nl = memchr(p + ls, '\n', n - ls);
    }
    if (hosts > 1) return "more than one Host header";
    if (hosts == 0 && req->version >= HTTP_1_1) return "an HTTP/1.1 request needs a Host header";
    return NULL;
}
