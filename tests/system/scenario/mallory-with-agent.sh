#!/usr/bin/env bash
# Runs in a login session of mallory, who is not in winvm's group, at a terminal: winvmctl
# starts polkit's text agent and an administrator types the password. (polkit keeps an
# auth_admin_keep answer for the calling process only, so each winvmctl asks again.)
# Prints one line per step: NAME EXIT-STATUS.
here=$(dirname "$(readlink -f "$0")")
step() { local name=$1; shift; "$@" >&2; echo "$name $?"; }
at_terminal() { "$here/answer-password.py" winvm-admin "$@"; }
step start-with-password at_terminal winvmctl start
step force-stop-without-agent winvmctl --no-ask-password force-stop
step force-stop-with-password at_terminal winvmctl force-stop
