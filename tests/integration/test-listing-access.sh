#!/usr/bin/env bash
# GetManagedObjects shows every VM, so it checks each VM's org.winvm1.vm.read with that VM's
# `vm` detail, as a Get on the VM does: an administrator's rule that hides the guest from
# mallory hides it from her listing too, while her reads of the storage are still served.
set -uo pipefail
# shellcheck source=tests/sandbox/sandbox-lib.sh
. "$WINVM_SRC/tests/sandbox/sandbox-lib.sh"
# shellcheck source=tests/integration/lib.sh
. "$WINVM_SRC/tests/integration/lib.sh"

RULE=/etc/polkit-1/rules.d/10-hide-guest.rules
LIST=(org.freedesktop.DBus.ObjectManager.GetManagedObjects)

call mallory "$MANAGER_PATH" "${LIST[@]}"
assert_call_ok "without the rule: mallory lists the objects"
assert_contains "$CALL_OUT" "$VM_PATH" "and sees the guest"

# The sandbox's rules folder is private to it; polkitd reloads it when a file changes.
cat >"$RULE" <<EOF
polkit.addRule(function(action, subject) {
    if (action.id == "org.winvm1.vm.read" && action.lookup("vm") == "$GUEST" && subject.user == "mallory")
        return polkit.Result.NO;
});
EOF
chmod 0644 "$RULE"
# shellcheck disable=SC2016  # evaluated by wait_until
wait_until 10 eval '! run_as mallory gdbus call --system --dest org.winvm1 --object-path "$VM_PATH" --method org.freedesktop.DBus.Properties.Get org.winvm1.VM State >/dev/null 2>&1'
call mallory "$VM_PATH" org.freedesktop.DBus.Properties.Get org.winvm1.VM State
assert_call_error org.freedesktop.DBus.Error.AccessDenied "with the rule: mallory's Get of the guest's State is refused"
call mallory "$MANAGER_PATH" "${LIST[@]}"
assert_call_error org.freedesktop.DBus.Error.AccessDenied "with the rule: mallory's listing is refused too"
assert_contains "$CALL_MSG" "org.winvm1.vm.read on VM $GUEST" "naming the action and the VM"
call mallory /org/winvm1/storage org.freedesktop.DBus.Properties.Get org.winvm1.Storage Filesystems
assert_call_ok "with the rule: mallory still reads the storage"
call jarrett "$MANAGER_PATH" "${LIST[@]}"
assert_call_ok "with the rule: jarrett lists the objects"
assert_contains "$CALL_OUT" "$VM_PATH" "and sees the guest"

rm -f "$RULE"
# shellcheck disable=SC2016  # evaluated by wait_until
wait_until 10 eval 'run_as mallory gdbus call --system --dest org.winvm1 --object-path "$MANAGER_PATH" --method org.freedesktop.DBus.ObjectManager.GetManagedObjects >/dev/null 2>&1'
call mallory "$MANAGER_PATH" "${LIST[@]}"
assert_call_ok "the rule removed: mallory lists the objects again"
summary
