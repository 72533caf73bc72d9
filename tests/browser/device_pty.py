#!/usr/bin/env python3
"""device_pty.py — run a command on a pseudo-terminal (so `latchkey login`
sees a person's terminal), copy everything it writes to our stdout, and exit
with its exit status. Used by dashboard.test.mjs's device sign-in tests:

    python3 device_pty.py /path/to/latchkey login
"""
import os
import pty
import sys

pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
while True:
    try:
        data = os.read(fd, 65536)
    except OSError:  # EIO: the child closed the terminal
        break
    if not data:
        break
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
