#!/usr/bin/env python3
"""
tests/routes/run.py — the HTTP layer of latchkeyd, against the real binary.

1. The route table (`latchkeyd --print-routes`) and docs/openapi.yaml list
   exactly the same set of (method, path) pairs.
2. HTTP-layer behaviour that is the same for every endpoint: 404/405 with
   Allow, path hygiene, the error shape and its headers, body rules (413,
   415, invalid_json, field types), credentials (Bearer vs cookie, CSRF,
   duplicate/over-long Authorization), the session cookie's attributes,
   the dashboard's security headers, h2o's own 413 in the JSON shape, the
   access log (no secrets), clients hanging up during a deferred login, and
   a graceful SIGTERM that still answers a request already sent.
3. main.c's flags are exact (no getopt_long abbreviations, stray words
   refused, each usage error one line and exit 2).
4. scripts/include_graph.py: src/'s #include graph is acyclic and rooms
   point one way — and the check fails on a copy with a cycle or a lower
   room including a higher one.

Usage: run.py [--backend sqlite|pg] [-k SUBSTRING]... (tests/lib/lktestrun.py's
flags). Needs the Python module yaml. Last line: RESULT <passed> <failed>.
"""
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import lkserver  # noqa: E402
import lktestrun  # noqa: E402

ROOT = lkserver.ROOT
FAKE = {"org_id": "org_" + "A" * 20, "user_id": "usr_" + "A" * 20, "project_id": "prj_" + "A" * 20,
        "environment_id": "env_" + "A" * 20, "key_id": "key_" + "A" * 20}
PASSWORD = "correct horse battery"

results = []


def test(fn):
    results.append(fn)
    return fn


def router_routes():
    out = subprocess.run([lkserver.LATCHKEYD, "--print-routes"], check=True, capture_output=True,
                         text=True).stdout
    routes = set()
    for line in out.splitlines():
        m, p = line.split(" ", 1)
        routes.add((m, p))
    return routes


def openapi_routes():
    import yaml
    with open(os.path.join(ROOT, "docs", "openapi.yaml")) as f:
        doc = yaml.safe_load(f)
    routes = set()
    for path, item in doc["paths"].items():
        for m in item:
            if m in ("get", "put", "post", "patch", "delete", "head", "options"):
                routes.add((m.upper(), path))
    return routes, doc


def fill(pattern):
    return re.sub(r"\{(\w+)\}", lambda m: FAKE[m.group(1)], pattern)


# --- 1. route table == openapi ---------------------------------------------------

@test
def t_routes_match_openapi(ctx):
    r = router_routes()
    o, _ = openapi_routes()
    assert len(r) >= 30, r
    assert r == o, "only in router: %s; only in openapi: %s" % (sorted(r - o), sorted(o - r))


@test
def t_openapi_params_declared(ctx):
    _, doc = openapi_routes()
    for path, item in doc["paths"].items():
        names = set(re.findall(r"\{(\w+)\}", path))
        declared = set()
        for p in item.get("parameters", []):
            ref = p.get("$ref", "")
            declared.add(ref.rsplit("/", 1)[-1] if ref else p["name"])
        assert names <= declared, (path, names, declared)


# --- 2. HTTP behaviour -------------------------------------------------------------

@test
def t_unknown_path_404_json(ctx):
    c = lkserver.Client(ctx.url)
    for p in ("/v1/nope", "/v1", "/v1/whoami/", "/v1/organizations/org_x/projects"):
        r = c.get(p)
        assert r.status == 404 and r.code == "not_found", (p, r)
        assert r.header("Content-Type") == "application/json", r.headers


@test
def t_method_not_allowed_lists_allow(ctx):
    routes = router_routes()
    by_path = {}
    for m, p in routes:
        by_path.setdefault(p, set()).add(m)
    c = lkserver.Client(ctx.url)
    for p, methods in by_path.items():
        r = c.request("PUT", fill(p), body=b"{}")
        assert r.status == 405 and r.code == "method_not_allowed", (p, r)
        allow = {x.strip() for x in (r.header("Allow") or "").split(",")}
        want = set(methods) | ({"HEAD"} if "GET" in methods else set())
        assert allow == want, (p, allow, want)


@test
def t_malformed_ids_404(ctx):
    c = lkserver.Client(ctx.url, token=ctx.token)
    for p in ("/v1/organizations/org_short", "/v1/organizations/usr_" + "A" * 20,
              "/v1/organizations/%s/projects/org_%s" % (ctx.org, "A" * 20),
              "/v1/me/access-keys/key_" + "A" * 19 + "!"):
        r = c.get(p) if "access-keys" not in p else c.delete(p)
        assert r.status == 404 and r.code == "not_found", (p, r)


@test
def t_path_hygiene(ctx):
    bad = ["/v1/organizations/../whoami", "/v1/%2e%2e/whoami", "/v1/who%zzami", "/v1/whoami%00",
           "/v1/./whoami", "/v1/whoami%", "/v1/" + "a" * 3000]
    for p in bad:
        s = socket.create_connection(("127.0.0.1", ctx.srv.port), timeout=10)
        s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nConnection: close\r\n\r\n"
                   % (p, ctx.token)).encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
        status = int(data.split(b" ", 2)[1])
        assert status in (400, 404, 414), (p, data[:200])
        assert status != 200, p


@test
def t_api_headers(ctx):
    c = lkserver.Client(ctx.url, token=ctx.token)
    for r in (c.get("/v1/whoami"), c.get("/v1/nope"), c.get("/healthz")):
        assert r.header("X-Content-Type-Options") == "nosniff", r.headers
        assert r.header("Cache-Control") == "no-store", r.headers
        assert r.header("Content-Type") == "application/json", r.headers


@test
def t_health(ctx):
    c = lkserver.Client(ctx.url)
    r = c.get("/healthz")
    assert r.status == 200 and r.json == {"status": "ok"}, r
    assert c.get("/readyz").status == 200


@test
def t_401_shape_and_header(ctx):
    c = lkserver.Client(ctx.url)
    for h in ({}, {"Authorization": "Bearer lko_nope"}, {"Authorization": "Basic Zm9vOmJhcg=="},
              {"Authorization": "Bearer " + "a" * 5000}):
        r = c.get("/v1/whoami", headers=h)
        assert r.status == 401 and r.code == "unauthenticated", (h, r)
        assert r.header("WWW-Authenticate") == "Bearer", r.headers
        assert set(r.json["error"]) >= {"code", "message"}


@test
def t_duplicate_authorization_401(ctx):
    s = socket.create_connection(("127.0.0.1", ctx.srv.port), timeout=10)
    s.sendall(("GET /v1/whoami HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
               "Authorization: Bearer %s\r\nConnection: close\r\n\r\n" % (ctx.token, ctx.token)).encode())
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    assert data.startswith(b"HTTP/1.1 401"), data[:200]


@test
def t_bodies(ctx):
    c = lkserver.Client(ctx.url, token=ctx.token)
    p = "/v1/organizations/%s/projects" % ctx.org
    r = c.post(p, body=b'{"name":"x"}', content_type="text/plain")
    assert r.status == 415 and r.code == "unsupported_media_type", r
    r = c.post(p, body=b'{"name":', content_type="application/json")
    assert r.status == 400 and r.code == "invalid_json", r
    r = c.post(p, body=b'[1,2]', content_type="application/json")
    assert r.status == 400 and r.code == "invalid_json", r
    r = c.post(p, json={"name": 42})
    assert r.status == 400 and r.code == "validation_failed" and r.json["error"]["field"] == "name", r
    r = c.post(p, json={})
    assert r.status == 400 and r.json["error"].get("field") == "name", r
    big = json.dumps({"name": "x" * (65 * 1024)}).encode()
    r = c.post(p, body=big)
    assert r.status == 413 and r.code == "payload_too_large", r
    r = c.post(p, json={"name": "ok", "unknown": [1, {"a": 2}]}, headers={"Content-Type": "application/json; charset=utf-8"})
    assert r.status == 201, r
    assert set(r.json) == {"id", "name", "organization_id", "created_at"}, r.json


@test
def t_h2o_413_is_json(ctx):
    # Content-Length far over h2o's own cap, no body sent: answered at once,
    # in the API's error shape (not h2o's text page).
    s = socket.create_connection(("127.0.0.1", ctx.srv.port), timeout=10)
    s.sendall(b"POST /v1/organizations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: 100000000\r\n\r\n")
    data = b""
    while b"}}" not in data:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), data[:300]
    assert b"content-type: application/json" in head.lower(), head
    assert json.loads(body)["error"]["code"] == "payload_too_large", body


@test
def t_query_caps(ctx):
    c = lkserver.Client(ctx.url, token=ctx.token)
    assert c.get("/v1/organizations?limit=1000").status == 200
    for q in ("limit=0", "limit=1001", "limit=abc", "limit=" + "9" * 30):
        r = c.get("/v1/organizations?" + q)
        assert r.status == 400 and r.json["error"].get("field") == "limit", (q, r)
    r = c.get("/v1/organizations?x=" + "y" * 5000)
    assert r.status == 400, r


@test
def t_session_cookie_and_csrf(ctx):
    c = lkserver.Client(ctx.url)
    r = c.post("/v1/auth/login", {"email": ctx.email, "password": PASSWORD})
    assert r.status == 200 and set(r.json) == {"user", "csrf_token"}, r
    sc = r.header("Set-Cookie")
    assert sc.startswith("latchkey_session="), sc
    attrs = {a.strip().split("=")[0].lower() for a in sc.split(";")[1:]}
    assert {"httponly", "path", "samesite"} <= attrs and "secure" not in attrs, sc
    assert "samesite=strict" in sc.lower() and "path=/" in sc.lower(), sc
    c.csrf = r.json["csrf_token"]
    s = c.get("/v1/auth/session")
    assert s.status == 200 and s.json["csrf_token"] == c.csrf, s
    assert c.get("/v1/whoami").json["principal"] == "user"
    r = c.post("/v1/organizations", {"name": "no csrf"}, csrf=False)
    assert r.status == 403 and r.code == "forbidden", r
    r = c.post("/v1/organizations", {"name": "bad csrf"}, csrf=False, headers={"X-CSRF-Token": "x" * 43})
    assert r.status == 403, r
    r = c.post("/v1/organizations", {"name": "with csrf"})
    assert r.status == 201, r
    # Bearer wins over the cookie: a bad bearer is 401 even with a live cookie.
    r = c.get("/v1/whoami", token="lkp_" + "a" * 38)
    assert r.status == 401, r
    # and a good bearer needs no CSRF even with the cookie present
    r = c.post("/v1/organizations/%s/projects" % ctx.org, {"name": "p"}, csrf=False, token=ctx.token)
    assert r.status == 201, r
    r = c.post("/v1/auth/logout", csrf=False)
    assert r.status == 403 and r.code == "forbidden", r
    assert c.get("/v1/auth/session").status == 200
    r = c.post("/v1/auth/logout")
    assert r.status == 204, r
    assert "max-age=0" in (r.header("Set-Cookie") or "").lower(), r.headers
    assert c.get("/v1/auth/session").status == 401


@test
def t_dashboard_headers(ctx):
    c = lkserver.Client(ctx.url)
    r = c.get("/")
    if r.status == 404:
        raise AssertionError("no dashboard built in")
    assert r.status == 200, r
    csp = r.header("Content-Security-Policy") or ""
    for part in ("default-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "script-src 'self'"):
        assert part in csp, csp
    assert r.header("X-Frame-Options") == "DENY"
    assert r.header("Referrer-Policy") == "no-referrer"
    assert r.header("X-Content-Type-Options") == "nosniff"
    r = c.post("/", body=b"", content_type=None)
    assert r.status in (404, 405), r


@test
def t_dashboard_etag_304(ctx):
    c = lkserver.Client(ctx.url)
    r = c.get("/")
    assert r.status == 200, r
    etag = r.header("ETag")
    assert etag and re.fullmatch(r'"[0-9a-f]{16}"', etag), r.headers
    assert r.header("Cache-Control") == "no-cache", r.headers
    for inm in (etag, 'W/' + etag, '"0000000000000000", ' + etag, "*"):
        r = c.get("/", headers={"If-None-Match": inm})
        assert r.status == 304, (inm, r)
        assert r.body == "", r.body
        assert r.header("ETag") == etag and r.header("Cache-Control") == "no-cache", r.headers
    r = c.get("/", headers={"If-None-Match": '"0000000000000000"'})
    assert r.status == 200 and r.body and r.header("ETag") == etag, r
    r = c.get("/js/app.js")
    assert r.status == 200 and r.header("ETag") not in (None, etag), r.headers
    assert c.get("/js/app.js", headers={"If-None-Match": etag}).status == 200
    # after a 304 the keep-alive connection still serves the next request
    s = socket.create_connection(("127.0.0.1", ctx.srv.port), timeout=10)
    try:
        s.sendall(("GET / HTTP/1.1\r\nHost: x\r\nIf-None-Match: %s\r\n\r\n"
                   "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % etag).encode())
        buf = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    finally:
        s.close()
    assert buf.startswith(b"HTTP/1.1 304 "), buf[:200]
    head, _, rest = buf.partition(b"\r\n\r\n")
    assert b"content-length" not in head.lower(), head
    assert rest.startswith(b"HTTP/1.1 200 ") and rest.endswith(b'{"status":"ok"}'), rest[:300]


@test
def t_access_log_has_no_secrets(ctx):
    c = lkserver.Client(ctx.url, token=ctx.token)
    c.get("/v1/whoami?secret=querystring")
    # Lines are written after the loop iteration that answered: wait for it.
    deadline = time.time() + 10
    while True:
        log = ctx.srv.log_text()
        if re.search(r"^GET /v1/whoami 200 \d+\.\d{3}ms$", log, re.M) or time.time() > deadline:
            break
        time.sleep(0.05)
    assert re.search(r"^GET /v1/whoami 200 \d+\.\d{3}ms$", log, re.M), log[-500:]
    assert ctx.token not in log and PASSWORD not in log and "querystring" not in log
    assert "latchkey_session=" not in log and ctx.csrf not in log


@test
def t_sigterm_finishes_inflight_login(ctx):
    srv = lkserver.Server(backend=ctx.backend).start()
    try:
        c = lkserver.Client(srv.url)
        c.signup("z@example.com", PASSWORD)
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
        conn.request("GET", "/healthz")
        conn.getresponse().read()
        body = json.dumps({"email": "z@example.com", "password": PASSWORD})
        conn.request("POST", "/v1/auth/login", body=body, headers={"Content-Type": "application/json"})
        srv.proc.send_signal(signal.SIGTERM)
        r = conn.getresponse()
        assert r.status == 200, r.status
        assert "csrf_token" in json.loads(r.read())
        assert srv.proc.wait(20) == 0
        assert "stopped" in srv.log_text()
    finally:
        srv.cleanup()


@test
def t_client_gone_during_login(ctx):
    # Clients that hang up while a worker runs their login: the server drops
    # the result (no write to a freed request — the sanitizer build checks
    # that) and keeps serving.
    body = json.dumps({"email": ctx.email, "password": PASSWORD}).encode()
    req = (b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
           b"Content-Length: %d\r\n\r\n" % len(body)) + body
    for _ in range(20):
        s = socket.create_connection(("127.0.0.1", ctx.srv.port), timeout=10)
        s.sendall(req)
        s.close()
    c = lkserver.Client(ctx.url)
    assert c.get("/healthz").status == 200
    r = c.post("/v1/auth/login", {"email": ctx.email, "password": PASSWORD})
    assert r.status == 200, r


@test
def t_bad_flags(ctx):
    for args in (["--bogus"], ["--signup", "maybe"], ["--threads", "0"], ["--listen", "nope"],
                 ["--listen", "127.0.0.1:1", "--database", "mysql://x"]):
        p = subprocess.run([lkserver.LATCHKEYD] + args, capture_output=True, text=True, timeout=20)
        assert p.returncode != 0, (args, p)
        assert p.stderr.strip() and "latchkeyd" in p.stderr, (args, p.stderr)
    p = subprocess.run([lkserver.LATCHKEYD, "--version"], capture_output=True, text=True)
    assert p.returncode == 0 and p.stdout.startswith("latchkeyd "), p
    p = subprocess.run([lkserver.LATCHKEYD, "--help"], capture_output=True, text=True)
    assert p.returncode == 0 and "--listen" in p.stdout and "--threads" in p.stdout, p


@test
def t_flags_exact(ctx):
    """getopt_long's extras are not accepted: abbreviations and stray words
    are unknown options, a missing value is named; all exit 2."""
    cases = [(["--lis", "127.0.0.1:1"], "unknown option '--lis'"),
             (["--lis"], "unknown option '--lis'"),
             (["-xh"], "unknown option '-x'"),
             (["--threads=1", "stray"], "unknown option 'stray'"),
             (["--listen"], "--listen needs a value"),
             (["--listen="], "must not be empty"),
             (["--threads", "257"], "from 1 to 256"),
             (["--tls-cert", "x.pem"], "go together")]
    for args, msg in cases:
        p = subprocess.run([lkserver.LATCHKEYD] + args, capture_output=True, text=True, timeout=20)
        assert p.returncode == 2, (args, p)
        assert msg in p.stderr and p.stderr.count("\n") == 1, (args, p.stderr)
    p = subprocess.run([lkserver.LATCHKEYD, "-h"], capture_output=True, text=True)
    assert p.returncode == 0 and "--listen" in p.stdout, p


@test
def t_include_graph(ctx):
    """scripts/include_graph.py passes on src/ and fails on a copy with a
    cycle or with a lower room including a higher one."""
    import shutil
    import tempfile
    script = os.path.join(ROOT, "scripts", "include_graph.py")
    p = subprocess.run([sys.executable, script, os.path.join(ROOT, "src")], capture_output=True,
                       text=True)
    assert p.returncode == 0 and "acyclic" in p.stdout, p.stdout + p.stderr
    for victim, line in (("server/router.h", '#include "api.h"\n'),
                         ("common/err.h", '#include "service.h"\n'),
                         ("server/store/store.h", '#include "service.h"\n')):
        with tempfile.TemporaryDirectory() as tmp:
            src = os.path.join(tmp, "src")
            shutil.copytree(os.path.join(ROOT, "src"), src)
            with open(os.path.join(src, victim), "a") as f:
                f.write(line)
            p = subprocess.run([sys.executable, script, src], capture_output=True, text=True)
            assert p.returncode == 1 and "include graph:" in p.stdout, (victim, p.stdout)


class Ctx:
    pass


def main():
    args = lktestrun.parse_args(__doc__)
    problems = lktestrun.preflight(args.backend, modules=("yaml",))  # docs/openapi.yaml
    if problems:
        return lktestrun.refuse("routes", problems)
    ctx = Ctx()
    ctx.backend = args.backend
    passed = failed = 0
    ctx.srv = lkserver.Server(backend=args.backend, args=["--threads", "2"]).start()
    try:
        ctx.url = ctx.srv.url
        ctx.email = "routes@example.com"
        u = lkserver.new_user(ctx.url, email=ctx.email, password=PASSWORD)
        ctx.csrf = u.csrf
        ctx.org = u.post("/v1/organizations", {"name": "Routes"}).json["id"]
        ctx.token = u.post("/v1/organizations/%s/access-keys" % ctx.org, {"name": "t"}).json["token"]
        for fn in results:
            if args.k and not any(k in fn.__name__ for k in args.k):
                continue
            try:
                fn(ctx)
                passed += 1
                print("ok   %s" % fn.__name__)
            except Exception:
                failed += 1
                print("FAIL %s" % fn.__name__)
                traceback.print_exc(limit=3)
    finally:
        ctx.srv.cleanup()
    return lktestrun.report(passed, failed)


if __name__ == "__main__":
    sys.exit(main())
