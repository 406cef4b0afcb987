# shellcheck shell=bash disable=SC2154  # here: run-scenario sets it
# polkit in an active seat session: mallory logs in on tty1 (autologin), where
# snapshot.create is auth_admin_keep; in her other sessions (su, no seat) it is auth_admin.

mkdir -p /etc/systemd/system/getty@tty1.service.d
printf '[Service]\nExecStart=\nExecStart=-/sbin/agetty --autologin mallory --noclear %%I $TERM\n' \
    >/etc/systemd/system/getty@tty1.service.d/autologin.conf
printf '[ "$(tty)" = /dev/tty1 ] && [ ! -e ~/seat-results ] && %s/seat-session.sh\n' "$here" >>/home/mallory/.bash_profile
chown mallory: /home/mallory/.bash_profile
systemctl daemon-reload
systemctl restart getty@tty1.service
seat_done() { grep -qx 'done' /home/mallory/seat-results 2>/dev/null; }
if wait_for 90 seat_done; then
    ok "mallory's tty1 session ran its steps"
else
    not_ok "mallory's tty1 session ran its steps" "$(cat /home/mallory/seat-results.log 2>/dev/null | tail -n 20)" \
        "$(loginctl list-sessions --no-legend)"
fi
check_output "loginctl: mallory has a session on seat0" 'mallory +seat0' loginctl list-sessions --no-legend
check_output "loginctl: that session is active" 'Active=yes' cat /home/mallory/seat-results.log
check_output "active seat session: polkit keeps an administrator's password (auth_admin_keep)" \
    '^polkit(\.|\\56)retains_authorization_after_challenge=1' cat /home/mallory/seat-pkcheck
if grep -qx "create-with-password 0" /home/mallory/seat-results 2>/dev/null; then
    ok "active seat session: snapshot create with the administrator's password"
else
    not_ok "active seat session: snapshot create with the administrator's password" \
        "$(tail -n 20 /home/mallory/seat-results.log 2>/dev/null)"
fi
# In a session without a seat the same action is auth_admin: the password is asked each time.
pk=$(su -l mallory -c 'pkcheck --action-id org.winvm1.snapshot.create --process $$; echo "rc=$?"' 2>&1)
if grep -qx 'rc=2' <<<"$pk" && ! grep -q retains_authorization_after_challenge <<<"$pk"; then
    ok "a session without a seat: polkit asks for authentication and keeps nothing (auth_admin)"
else
    not_ok "a session without a seat: polkit asks for authentication and keeps nothing (auth_admin)" "$pk"
fi
check "a session without a seat: snapshot create with the administrator's password" \
    su -l mallory -c "$(printf '%q' "$here/answer-password.py") winvm-admin winvmctl snapshot create su-one"
for s in seat-one su-one; do wctl snapshot delete "$s" >/dev/null 2>&1; done
check "the snapshots mallory made are deleted again" snapshots_lack 'seat-|su-'
