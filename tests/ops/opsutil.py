"""
opsutil.py — shared by tests/ops: a server with a metrics listener, scrapes
parsed into {series: value}, promtool, and quick scenario helpers.
"""
import http.client
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import lkserver  # noqa: E402
from lkserver import Client, Server, free_port  # noqa: E402,F401

BACKEND = os.environ.get("LK_BACKEND", "sqlite")
SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{(?:[^"}]|"(?:[^"\\]|\\.)*")*\})?) (\S+)$')


def metrics_server(args=(), env=None):
    """A started server with --metrics-listen on its own free port; .metrics_url set."""
    mport = free_port()
    srv = Server(backend=BACKEND, args=["--metrics-listen", "127.0.0.1:%d" % mport] + list(args),
                 env=env)
    srv.metrics_port = mport
    srv.metrics_url = "http://127.0.0.1:%d" % mport
    try:
        srv.start()
    except Exception:
        srv.cleanup()
        raise
    return srv


def scrape_raw(srv, path="/metrics", method="GET"):
    """(status, headers dict lower-cased, body text) from the metrics listener."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.metrics_port, timeout=30)
    try:
        conn.request(method, path)
        r = conn.getresponse()
        body = r.read().decode("utf-8")
        return r.status, {k.lower(): v for k, v in r.getheaders()}, body
    finally:
        conn.close()


def parse(text):
    """{series: float} of every sample line; comments skipped."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE_RE.match(line)
        assert m, "not a sample line: %r" % line
        out[m.group(1)] = float(m.group(2))
    return out


def scrape(srv):
    status, _, body = scrape_raw(srv)
    assert status == 200, (status, body[:200])
    return parse(body)


def promtool_check(text):
    """(ok, output) of `promtool check metrics` on text."""
    p = subprocess.run(["promtool", "check", "metrics"], input=text.encode(), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    return p.returncode == 0, p.stdout.decode("utf-8", "replace")


def req_series(method, route, status):
    return 'latchkey_http_requests_total{method="%s",route="%s",status="%s"}' % (method, route, status)


def auth_series(outcome):
    return 'latchkey_auth_total{outcome="%s"}' % outcome


def delta(before, after, series):
    return after.get(series, 0.0) - before.get(series, 0.0)


def user_with_key(srv, **key_fields):
    """A logged-in Client and a new personal key's (id, token)."""
    c = lkserver.new_user(srv.url)
    body = {"name": "k-%d" % int(time.time() * 1000)}
    body.update(key_fields)
    r = c.post("/v1/me/access-keys", body)
    assert r.status == 201, r
    return c, r.json["id"], r.json["token"]


def wait_for(pred, timeout=10.0, step=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()
