/*
 * api_auth.c — signup, login, logout, session, whoami, /v1/me.
 *
 * Signup and login hash or verify a password with argon2id (~30 ms), so
 * they run on a worker thread (lk_jobs_defer): the handler parses and
 * copies the input into a job, the worker calls the service, the loop
 * thread writes the answer. Passwords and the new session token are wiped
 * from the job before it is freed, whether or not the client is still
 * there. The session cookie is HttpOnly, SameSite=Strict, Path=/, and
 * Secure when the request came over TLS.
 */
#include "api.h"
#include "api_body.h"
#include "auth.h"
#include "jobs.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Byte caps on what a job copies; the service applies the real rules. */
#define EMAIL_COPY_MAX (LK_EMAIL_MAX * 4)
#define PASSWORD_COPY_MAX (LK_PASSWORD_MAX * 4)
#define NAME_COPY_MAX (LK_NAME_SIZE * 2)

typedef struct auth_job {
    lk_job base;
    int rc;
    lk_err err;
    char email[EMAIL_COPY_MAX + 1];
    char password[PASSWORD_COPY_MAX + 1];
    char name[NAME_COPY_MAX + 1];
    size_t email_len, password_len, name_len;
    char client[LK_CLIENT_SIZE];
    char user_agent[LK_SESSION_UA_SIZE]; /* login: the session's device (capped) */
    lk_origin origin; /* the request's, for the audit event the worker records */
    lk_user user;
    char session[LK_SESSION_TOKEN_SIZE];
    char csrf[LK_CSRF_SIZE];
} auth_job;

/* A pool block wiped when the request's pool is released. */
typedef struct secret_block {
    char data[160];
} secret_block;

static void secret_dispose(void *p)
{
    sodium_memzero(p, sizeof(secret_block));
}

static void job_free(auth_job *j)
{
    sodium_memzero(j, sizeof(*j));
    free(j);
}

/* Copy a string field into a capped job buffer; too long → validation. */
static int copy_field(lk_req *r, const char *field, const char *s, size_t n, char *dst, size_t cap,
                      size_t *len)
{
    if (n > cap) return lk_err_field(&r->err, field, "too long");
    if (n) memcpy(dst, s, n);
    dst[n] = '\0';
    *len = n;
    return 0;
}

static void user_and_csrf(lk_buf *b, const lk_user *u, const char *csrf)
{
    lk_buf_puts(b, "{\"user\":");
    lk_json_user(b, u);
    lk_buf_puts(b, ",\"csrf_token\":");
    lk_buf_put_str(b, csrf, strlen(csrf));
    lk_buf_putc(b, '}');
}

static int is_tls(h2o_req_t *req)
{
    return req->scheme == &H2O_URL_SCHEME_HTTPS;
}

/* --- signup ------------------------------------------------------------- */

static void signup_run(lk_job *jb, lk_svc *svc)
{
    auth_job *j = (auth_job *)jb;
    svc->origin = j->origin;
    j->rc = lk_svc_signup(svc, j->email, j->email_len, j->password, j->password_len, j->name,
                          j->name_len, &j->user);
    j->err = svc->err;
}

static void signup_finish(lk_job *jb, h2o_req_t *req)
{
    auth_job *j = (auth_job *)jb;
    if (req != NULL) {
        if (j->rc == 0) {
            lk_buf b;
            lk_buf_init(&b, &req->pool, 256);
            lk_json_user(&b, &j->user);
            lk_reply_json(req, 201, &b);
        } else {
            lk_reply_error(req, j->rc, &j->err);
        }
    }
    job_free(j);
}

/* Parse {email, password[, name]} into a fresh job. */
static int auth_job_new(lk_req *r, bool with_name, auth_job **out)
{
    json_t *body = NULL;
    auth_job *j = NULL;
    const char *email, *pw, *name = NULL;
    size_t email_n, pw_n, name_n = 0;
    int rc = lk_req_json(r, &body);
    if (rc != 0) return rc;
    if ((rc = lk_req_str(r, body, "email", LK_FIELD_REQUIRED, &email, &email_n)) != 0) goto out;
    if ((rc = lk_req_str(r, body, "password", LK_FIELD_REQUIRED, &pw, &pw_n)) != 0) goto out;
    if (with_name && (rc = lk_req_str(r, body, "name", LK_FIELD_REQUIRED, &name, &name_n)) != 0)
        goto out;
    j = calloc(1, sizeof(*j));
    if (j == NULL) {
        rc = lk_err_set(&r->err, LK_ENOMEM, NULL);
        goto out;
    }
    if ((rc = copy_field(r, "email", email, email_n, j->email, EMAIL_COPY_MAX, &j->email_len)) ||
        (rc = copy_field(r, "password", pw, pw_n, j->password, PASSWORD_COPY_MAX,
                         &j->password_len)) ||
        (rc =
             copy_field(r, "name", name ? name : "", name_n, j->name, NAME_COPY_MAX, &j->name_len)))
        goto out;
    j->origin = r->svc->origin;
    *out = j;
    j = NULL;
out:
    if (j) job_free(j);
    if (body) {
        /* the parsed password lives in jansson's memory: wipe it */
        json_t *p = json_object_get(body, "password");
        if (json_is_string(p))
            sodium_memzero((void *)(uintptr_t)json_string_value(p), json_string_length(p));
        json_decref(body);
    }
    /* ... and so does the raw body in h2o's input buffer (already parsed;
     * h2o only needs its length from here on). */
    if (r->req->entity.base != NULL) sodium_memzero(r->req->entity.base, r->req->entity.len);
    return rc;
}

static int defer(lk_req *r, auth_job *j)
{
    int rc = lk_jobs_defer(r, &j->base);
    if (rc < 0) job_free(j);
    return rc;
}

int lk_api_signup(lk_req *r)
{
    auth_job *j = NULL;
    char client[LK_CLIENT_SIZE];
    lk_http_client_key(r, client); /* behind --trusted-proxies too */
    /* counted before any work is queued: a flood of signups cannot fill
     * the worker queue that logins share */
    int rc = lk_svc_signup_admit(r->svc, client);
    if (rc != 0) return rc;
    if ((rc = auth_job_new(r, true, &j)) != 0) return rc;
    j->base.run = signup_run;
    j->base.finish = signup_finish;
    return defer(r, j);
}

/* --- login ---------------------------------------------------------------- */

static void login_run(lk_job *jb, lk_svc *svc)
{
    auth_job *j = (auth_job *)jb;
    svc->origin = j->origin;
    lk_svc_origin from = {j->client, j->user_agent, strlen(j->user_agent)};
    j->rc = lk_svc_login_from(svc, j->email, j->email_len, j->password, j->password_len, &from,
                              &j->user, j->session, j->csrf);
    j->err = svc->err;
}

static void login_finish(lk_job *jb, h2o_req_t *req)
{
    auth_job *j = (auth_job *)jb;
    if (req != NULL) {
        if (j->rc == 0) {
            /* The header value holds the session token: it lives in a
             * pool block that is wiped when the request is disposed. */
            secret_block *c = h2o_mem_alloc_shared(&req->pool, sizeof(*c), secret_dispose);
            int n = snprintf(c->data, sizeof(c->data),
                             "latchkey_session=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d%s",
                             j->session, LK_SESSION_TTL, is_tls(req) ? "; Secure" : "");
            if (n < 0 || (size_t)n >= sizeof(c->data)) n = 0;
            h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_SET_COOKIE, NULL, c->data,
                           (size_t)n);
            lk_buf b;
            lk_buf_init(&b, &req->pool, 320);
            user_and_csrf(&b, &j->user, j->csrf);
            lk_reply_json(req, 200, &b);
        } else {
            lk_reply_error(req, j->rc, &j->err);
        }
    }
    job_free(j);
}

int lk_api_login(lk_req *r)
{
    auth_job *j = NULL;
    int rc = auth_job_new(r, false, &j);
    if (rc != 0) return rc;
    lk_http_client_key(r, j->client); /* scopes: behind --trusted-proxies too */
    /* a throttled attempt is answered here, without taking a queue slot */
    if ((rc = lk_svc_login_admit(r->svc, j->email, j->email_len, j->client)) != 0) {
        job_free(j);
        return rc;
    }
    size_t ua_n = 0;
    h2o_iovec_t ua = lk_req_header(r->req, H2O_TOKEN_USER_AGENT, &ua_n);
    if (ua_n == 1) {
        size_t n = ua.len < sizeof(j->user_agent) - 1 ? ua.len : sizeof(j->user_agent) - 1;
        memcpy(j->user_agent, ua.base, n);
        j->user_agent[n] = '\0';
    }
    j->base.run = login_run;
    j->base.finish = login_finish;
    return defer(r, j);
}

/* --- logout, session ------------------------------------------------------------ */

int lk_api_logout(lk_req *r)
{
    const char *v;
    size_t n;
    if (lk_req_session_cookie(r->req, &v, &n)) {
        /* A live session is ended only by a request that proves it comes
         * from the dashboard (X-CSRF-Token): no cross-site logout. A dead
         * or unknown cookie is simply cleared. */
        lk_principal p;
        int rc = lk_svc_auth_session(r->svc, v, n, &p);
        if (rc == 0) {
            ssize_t i = h2o_find_header_by_str(&r->req->headers, H2O_STRLIT("x-csrf-token"), -1);
            h2o_iovec_t c = i == -1 ? h2o_iovec_init("", 0) : r->req->headers.entries[i].value;
            if (c.len > LK_COOKIE_VALUE_MAX) c.len = 0;
            if ((rc = lk_svc_check_csrf(r->svc, &p, c.base, c.len)) != 0) return rc;
            if ((rc = lk_svc_logout(r->svc, v, n)) != 0) return rc;
        } else if (rc != LK_EUNAUTHENTICATED) {
            return rc;
        }
        lk_err_clear(&r->svc->err);
    }
    h2o_req_t *req = r->req;
    if (is_tls(req))
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_SET_COOKIE, NULL,
                       H2O_STRLIT("latchkey_session=; Path=/; HttpOnly; SameSite=Strict; "
                                  "Max-Age=0; Secure"));
    else
        h2o_add_header(
            &req->pool, &req->res.headers, H2O_TOKEN_SET_COOKIE, NULL,
            H2O_STRLIT("latchkey_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"));
    lk_reply_empty(req, 204);
    return 0;
}

int lk_api_session(lk_req *r)
{
    const char *v;
    size_t n;
    if (!lk_req_session_cookie(r->req, &v, &n))
        return lk_err_set(&r->err, LK_EUNAUTHENTICATED, NULL);
    int rc = lk_svc_auth_session(r->svc, v, n, &r->principal);
    if (rc != 0) return rc;
    lk_user u;
    if ((rc = lk_svc_me_get(r->svc, &r->principal, &u)) != 0) return rc;
    lk_buf b;
    lk_buf_init(&b, &r->req->pool, 320);
    user_and_csrf(&b, &u, r->principal.session.csrf);
    lk_reply_json(r->req, 200, &b);
    return 0;
}

/* --- whoami, me -------------------------------------------------------------------- */

int lk_api_whoami(lk_req *r)
{
    lk_whoami w;
    int rc = lk_svc_whoami(r->svc, &r->principal, &w);
    if (rc != 0) return rc;
    lk_buf b;
    lk_buf_init(&b, &r->req->pool, 768);
    lk_json_whoami(&b, &w);
    lk_reply_json(r->req, 200, &b);
    return 0;
}

static int reply_user(lk_req *r, const lk_user *u)
{
    lk_buf b;
    lk_buf_init(&b, &r->req->pool, 256);
    lk_json_user(&b, u);
    lk_reply_json(r->req, 200, &b);
    return 0;
}

int lk_api_me_get(lk_req *r)
{
    lk_user u;
    int rc = lk_svc_me_get(r->svc, &r->principal, &u);
    return rc != 0 ? rc : reply_user(r, &u);
}

static int me_rename(lk_req *r, const char *name, size_t n, void *out)
{
    return lk_svc_me_rename(r->svc, &r->principal, name, n, out);
}
static void user_write(lk_buf *b, const void *u)
{
    lk_json_user(b, u);
}

int lk_api_me_patch(lk_req *r)
{
    static const lk_api_str_op op = {"name", 200, 256, me_rename, user_write};
    lk_user u;
    return lk_api_str_call(r, &op, &u);
}
