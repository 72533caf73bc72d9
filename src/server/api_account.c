/*
 * api_account.c — the person's own account security (contract: "Account
 * security"): PATCH /v1/me/password, GET /v1/me/sessions, DELETE
 * /v1/me/sessions/{session_id}.
 *
 * A password change verifies the current password and hashes the new one
 * with argon2id, so it runs on a worker (lk_jobs_defer) like login: the
 * handler copies both passwords (capped) and the principal into a job; the
 * worker calls lk_svc_password_change; the loop answers 204 or the error.
 * Both passwords are wiped from jansson's parse, from h2o's copy of the
 * body and from the job on every path; the principal in the job carries
 * the session's CSRF token and is wiped with it.
 *
 * The session list writes {id, created_at, last_seen_at, ip, user_agent,
 * current}; `current` is true for the session the request came with.
 */
#include "api.h"
#include "jobs.h"

#include <netdb.h>
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PASSWORD_COPY_MAX (LK_PASSWORD_MAX * 4) /* bytes: 4 per character at most */
#define SESSIONS_BUF_HINT 8192                  /* 50 sessions of ~400 bytes fit without growing */

typedef struct password_job {
    lk_job base;
    int rc;
    lk_err err;
    lk_principal principal;
    char client[LK_CLIENT_SIZE];
    char current[PASSWORD_COPY_MAX + 1];
    char next[PASSWORD_COPY_MAX + 1];
    size_t current_len, next_len;
} password_job;

static void password_job_free(password_job *j)
{
    sodium_memzero(j, sizeof *j);
    free(j);
}

static void password_run(lk_job *jb, lk_svc *svc)
{
    password_job *j = (password_job *)jb;
    j->rc = lk_svc_password_change(svc, &j->principal, j->current, j->current_len, j->next,
                                   j->next_len, j->client);
    j->err = svc->err;
}

static void password_finish(lk_job *jb, h2o_req_t *req)
{
    password_job *j = (password_job *)jb;
    if (req != NULL) {
        if (j->rc == 0)
            lk_reply_empty(req, 204);
        else
            lk_reply_error(req, j->rc, &j->err);
    }
    password_job_free(j);
}

/* Copy a required password field into dst (cap bytes + NUL). */
static int take_password(lk_req *r, json_t *body, const char *field, char *dst, size_t cap,
                         size_t *len)
{
    const char *s;
    size_t n;
    int rc = lk_req_str(r, body, field, LK_FIELD_REQUIRED, &s, &n);
    if (rc != 0) return rc;
    if (n > cap) return lk_err_field(&r->err, field, "is too long");
    memcpy(dst, s, n);
    dst[n] = '\0';
    *len = n;
    return 0;
}

static void wipe_json_field(json_t *body, const char *field)
{
    json_t *p = json_object_get(body, field);
    if (json_is_string(p))
        sodium_memzero((void *)(uintptr_t)json_string_value(p), json_string_length(p));
}

/* The TCP peer as text (the throttles' client), "" if unknown. */
static void peer_of(h2o_req_t *req, char out[LK_CLIENT_SIZE])
{
    struct sockaddr_storage ss;
    char buf[NI_MAXHOST];
    socklen_t n = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss);
    out[0] = '\0';
    if (n == 0) return;
    size_t len = h2o_socket_getnumerichost((struct sockaddr *)&ss, n, buf);
    if (len == SIZE_MAX || len >= LK_CLIENT_SIZE) return;
    memcpy(out, buf, len);
    out[len] = '\0';
}

int lk_api_me_password(lk_req *r)
{
    json_t *body = NULL;
    password_job *j = calloc(1, sizeof *j);
    int rc = j ? lk_req_json(r, &body) : lk_err_set(&r->err, LK_ENOMEM, NULL);
    if (rc == 0)
        rc = take_password(r, body, "current_password", j->current, PASSWORD_COPY_MAX,
                           &j->current_len);
    if (rc == 0)
        rc = take_password(r, body, "new_password", j->next, PASSWORD_COPY_MAX, &j->next_len);
    if (body) {
        wipe_json_field(body, "current_password");
        wipe_json_field(body, "new_password");
        json_decref(body);
    }
    /* h2o's copy of the body is parsed: only its length is needed now */
    if (r->req->entity.base != NULL) sodium_memzero(r->req->entity.base, r->req->entity.len);
    if (rc != 0) {
        if (j) password_job_free(j);
        return rc;
    }
    j->principal = r->principal;
    peer_of(r->req, j->client);
    j->base.run = password_run;
    j->base.finish = password_finish;
    rc = lk_jobs_defer(r, &j->base);
    if (rc < 0) password_job_free(j);
    return rc;
}

/* --- sessions ------------------------------------------------------------------- */

typedef struct session_out {
    lk_json_list l;
    const lk_principal *p;
} session_out;

static void json_session(lk_buf *b, const lk_session *s, bool current)
{
    lk_buf_puts(b, "{\"id\":");
    lk_buf_put_str(b, s->id, strlen(s->id));
    lk_buf_puts(b, ",\"created_at\":");
    lk_buf_put_time(b, s->created_at);
    lk_buf_puts(b, ",\"last_seen_at\":");
    lk_buf_put_time(b, s->last_seen_at > s->created_at ? s->last_seen_at : s->created_at);
    lk_buf_puts(b, ",\"ip\":");
    if (s->ip[0])
        lk_buf_put_str(b, s->ip, strlen(s->ip));
    else
        lk_buf_puts(b, "null");
    lk_buf_puts(b, ",\"user_agent\":");
    if (s->user_agent[0])
        lk_buf_put_str(b, s->user_agent, strlen(s->user_agent));
    else
        lk_buf_puts(b, "null");
    lk_buf_puts(b, current ? ",\"current\":true}" : ",\"current\":false}");
}

static int session_cb(void *ctx, const lk_session *s)
{
    session_out *o = ctx;
    lk_json_list_sep(&o->l);
    json_session(o->l.b, s, lk_svc_session_is_current(o->p, s));
    return 0;
}

int lk_api_me_sessions(lk_req *r)
{
    lk_list page;
    int rc = lk_req_page(r, &page);
    if (rc != 0) return rc;
    lk_buf b;
    session_out o = {.p = &r->principal};
    lk_buf_init(&b, &r->req->pool, SESSIONS_BUF_HINT);
    lk_json_list_begin(&o.l, &b);
    rc = lk_svc_session_list(r->svc, &r->principal, &page, session_cb, &o);
    if (rc != 0) return rc;
    lk_json_list_end(&o.l, page.next);
    lk_reply_json(r->req, 200, &b);
    return 0;
}

int lk_api_me_session_delete(lk_req *r)
{
    int rc = lk_svc_session_revoke(r->svc, &r->principal, lk_route_param(&r->m, LK_PARAM_SESSION));
    if (rc != 0) return rc;
    lk_reply_empty(r->req, 204);
    return 0;
}
