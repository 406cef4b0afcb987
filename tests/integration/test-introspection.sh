#!/usr/bin/env bash
# The interface XML in dbus/ is the contract: the running winvmd must serve exactly it.
set -uo pipefail
. "$WINVM_SRC/tests/sandbox/sandbox-lib.sh"

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

# The checker itself must notice a difference: feed it a tampered contract.
tampered="$WINVM_SANDBOX/tampered.xml"
sed 's/name="ForceStop"/name="ForceStopNow"/' "$WINVM_SRC/dbus/org.winvm1.VM.xml" > "$tampered"
"$WINVM_BUILD/tests/tools/introspect-diff" /org/winvm1/vm/Windows11 "$tampered" > /dev/null
assert_eq 1 "$?" "introspect-diff fails on a contract that differs"

summary
