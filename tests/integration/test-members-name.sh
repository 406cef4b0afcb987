#!/usr/bin/env bash
# org.winvm1.Members: winvmd's second name, with the same objects, that the bus policy lets
# only the polkit group (and root) call, so a member's calls never queue behind anyone else's.
#   - winvmd owns both names, on two connections of one process;
#   - jarrett (in the group) reads, starts and stops the guest through it; the state changes
#     are signalled from org.winvm1;
#   - mallory (not in the group) is refused by the bus for every method on it, the guest is
#     untouched, and org.winvm1 still answers him as before;
#   - winvmctl calls the members' name for jarrett and org.winvm1 for mallory;
#   - polkit still decides on the members' name: a change that needs an administrator is
#     refused to jarrett there too.
set -uo pipefail
# shellcheck source=tests/sandbox/sandbox-lib.sh
. "$WINVM_SRC/tests/sandbox/sandbox-lib.sh"
# shellcheck source=tests/integration/lib.sh
. "$WINVM_SRC/tests/integration/lib.sh"

MEMBERS=org.winvm1.Members

# mcall USER PATH IFACE.METHOD [ARGS...]: call() on the members' name.
mcall() { CALL_DEST=$MEMBERS call "$@"; }

bus_pid() {
    busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
        GetConnectionUnixProcessID s "$1" 2>/dev/null | awk '{print $2}'
}
bus_owner() {
    busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
        GetNameOwner s "$1" 2>/dev/null | awk '{print $2}' | tr -d '"'
}

test_owned() {
    local main members
    wait_until 10 test -n "$(bus_owner "$MEMBERS")"
    main=$(bus_owner org.winvm1) members=$(bus_owner "$MEMBERS")
    if [[ -n $members && $members != "$main" ]]; then
        ok "winvmd owns $MEMBERS on a second connection ($members beside $main)"
    else
        fail "winvmd owns $MEMBERS on a second connection" "org.winvm1: '$main', $MEMBERS: '$members'"
    fi
    assert_eq "$(bus_pid org.winvm1)" "$(bus_pid "$MEMBERS")" "both names belong to the one winvmd process"
}

test_member_calls() {
    mcall jarrett "$VM_PATH" org.freedesktop.DBus.Properties.Get org.winvm1.VM State
    assert_call_ok "jarrett reads the guest's State through $MEMBERS"
    assert_contains "$CALL_OUT" "'shutoff'" "and it is shutoff"
    mcall jarrett "$MANAGER_PATH" org.freedesktop.DBus.ObjectManager.GetManagedObjects
    assert_call_ok "jarrett lists the objects through $MEMBERS"
    assert_contains "$CALL_OUT" "$VM_PATH" "the listing holds the guest"
    mcall jarrett "$VM_PATH" org.winvm1.VM.Start
    assert_call_ok "jarrett starts the guest through $MEMBERS"
    expect_state running "the start is signalled from org.winvm1"
    assert_eq running "$(libvirt_state)" "libvirt runs the guest"
    mcall jarrett "$VM_PATH" org.winvm1.VM.ForceStop
    assert_call_ok "jarrett forces it off through $MEMBERS"
    expect_state shutoff "the stop is signalled"
}

# every_method: "PATH INTERFACE.METHOD" for each method of each object winvmd has, from
# its own introspection on org.winvm1 (so a new method is covered without editing this).
every_method() {
    local path
    for path in "$MANAGER_PATH" "$MANAGER_PATH/host" "$MANAGER_PATH/storage" "$VM_PATH"; do
        busctl --system --xml-interface introspect org.winvm1 "$path" | python3 -c '
import sys, xml.etree.ElementTree as E
for i in E.parse(sys.stdin).getroot().findall("interface"):
    for m in i.findall("method"):
        print(sys.argv[1], i.get("name") + "." + m.get("name"))' "$path"
    done
}

test_outsider_refused() {
    local path method n=0 bad=()
    while read -r path method; do
        n=$((n + 1))
        mcall mallory "$path" "$method"
        if [[ $CALL_ERROR != org.freedesktop.DBus.Error.AccessDenied || $CALL_MSG == *polkit* ]]; then
            bad+=("$method on $path: $CALL_OUT")
        fi
    done < <(every_method)
    if ((n > 40 && ${#bad[@]} == 0)); then
        ok "the bus refuses mallory each of winvmd's $n methods on $MEMBERS (AccessDenied by policy, not polkit)"
    else
        fail "the bus refuses mallory each of winvmd's methods on $MEMBERS" "$n methods; not refused by the bus:" "${bad[@]}"
    fi
    assert_eq shutoff "$(libvirt_state)" "the guest is still off"
    call mallory "$VM_PATH" org.freedesktop.DBus.Peer.Ping
    assert_call_ok "org.winvm1 still answers mallory"
}

# winvmctl's destination, seen by a monitor of the bus's traffic to each name.
test_winvmctl_destination() {
    local mlog=$WINVM_SANDBOX/members-monitor.log pid
    busctl --system monitor "$MEMBERS" org.winvm1 >"$mlog" 2>&1 &
    pid=$!
    wait_until 10 grep -q "Monitoring bus message stream" "$mlog"
    ctl jarrett status
    assert_ctl 0 "winvmctl status works for jarrett"
    ctl mallory vfio
    wait_until 10 grep -q "Interface=org.winvm1.Vfio.*Member=Check" "$mlog"
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    if grep -q "Destination=$MEMBERS .*Member=GetAll" "$mlog"; then
        ok "winvmctl calls $MEMBERS for jarrett"
    else
        fail "winvmctl calls $MEMBERS for jarrett" "$(grep -E 'Member=' "$mlog" | head -20)"
    fi
    if grep -q "Destination=org.winvm1 .*Interface=org.winvm1.Vfio" "$mlog" &&
        ! grep -q "Destination=$MEMBERS .*Interface=org.winvm1.Vfio" "$mlog"; then
        ok "and org.winvm1 for mallory"
    else
        fail "and org.winvm1 for mallory" "$(grep -E 'Member=' "$mlog" | head -20)"
    fi
}

test_polkit_still_decides() {
    local defs=$WINVM_SANDBOX/config-repo before
    mkdir -p "$defs"
    printf '\n[Definitions]\n%s=%s\n' "$GUEST" "$defs/$GUEST.xml" >>"$WINVM_CONF"
    restart_winvmd
    wait_until 10 test -n "$(bus_owner "$MEMBERS")"
    ctl jarrett export
    assert_ctl 0 "(winvmctl export)"
    sed -i "s|</devices>|<serial type='file'><source path='/etc/shadow'/></serial></devices>|" "$defs/$GUEST.xml"
    before=$(virsh -c "$SB_URI" dumpxml --inactive "$GUEST")
    mcall jarrett "$VM_PATH" org.winvm1.Definition.Define
    assert_call_error org.freedesktop.DBus.Error.AccessDenied "polkit still refuses jarrett an unrestricted definition on $MEMBERS"
    assert_contains "$CALL_MSG" "define-unrestricted" "naming org.winvm1.vm.define-unrestricted"
    assert_eq "$before" "$(virsh -c "$SB_URI" dumpxml --inactive "$GUEST")" "libvirt's definition is unchanged"
}

monitor_start || exit 1
test_owned
test_member_calls
test_outsider_refused
test_winvmctl_destination
test_polkit_still_decides
monitor_stop
summary
