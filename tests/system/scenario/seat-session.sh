#!/usr/bin/env bash
# Runs as mallory (not in winvm's group) in the active session on seat0 (autologin on tty1),
# started by her ~/.bash_profile. The policy's defaults depend on that: snapshot.create is
# auth_admin_keep in an active session and auth_admin elsewhere, so the administrator's
# password, typed once, is kept here. Writes NAME EXIT-STATUS lines, then "done".
here=$(dirname "$(readlink -f "$0")")
out=$HOME/seat-results
: >"$out.log"
step() { local name=$1; shift; "$@" >>"$out.log" 2>&1; echo "$name $?" >>"$out"; }
step session-active loginctl show-session "$XDG_SESSION_ID" -p Active --value
loginctl show-session "$XDG_SESSION_ID" -p Active -p Seat -p Type >>"$out.log"
step create-with-password "$here/answer-password.py" winvm-admin winvmctl snapshot create seat-one
step create-kept winvmctl --no-ask-password snapshot create seat-two
echo done >>"$out"
