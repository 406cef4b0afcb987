#!/usr/bin/env bash
# Runs in one login session of mallory, who is not in winvm's group, at a terminal: winvmctl
# starts polkit's text agent, an administrator types the password, and auth_admin_keep keeps
# it for the rest of the session. Prints one line per step: NAME EXIT-STATUS.
here=$(dirname "$(readlink -f "$0")")
step() { local name=$1; shift; "$@" >&2; echo "$name $?"; }
at_terminal() { "$here/answer-password.py" winvm-admin "$@"; }
step start-with-password at_terminal winvmctl start
step force-stop-without-agent winvmctl --no-ask-password force-stop
step force-stop-with-password at_terminal winvmctl force-stop
step start-kept winvmctl --no-ask-password start
step force-stop-kept winvmctl --no-ask-password force-stop
