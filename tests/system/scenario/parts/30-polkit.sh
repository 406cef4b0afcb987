# shellcheck shell=bash disable=SC2154  # here: run-scenario sets it
# polkit with real login sessions: jarrett (in the group) needs no password; mallory (not in
# it) is refused with --no-ask-password, and gets in when an administrator answers the agent.

check_output "jarrett's commands run in a logind session" '^Name=jarrett' \
    su -l jarrett -c 'loginctl show-session "$XDG_SESSION_ID" -p Name -p Class -p Type'
check_output "mallory's commands run in a logind session" '^Name=mallory' \
    su -l mallory -c 'loginctl show-session "$XDG_SESSION_ID" -p Name -p Class -p Type'
check_output "mallory may read the status" "$VM" as mallory winvmctl --no-ask-password status

for args in "start" "snapshot create mallorys" "scrub start images" "kvmfr unload" \
    "kvmfr apply-permissions" "usb attach 256c:006d" "cpu plan --p 1 --apply" \
    "shares --set-virtiofsd /usr/lib/qemu/virtiofsd" "export" "define" "undo"; do
    # shellcheck disable=SC2086  # the words are the command's
    check_status "mallory is refused without a password: winvmctl $args" 3 as mallory winvmctl --no-ask-password $args
done
check "the guest is still off" test "$(vm_state)" = "shut off"

out=$(su -l mallory -c "$(printf '%q' "$here/mallory-with-agent.sh")" 2>"$STATE/mallory-agent.log")
for want in "start-with-password 0" "force-stop-without-agent 3" "force-stop-with-password 0"; do
    if grep -qx "$want" <<<"$out"; then
        ok "mallory with an administrator's password: ${want% *} exits ${want##* }"
    else
        not_ok "mallory with an administrator's password: ${want% *} exits ${want##* }" \
            "steps: $(tr '\n' ' ' <<<"$out")" "$(tail -n 20 "$STATE/mallory-agent.log")"
    fi
done
check "the guest is off after mallory's steps" wait_for 10 vm_is "shut off"
