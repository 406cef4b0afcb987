#!/usr/bin/env python3
"""Runs CMD on a pseudo-terminal, as a person at a terminal would, and answers a password
prompt on it (polkit's text agent, which winvmctl starts at a terminal) with PASSWORD.
Copies what CMD prints to stderr and exits with CMD's status.

    answer-password.py PASSWORD CMD...
"""
import os
import pty
import sys

password, cmd = sys.argv[1], sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(cmd[0], cmd)

seen = b""
answered = False
while True:
    try:
        data = os.read(fd, 4096)
    except OSError:  # EIO: the terminal's last user is gone
        break
    if not data:
        break
    seen += data
    sys.stderr.write(data.decode(errors="replace"))
    if not answered and b"Password:" in seen:
        os.write(fd, (password + "\n").encode())
        answered = True
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
