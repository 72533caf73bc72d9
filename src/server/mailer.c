/*
 * mailer.c — the SMTP queue and its one thread (mailer.h).
 *
 * The queue is a fixed ring of LK_MAILER_QUEUE_MAX slots under one mutex;
 * lk_mailer_send copies into a slot and signals, the thread takes the
 * oldest slot out under the lock, composes the RFC 5322 message (Date,
 * From, To, Subject — RFC 2047 base64 when not ASCII — Message-ID, MIME
 * headers, the body with CRLF line ends) and hands it to one libcurl easy
 * handle per delivery (smtp:// or smtps://; libcurl does the SMTP
 * dialogue and the dot-stuffing). Slots and the composed message are wiped
 * after each delivery: the body carries an invitation link.
 */
#include "mailer.h"

#include <assert.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MSG_MAX (LK_MAILER_BODY_MAX * 2 + 2048) /* CRLF doubling + headers */
#define SUBJECT_B64_MAX (LK_MAILER_SUBJECT_MAX * 4 / 3 + 8)
#define SUBJECT_ENC_MAX (SUBJECT_B64_MAX + 16) /* "=?UTF-8?B?" … "?=" */
#define MSGID_RANDOM 16

typedef struct mail {
    char to[LK_MAILER_ADDR_MAX];
    char subject[LK_MAILER_SUBJECT_MAX];
    char body[LK_MAILER_BODY_MAX];
} mail;

struct lk_mailer {
    char url[LK_MAILER_URL_MAX];
    char from[LK_MAILER_ADDR_MAX];
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stopping;            /* under mu */
    atomic_llong drain_until; /* 0, or when stopping: start/keep no delivery after this */
    size_t head, count;       /* under mu: ring of queue[] */
    mail queue[LK_MAILER_QUEUE_MAX];
};

/* The composed message being uploaded. */
typedef struct upload {
    const char *data;
    size_t len, pos;
} upload;

static bool has_crlf(const char *s)
{
    return strpbrk(s, "\r\n") != NULL;
}

static bool fits(const char *s, size_t cap)
{
    return strnlen(s, cap) < cap;
}

int lk_mailer_url_ok(const char *url)
{
    if (url == NULL || !fits(url, LK_MAILER_URL_MAX) || has_crlf(url)) return 0;
    return strncmp(url, "smtp://", 7) == 0 || strncmp(url, "smtps://", 8) == 0;
}

static bool addr_ok(const char *a)
{
    const char *at = a ? strchr(a, '@') : NULL;
    return at != NULL && at != a && at[1] != '\0' && fits(a, LK_MAILER_ADDR_MAX) &&
           strpbrk(a, "\r\n<> ,") == NULL;
}

/* libcurl's progress callback: non-zero aborts a delivery that runs past
 * the drain deadline of a stop. */
static int progress_cb(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt, (void)dn, (void)ut, (void)un;
    long long until = atomic_load(&((const lk_mailer *)ctx)->drain_until);
    return until != 0 && (long long)time(NULL) > until;
}

static size_t read_cb(char *buf, size_t size, size_t n, void *ctx)
{
    upload *u = ctx;
    size_t room = size * n, left = u->len - u->pos;
    size_t k = left < room ? left : room;
    memcpy(buf, u->data + u->pos, k);
    u->pos += k;
    return k;
}

/* "Subject: …" value: as is when printable ASCII, else RFC 2047 base64. */
static void subject_encode(const char *s, char out[SUBJECT_ENC_MAX])
{
    bool ascii = true;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        ascii = ascii && *p >= 0x20 && *p < 0x7f;
    if (ascii) {
        int k = snprintf(out, SUBJECT_ENC_MAX, "%s", s);
        assert(k >= 0 && k < SUBJECT_ENC_MAX);
        return;
    }
    char b64[SUBJECT_B64_MAX];
    size_t n = strnlen(s, LK_MAILER_SUBJECT_MAX - 1);
    sodium_bin2base64(b64, sizeof b64, (const unsigned char *)s, n, sodium_base64_VARIANT_ORIGINAL);
    int k = snprintf(out, SUBJECT_ENC_MAX, "=?UTF-8?B?%s?=", b64);
    assert(k > 0 && k < SUBJECT_ENC_MAX);
}

/* Compose m into out[MSG_MAX]; returns the length, or 0 if it does not fit. */
static size_t compose(const lk_mailer *ml, const mail *m, char *out)
{
    char date[64], subj[SUBJECT_ENC_MAX], rnd[MSGID_RANDOM * 2 + 1];
    unsigned char raw[MSGID_RANDOM];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    subject_encode(m->subject, subj);
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(rnd, sizeof rnd, raw, sizeof raw);
    int n = snprintf(out, MSG_MAX,
                     "Date: %s\r\nFrom: <%s>\r\nTo: <%s>\r\nSubject: %s\r\n"
                     "Message-ID: <%s.latchkey%s>\r\nMIME-Version: 1.0\r\n"
                     "Content-Type: text/plain; charset=utf-8\r\n"
                     "Content-Transfer-Encoding: 8bit\r\n\r\n",
                     date, ml->from, m->to, subj, rnd, strchr(ml->from, '@'));
    if (n < 0 || n >= MSG_MAX) return 0;
    size_t len = (size_t)n;
    for (const char *p = m->body; *p; p++) {
        if (len + 3 >= MSG_MAX) return 0;
        if (*p == '\n' && (p == m->body || p[-1] != '\r')) out[len++] = '\r';
        out[len++] = *p;
    }
    if (len + 3 >= MSG_MAX) return 0;
    if (len == 0 || out[len - 1] != '\n') {
        out[len++] = '\r';
        out[len++] = '\n';
    }
    out[len] = '\0';
    return len;
}

/* One delivery; failures are logged (recipient and curl's reason only). */
static void deliver(const lk_mailer *ml, const mail *m)
{
    char *msg = malloc(MSG_MAX);
    CURL *c = curl_easy_init();
    struct curl_slist *rcpt = NULL;
    char from[LK_MAILER_ADDR_MAX + 2], to[LK_MAILER_ADDR_MAX + 2];
    if (msg == NULL || c == NULL) {
        fprintf(stderr, "latchkeyd: mail to %s not sent: out of memory\n", m->to);
        goto out;
    }
    upload u = {.data = msg, .len = compose(ml, m, msg)};
    if (u.len == 0) {
        fprintf(stderr, "latchkeyd: mail to %s not sent: message too large\n", m->to);
        goto out;
    }
    snprintf(from, sizeof from, "<%s>", ml->from);
    snprintf(to, sizeof to, "<%s>", m->to);
    if ((rcpt = curl_slist_append(NULL, to)) == NULL) goto out;
    curl_easy_setopt(c, CURLOPT_URL, ml->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(c, CURLOPT_READDATA, &u);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress_cb);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)(uintptr_t)ml);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)LK_MAILER_TIMEOUT_SECS);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)LK_MAILER_CONNECT_SECS);
    CURLcode cc = curl_easy_perform(c);
    if (cc != CURLE_OK)
        fprintf(stderr, "latchkeyd: mail to %s not sent: %s\n", m->to, curl_easy_strerror(cc));
out:
    if (msg) {
        sodium_memzero(msg, MSG_MAX);
        free(msg);
    }
    curl_slist_free_all(rcpt);
    if (c) curl_easy_cleanup(c);
}

static void *run(void *arg)
{
    lk_mailer *ml = arg;
    mail m;
    pthread_mutex_lock(&ml->mu);
    for (;;) {
        while (ml->count == 0 && !ml->stopping)
            pthread_cond_wait(&ml->cv, &ml->mu);
        if (ml->count == 0) break; /* stopping, and nothing left */
        mail *slot = &ml->queue[ml->head];
        m = *slot;
        sodium_memzero(slot, sizeof *slot);
        ml->head = (ml->head + 1) % LK_MAILER_QUEUE_MAX;
        ml->count--;
        bool late = ml->stopping && time(NULL) > (time_t)atomic_load(&ml->drain_until);
        pthread_mutex_unlock(&ml->mu);
        if (late)
            fprintf(stderr, "latchkeyd: mail to %s not sent: shutting down\n", m.to);
        else
            deliver(ml, &m);
        sodium_memzero(&m, sizeof m);
        pthread_mutex_lock(&ml->mu);
    }
    pthread_mutex_unlock(&ml->mu);
    return NULL;
}

int lk_mailer_start(const char *smtp_url, const char *from, lk_mailer **out, lk_err *e)
{
    *out = NULL;
    if (!lk_mailer_url_ok(smtp_url))
        return lk_err_set(e, LK_EVALIDATION, "--smtp-url must be smtp://host:port or smtps://…");
    if (!addr_ok(from))
        return lk_err_set(e, LK_EVALIDATION, "--smtp-from must be an email address");
    lk_mailer *ml = calloc(1, sizeof *ml);
    if (ml == NULL) return lk_err_set(e, LK_ENOMEM, NULL);
    snprintf(ml->url, sizeof ml->url, "%s", smtp_url);
    snprintf(ml->from, sizeof ml->from, "%s", from);
    pthread_mutex_init(&ml->mu, NULL);
    pthread_cond_init(&ml->cv, NULL);
    if (pthread_create(&ml->thread, NULL, run, ml) != 0) {
        pthread_cond_destroy(&ml->cv);
        pthread_mutex_destroy(&ml->mu);
        free(ml);
        return lk_err_set(e, LK_EINTERNAL, "cannot start the mailer thread");
    }
    *out = ml;
    return LK_OK;
}

int lk_mailer_send(lk_mailer *ml, const char *to, const char *subject, const char *body)
{
    if (ml == NULL) return LK_OK;
    if (!addr_ok(to) || !fits(subject, LK_MAILER_SUBJECT_MAX) || has_crlf(subject) ||
        !fits(body, LK_MAILER_BODY_MAX))
        return LK_EVALIDATION;
    int rc = LK_OK;
    pthread_mutex_lock(&ml->mu);
    if (ml->count == LK_MAILER_QUEUE_MAX || ml->stopping) {
        rc = LK_EUNAVAILABLE;
    } else {
        mail *slot = &ml->queue[(ml->head + ml->count) % LK_MAILER_QUEUE_MAX];
        snprintf(slot->to, sizeof slot->to, "%s", to);
        snprintf(slot->subject, sizeof slot->subject, "%s", subject);
        snprintf(slot->body, sizeof slot->body, "%s", body);
        ml->count++;
        pthread_cond_signal(&ml->cv);
    }
    pthread_mutex_unlock(&ml->mu);
    if (rc != LK_OK) fprintf(stderr, "latchkeyd: mail to %s not sent: mail queue full\n", to);
    return rc;
}

void lk_mailer_stop(lk_mailer *ml)
{
    if (ml == NULL) return;
    pthread_mutex_lock(&ml->mu);
    ml->stopping = true;
    atomic_store(&ml->drain_until, (long long)(time(NULL) + LK_MAILER_DRAIN_SECS));
    pthread_cond_signal(&ml->cv);
    pthread_mutex_unlock(&ml->mu);
    pthread_join(ml->thread, NULL);
    pthread_cond_destroy(&ml->cv);
    pthread_mutex_destroy(&ml->mu);
    sodium_memzero(ml->queue, sizeof ml->queue);
    free(ml);
}
