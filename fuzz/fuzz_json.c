/*
 * fuzz_json.c — libFuzzer harness for the JSON request decoders (reply.c):
 * lk_req_json (size cap, Content-Type check, jansson parse, object check)
 * and lk_req_str for every field any handler reads, then the checks the
 * handlers and the service apply to those strings (names, emails,
 * passwords, billing plan text, RFC 3339 expires_at). Input: header lines,
 * a blank line, the body (fuzz_req.h).
 */
#include "fuzz_req.h"
#include "reply.h"
#include "timefmt.h"
#include "validate.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fields[] = {"name", "email", "password", "plan", "billing_email",
                                     "expires_at"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_req f;
    fz_req_init(&f);
    f.req.method = h2o_iovec_init(H2O_STRLIT("POST"));
    size_t off = fz_req_headers(&f, data, size);
    if (off < size) {
        /* A pool copy, exactly sized: over-reads are caught. */
        f.req.entity = h2o_iovec_init(fz_dup(&f, data + off, size - off), size - off);
    }
    lk_req r;
    memset(&r, 0, sizeof(r));
    r.req = &f.req;
    json_t *body = NULL;
    int rc = lk_req_json(&r, &body);
    if (rc == 0) {
        if (body == NULL || !json_is_object(body)) abort();
        for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
            const char *s;
            size_t n;
            lk_err_clear(&r.err);
            if (lk_req_str(&r, body, fields[i], i % 2 == 0, &s, &n) != 0 || s == NULL) continue;
            lk_err e;
            lk_err_clear(&e);
            char name[LK_NAME_SIZE], email[LK_EMAIL_SIZE], lower[LK_EMAIL_SIZE];
            int64_t t;
            switch (i) {
            case 0: lk_validate_name(s, n, name, "name", &e); break;
            case 1:
            case 4: lk_validate_email(s, n, email, lower, fields[i], &e); break;
            case 2: lk_validate_password(s, n, &e); break;
            case 3: lk_utf8_valid(s, n, NULL); break;
            case 5:
                if (lk_time_parse(s, n, &t) == 0) {
                    char out[LK_TIME_SIZE];
                    lk_time_format(t, out);
                }
                break;
            }
        }
        json_decref(body);
    } else if (body != NULL) {
        abort(); /* an error must not hand out a body */
    }
    fz_req_free(&f);
    return 0;
}
