#!/usr/bin/env python3
"""
smtpsink.py — a real SMTP server for tests (Debian's python3-aiosmtpd),
writing each message it receives to DIR/<n>.eml (the raw RFC 5322 text as
received, plus an X-Envelope-From/-To header block first).

    python3 tests/lib/smtpsink.py --port PORT --dir DIR

As a library: SmtpSink().start() runs it as a child process (with whichever
python3 has aiosmtpd: this one, else /usr/bin/python3) on a free loopback
port; .messages() parses what arrived; .stop() ends it. Loopback only.
"""
import argparse
import email
import email.policy
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def _python_with_aiosmtpd():
    for py in (sys.executable, "/usr/bin/python3"):
        if py and subprocess.run([py, "-c", "import aiosmtpd"], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL).returncode == 0:
            return py
    return None


def available():
    return _python_with_aiosmtpd() is not None


class SmtpSink:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="lk-smtp-")
        self.port = None
        self.proc = None

    def start(self, timeout=10.0):
        py = _python_with_aiosmtpd()
        if py is None:
            raise RuntimeError("python3-aiosmtpd is not installed (scripts/deps.sh)")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.proc = subprocess.Popen([py, os.path.abspath(__file__), "--port", str(self.port),
                                      "--dir", self.dir], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as c:
                    if c.recv(512).startswith(b"220"):
                        return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("the SMTP sink did not start")

    @property
    def url(self):
        return "smtp://127.0.0.1:%d" % self.port

    def messages(self):
        """Every message so far, oldest first: (raw bytes, email.message)."""
        out = []
        for name in sorted(os.listdir(self.dir), key=lambda n: int(n.split(".")[0])):
            if not name.endswith(".eml"):
                continue
            with open(os.path.join(self.dir, name), "rb") as f:
                raw = f.read()
            out.append((raw, email.message_from_bytes(raw, policy=email.policy.default)))
        return out

    def wait_for(self, n, timeout=15.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            msgs = self.messages()
            if len(msgs) >= n:
                return msgs
            time.sleep(0.05)
        return self.messages()

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)


def _serve(port, out_dir):
    import asyncio
    from aiosmtpd.controller import Controller  # noqa: F401 (import check)
    from aiosmtpd.smtp import SMTP

    class Handler:
        def __init__(self):
            self.n = 0

        async def handle_DATA(self, server, session, envelope):
            self.n += 1
            head = "X-Envelope-From: %s\r\nX-Envelope-To: %s\r\n" % (
                envelope.mail_from, ",".join(envelope.rcpt_tos))
            data = envelope.original_content or envelope.content
            if isinstance(data, str):
                data = data.encode("utf-8")
            tmp = os.path.join(out_dir, "%d.tmp" % self.n)
            with open(tmp, "wb") as f:
                f.write(head.encode() + data)
            os.rename(tmp, os.path.join(out_dir, "%d.eml" % self.n))
            return "250 OK"

    handler = Handler()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(loop.create_server(
        lambda: SMTP(handler, enable_SMTPUTF8=True, decode_data=False), "127.0.0.1", port))
    try:
        loop.run_forever()
    finally:
        server.close()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--dir", required=True)
    a = ap.parse_args()
    _serve(a.port, a.dir)
