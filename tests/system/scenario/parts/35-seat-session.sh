# shellcheck shell=bash
# polkit in an active seat session: mallory logs in on tty1 (autologin), where
# snapshot.create is auth_admin_keep; in her other sessions (su, no seat) it is auth_admin.

mkdir -p /etc/systemd/system/getty@tty1.service.d
printf '[Service]\nExecStart=\nExecStart=-/sbin/agetty --autologin mallory --noclear %%I $TERM\n' \
    >/etc/systemd/system/getty@tty1.service.d/autologin.conf
printf '[ "$(tty)" = /dev/tty1 ] && [ ! -e ~/seat-results ] && %s/seat-session.sh\n' "$here" >>/home/mallory/.bash_profile
chown mallory: /home/mallory/.bash_profile
systemctl daemon-reload
systemctl restart getty@tty1.service
seat_done() { grep -qx done /home/mallory/seat-results 2>/dev/null; }
if wait_for 90 seat_done; then
    ok "mallory's tty1 session ran its steps"
else
    not_ok "mallory's tty1 session ran its steps" "$(cat /home/mallory/seat-results.log 2>/dev/null | tail -n 20)" \
        "$(loginctl list-sessions --no-legend)"
fi
check_output "loginctl: mallory is active on seat0" 'mallory +seat0' loginctl list-sessions --no-legend
for want in "create-with-password 0" "create-kept 0"; do
    if grep -qx "$want" /home/mallory/seat-results 2>/dev/null; then
        ok "active seat session: ${want% *} exits ${want##* }"
    else
        not_ok "active seat session: ${want% *} exits ${want##* }" "$(tail -n 20 /home/mallory/seat-results.log 2>/dev/null)"
    fi
done
# The same two steps in a session without a seat: the password is not kept (auth_admin).
out=$(su -l mallory -c "$here/answer-password.py winvm-admin winvmctl snapshot create su-one >/dev/null 2>&1; echo \$?; winvmctl --no-ask-password snapshot create su-two >/dev/null 2>&1; echo \$?" | tr '\n' ' ')
check "a session without a seat: with the password 0, then refused without it 3" test "$out" = "0 3 "
for s in seat-one seat-two su-one; do wctl snapshot delete "$s" >/dev/null 2>&1; done
check "the snapshots mallory made are deleted again" bash -c "$(declare -f wctl); ! wctl snapshot list | grep -Eq 'seat-|su-'"
