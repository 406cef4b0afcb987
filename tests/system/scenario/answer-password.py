#!/usr/bin/env python3
"""Runs CMD on a pseudo-terminal, as a person at a terminal would, and answers a password
prompt on it (polkit's text agent, which winvmctl starts at a terminal) with PASSWORD.
Copies what CMD prints to stderr and exits with CMD's status.

    answer-password.py PASSWORD CMD...

The agent turns echo off after printing the prompt, and that may discard what was typed
already: the password goes a moment after the prompt, and again if nothing follows.
CMD is killed after DEADLINE seconds (environment ANSWER_DEADLINE, default 300).
"""
import os
import pty
import signal
import select
import sys
import time

password, cmd = sys.argv[1], sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(cmd[0], cmd)

deadline = time.monotonic() + float(os.environ.get("ANSWER_DEADLINE", "300"))
recent = b""  # the last bytes seen: a prompt may arrive in two reads
prompt_at = None  # when the prompt waiting for an answer came
typed = 0
while True:
    if time.monotonic() > deadline:
        sys.stderr.write("answer-password: deadline passed, killing %s\n" % cmd[0])
        os.kill(pid, signal.SIGKILL)
        break
    readable, _, _ = select.select([fd], [], [], 0.5)
    if readable:
        try:
            data = os.read(fd, 4096)
        except OSError:  # EIO: the terminal's last user is gone
            break
        if not data:
            break
        sys.stderr.write(data.decode(errors="replace"))
        recent = (recent + data)[-64:]
        if b"Password:" in recent:
            prompt_at = time.monotonic()
            recent = b""
        elif b"AUTHENTICATION" in recent:  # ==== AUTHENTICATION COMPLETE (or FAILED) ====
            prompt_at = None
            recent = b""
    if prompt_at is not None and typed < 4 and time.monotonic() - prompt_at >= 1.0 + 5.0 * typed:
        os.write(fd, (password + "\n").encode())
        typed += 1
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
