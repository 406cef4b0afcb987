#!/usr/bin/env bash
# Runs as mallory (not in winvm's group) in the active session on seat0 (autologin on tty1),
# started by her ~/.bash_profile. The policy's defaults depend on that: snapshot.create is
# auth_admin_keep in an active session and auth_admin elsewhere, as pkcheck's answer shows.
# Writes NAME EXIT-STATUS lines, then "done".
here=$(dirname "$(readlink -f "$0")")
out=$HOME/seat-results
: >"$out.log"
step() { local name=$1; shift; "$@" >>"$out.log" 2>&1; echo "$name $?" >>"$out"; }
loginctl show-session "$XDG_SESSION_ID" -p Active -p Seat -p Type >>"$out.log"
pkcheck --action-id org.winvm1.snapshot.create --process $$ >"$HOME/seat-pkcheck" 2>&1
step create-with-password "$here/answer-password.py" winvm-admin winvmctl snapshot create seat-one
echo "done" >>"$out"
