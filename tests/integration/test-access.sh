#!/usr/bin/env bash
# Who may do what. mallory (not in group winvm) may read everything but change nothing: each
# org.winvm1.VM method is refused with AccessDenied naming the polkit action, winvmctl exits 3
# with the group hint, and libvirt's state of the guest does not move, whether it is off or
# running. root is always allowed.
set -uo pipefail
# shellcheck source=tests/sandbox/sandbox-lib.sh
. "$WINVM_SRC/tests/sandbox/sandbox-lib.sh"
# shellcheck source=tests/integration/lib.sh
. "$WINVM_SRC/tests/integration/lib.sh"

# assert_denied ACTION_REGEX DESCRIPTION: the last call() was refused by polkit, and the
# message names the action.
assert_denied() {
    assert_call_error org.freedesktop.DBus.Error.AccessDenied "$2: AccessDenied"
    if [[ $CALL_MSG =~ $1 ]]; then
        ok "$2: the message names the action"
    else
        fail "$2: the message names the action" "expected to match: $1" "actual: $CALL_MSG"
    fi
}

# Every method as mallory, over the bus and through winvmctl; VIRSH_STATE is what libvirt
# must still say afterwards ("shut off" or "running").
test_mallory_refused() {
    local virsh_state=$1 when=$2 state_before
    state_before=$(winvmd_state)

    vm_call mallory Start
    assert_denied 'org\.winvm1\.vm\.start' "mallory Start ($when)"
    vm_call mallory Shutdown 5 false
    assert_denied 'org\.winvm1\.vm\.stop' "mallory Shutdown ($when)"
    vm_call mallory Shutdown 5 true
    # Both actions are needed; whichever polkit refuses first may be named.
    assert_denied 'org\.winvm1\.vm\.(stop|force-stop)' "mallory Shutdown with force_after ($when)"
    vm_call mallory ForceStop
    assert_denied 'org\.winvm1\.vm\.force-stop' "mallory ForceStop ($when)"
    vm_call mallory Reboot
    assert_denied 'org\.winvm1\.vm\.reboot' "mallory Reboot ($when)"

    local verb action
    for verb in start shutdown force-stop reboot; do
        case $verb in
        start) action=org.winvm1.vm.start ;;
        shutdown) action=org.winvm1.vm.stop ;;
        force-stop) action=org.winvm1.vm.force-stop ;;
        reboot) action=org.winvm1.vm.reboot ;;
        esac
        ctl mallory "$verb"
        assert_ctl 3 "mallory: winvmctl $verb exits 3 ($when)"
        assert_contains "$CTL_ERR" "$action" "mallory: winvmctl $verb names $action ($when)"
        assert_contains "$CTL_ERR" "usermod -aG winvm" "mallory: winvmctl $verb prints the group hint ($when)"
    done
    # Without the interactive-authorization flag, too.
    ctl mallory --no-ask-password force-stop
    assert_ctl 3 "mallory: winvmctl --no-ask-password force-stop exits 3 ($when)"
    ctl mallory shutdown --timeout 1 --force
    assert_ctl 3 "mallory: winvmctl shutdown --force exits 3 ($when)"

    assert_libvirt "$virsh_state" "guest state unchanged by mallory ($when)"
    assert_eq "$state_before" "$(winvmd_state)" "winvmd's State unchanged by mallory ($when)"
}

# Reads are granted to everyone by the policy defaults.
test_mallory_reads() {
    local expected=$1 name
    ctl mallory status
    assert_ctl 0 "mallory: winvmctl status exits 0 ($expected)"
    assert_contains "$CTL_OUT" "$GUEST" "mallory: status lists the guest"
    assert_contains "$CTL_OUT" "$expected" "mallory: status shows $expected"
    ctl mallory status --json
    assert_ctl 0 "mallory: winvmctl status --json exits 0"
    assert_eq "$expected" "$(json_field "$CTL_OUT" 'd["vms"][0]["state"]')" "mallory: JSON state $expected"

    call mallory "$MANAGER_PATH" org.winvm1.Manager.GetVM "$GUEST"
    assert_call_ok "mallory: GetVM($GUEST) answers"
    assert_contains "$CALL_OUT" "'$VM_PATH'" "mallory: GetVM returns the VM's path"
    call mallory "$MANAGER_PATH" org.freedesktop.DBus.ObjectManager.GetManagedObjects
    assert_call_ok "mallory: GetManagedObjects answers"
    assert_contains "$CALL_OUT" "'State': <'$expected'>" "mallory: GetManagedObjects carries the State"

    assert_eq "$expected" "$(vm_prop State mallory)" "mallory: property State reads $expected"
    assert_eq "$GUEST" "$(vm_prop Name mallory)" "mallory: property Name"
    assert_eq "$(virsh -q domuuid "$GUEST")" "$(vm_prop UUID mallory)" "mallory: property UUID is libvirt's"
    for name in StateReason Autostart VCPUs MemoryMiB; do
        if vm_prop "$name" mallory >/dev/null; then
            ok "mallory: property $name readable"
        else
            fail "mallory: property $name readable"
        fi
    done
    assert_eq true "$(prop mallory "$MANAGER_PATH" org.winvm1.Manager LibvirtConnected)" \
        "mallory: LibvirtConnected readable"
    assert_contains "$(prop mallory "$MANAGER_PATH" org.winvm1.Manager VMs)" "$VM_PATH" \
        "mallory: VMs readable"
}

# jarrett is in group winvm: allowed (start here, to have a running guest for mallory). The
# first State change after mallory's attempts must be this start's: mallory moved nothing.
test_jarrett_allowed() {
    ctl jarrett start
    assert_ctl 0 "jarrett: winvmctl start exits 0"
    next_state 30
    assert_eq running "$NEXT_STATE" "first State signal after mallory's attempts is jarrett's 'running'"
    assert_libvirt running "guest started by jarrett"
}

# uid 0 needs no group and no rule.
test_root_allowed() {
    ctl root force-stop
    assert_ctl 0 "root: winvmctl force-stop exits 0"
    next_state 30
    assert_eq shutoff "$NEXT_STATE" "first State signal after mallory's attempts is root's 'shutoff'"
    assert_libvirt "shut off" "root stopped the guest"

    guest_start root
    vm_call root Reboot
    assert_call_ok "root: Reboot succeeds"
    assert_libvirt running "guest still running after root's reboot"
    vm_call root Shutdown 1 true
    assert_call_ok "root: Shutdown(1, force_after) succeeds"
    expect_state shutoff "root: State 'shutoff' after the forced shutdown"
    assert_libvirt "shut off" "root shut the guest down"
}

# With no polkit authority on the bus, only root is let in (the bus does not start polkitd
# again by itself in the sandbox: it has no activation helper set up for it).
test_without_polkit() {
    pkill -x polkitd
    wait_until 10 sh -c '! pgrep -x polkitd >/dev/null'
    ctl jarrett --no-ask-password start
    assert_ctl 3 "without polkit, jarrett is refused"
    assert_contains "$CTL_ERR" "only allowed to root while polkit is not running" "and told why"
    assert_libvirt "shut off" "the refused start changed nothing"
    ctl root start
    assert_ctl 0 "without polkit, root may start the VM"
    assert_libvirt running "libvirt runs the guest root started"
    ctl root force-stop
    assert_libvirt "shut off" "and root may force it off"
}

monitor_start || exit 1
assert_libvirt "shut off" "guest off at the start"
test_mallory_reads shutoff
test_mallory_refused "shut off" "guest off"
test_jarrett_allowed
test_mallory_reads running
test_mallory_refused running "guest running"
test_root_allowed
guest_off
monitor_stop
test_without_polkit
summary
