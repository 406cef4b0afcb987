#!/usr/bin/env bash
# The interface XML in dbus/ is the contract: the running winvmd must serve exactly it.
set -uo pipefail
. "$WINVM_SRC/tests/sandbox/sandbox-lib.sh"
# shellcheck source=tests/integration/lib.sh
. "$WINVM_SRC/tests/integration/lib.sh"

out=$("$WINVM_BUILD/tests/tools/introspect-diff" \
        /org/winvm1 "$WINVM_SRC/dbus/org.winvm1.Manager.xml" \
        /org/winvm1/vm/Windows11 "$WINVM_SRC/dbus/org.winvm1.VM.xml" \
        /org/winvm1/storage "$WINVM_SRC/dbus/org.winvm1.Storage.xml" \
        /org/winvm1/host "$WINVM_SRC/dbus/org.winvm1.Host.xml")
rc=$?
printf '%s\n' "$out"
assert_eq 0 "$rc" "introspection of /org/winvm1 and /org/winvm1/vm/Windows11 matches dbus/*.xml"

# busctl shows the documented members to a person, too.
listing=$(busctl --system introspect org.winvm1 /org/winvm1/vm/Windows11)
for member in .Start .Shutdown .ForceStop .Reboot .Name .UUID .State .StateReason .Autostart .VCPUs .MemoryMiB; do
    assert_contains "$listing" "$member " "busctl introspect lists $member"
done

# The ObjectManager lists the VM with its interface.
objects=$(busctl --system call org.winvm1 /org/winvm1 org.freedesktop.DBus.ObjectManager GetManagedObjects)
assert_contains "$objects" '"/org/winvm1/vm/Windows11"' "GetManagedObjects lists the VM"
assert_contains "$objects" '"org.winvm1.VM"' "GetManagedObjects carries org.winvm1.VM"

# The listing is winvmd's own: object for object and interface for interface it must say
# what introspection and GetAll say, also with a job (a shutdown the guest ignores) listed.
CHECK_LISTING=$WINVM_SRC/tests/tools/check-object-listing
out=$("$CHECK_LISTING" /org/winvm1/host /org/winvm1/storage "$VM_PATH" 2>&1)
assert_eq 0 "$?" "GetManagedObjects matches introspection and GetAll, object by object ($out)"

monitor_start || exit 1
guest_start jarrett
run_as jarrett busctl --system --timeout=60 call org.winvm1 "$VM_PATH" org.winvm1.VM Shutdown ub 30 false >/dev/null 2>&1 &
shutdown_call=$!
if wait_signal 15 /org/winvm1 "InterfacesAdded \(objectpath '(/org/winvm1/job/[0-9]+)', \{'org.winvm1.Job'"; then
    job=${BASH_REMATCH[1]} # the regex's group, from wait_signal's match
    ok "InterfacesAdded announces the shutdown's job $job with org.winvm1.Job"
    out=$("$CHECK_LISTING" /org/winvm1/host /org/winvm1/storage "$VM_PATH" "$job" 2>&1)
    assert_eq 0 "$?" "GetManagedObjects lists the job too, as GetAll says ($out)"
else
    fail "InterfacesAdded announces the shutdown's job" "$(tail -n 5 "$MONITOR_LOG")"
fi
guest_destroy
wait "$shutdown_call"
monitor_stop

# The checker itself must notice a difference: feed it a tampered contract.
tampered="$WINVM_SANDBOX/tampered.xml"
sed 's/name="ForceStop"/name="ForceStopNow"/' "$WINVM_SRC/dbus/org.winvm1.VM.xml" > "$tampered"
"$WINVM_BUILD/tests/tools/introspect-diff" /org/winvm1/vm/Windows11 "$tampered" > /dev/null
assert_eq 1 "$?" "introspect-diff fails on a contract that differs"

summary
