#!/usr/bin/env bash
# The guest's whole lifecycle as jarrett (group winvm) sees it through winvmctl and the bus:
# status, start, shutdown (timeout, then forced), force-stop, reboot, and the named errors
# for calls made in the wrong state. libvirt's own view is checked after every step.
set -uo pipefail
# shellcheck source=tests/sandbox/sandbox-lib.sh
. "$WINVM_SRC/tests/sandbox/sandbox-lib.sh"
# shellcheck source=tests/integration/lib.sh
. "$WINVM_SRC/tests/integration/lib.sh"

# The guest is defined and off: status says so, in the table and in JSON.
test_status_when_off() {
    ctl jarrett status
    assert_ctl 0 "winvmctl status exits 0"
    assert_contains "$CTL_OUT" "$GUEST" "status lists the guest"
    assert_contains "$CTL_OUT" "shutoff" "status shows it shut off"

    ctl jarrett status --json
    assert_ctl 0 "winvmctl status --json exits 0"
    assert_eq True "$(json_field "$CTL_OUT" 'd["libvirt_connected"]')" "JSON: libvirt_connected is true"
    assert_eq 1 "$(json_field "$CTL_OUT" 'len(d["vms"])')" "JSON: one VM"
    assert_eq "$GUEST" "$(json_field "$CTL_OUT" 'd["vms"][0]["name"]')" "JSON: name"
    assert_eq "$VM_PATH" "$(json_field "$CTL_OUT" 'd["vms"][0]["object_path"]')" "JSON: object path"
    assert_eq shutoff "$(json_field "$CTL_OUT" 'd["vms"][0]["state"]')" "JSON: state shutoff"
    assert_eq "$(virsh -q domuuid "$GUEST")" "$(json_field "$CTL_OUT" 'd["vms"][0]["uuid"]')" \
        "JSON: uuid is libvirt's"
    assert_eq 1 "$(json_field "$CTL_OUT" 'd["vms"][0]["vcpus"]')" "JSON: vcpus"
    assert_eq 128 "$(json_field "$CTL_OUT" 'd["vms"][0]["memory_mib"]')" "JSON: memory_mib"
    assert_libvirt "shut off" "guest off at the start"
}

# Calls that need a running guest get NotRunning (exit 5) while it is off.
test_not_running_errors() {
    local method
    for method in ForceStop Reboot; do
        vm_call jarrett "$method"
        assert_call_error org.winvm1.Error.NotRunning "$method when off: NotRunning"
    done
    vm_call jarrett Shutdown 5 false
    assert_call_error org.winvm1.Error.NotRunning "Shutdown when off: NotRunning"
    vm_call jarrett Shutdown 5 true
    assert_call_error org.winvm1.Error.NotRunning "Shutdown(force_after) when off: NotRunning"

    local verb
    for verb in force-stop reboot shutdown; do
        ctl jarrett "$verb"
        assert_ctl 5 "winvmctl $verb when off exits 5"
        assert_contains "$CTL_ERR" "is not running" "winvmctl $verb when off says why"
    done
    assert_libvirt "shut off" "guest still off after the refused calls"
}

# Start; the State change arrives as a signal, and a second Start is refused.
test_start() {
    guest_start jarrett
    assert_eq running "$(winvmd_state)" "State reads running"
    assert_eq booted "$(vm_prop StateReason)" "StateReason reads booted"

    vm_call jarrett Start
    assert_call_error org.winvm1.Error.AlreadyRunning "Start when running: AlreadyRunning"
    assert_contains "$CALL_MSG" "$GUEST" "AlreadyRunning names the VM"
    ctl jarrett start
    assert_ctl 5 "winvmctl start when running exits 5"
    assert_contains "$CTL_ERR" "already running" "winvmctl start says it is already running"
    assert_libvirt running "guest still running after the second start"
}

# The guest has no OS, so it ignores ACPI: a plain shutdown times out and leaves it running.
test_shutdown_timeout() {
    ctl jarrett shutdown --timeout 2
    assert_ctl 6 "winvmctl shutdown --timeout 2 (no --force) exits 6"
    assert_contains "$CTL_ERR" "still running" "winvmctl says the guest is still running"
    expect_state running "State back to running after the timeout"
    assert_libvirt running "guest still running after the timed-out shutdown"

    vm_call jarrett Shutdown 1 false
    assert_call_error org.winvm1.Error.Timeout "Shutdown(1, false): org.winvm1.Error.Timeout"
    expect_state running "State back to running after the second timeout"
    assert_eq running "$(winvmd_state)" "State reads running"
    assert_libvirt running "guest still running after Shutdown(1, false)"
}

# With --force the timeout ends in a force-off and success.
test_shutdown_force() {
    ctl jarrett shutdown --timeout 2 --force
    assert_ctl 0 "winvmctl shutdown --timeout 2 --force exits 0"
    expect_state shutting-down "State 'shutting-down' signalled during the wait"
    expect_state shutoff "State 'shutoff' signalled after the forced shutdown"
    assert_eq shutoff "$(winvmd_state)" "State reads shutoff"
    assert_libvirt "shut off" "guest off after shutdown --force"
}

test_force_stop() {
    guest_start jarrett
    ctl jarrett force-stop
    assert_ctl 0 "winvmctl force-stop exits 0"
    expect_state shutoff "State 'shutoff' signalled after force-stop"
    assert_eq destroyed "$(vm_prop StateReason)" "StateReason reads destroyed"
    assert_libvirt "shut off" "guest off after force-stop"
}

# Reboot is a request to the guest: it succeeds, and the guest (no OS) keeps running.
test_reboot() {
    guest_start jarrett
    ctl jarrett reboot
    assert_ctl 0 "winvmctl reboot exits 0"
    vm_call jarrett Reboot
    assert_call_ok "Reboot over the bus succeeds"
    assert_libvirt running "guest still running after reboot"
    assert_eq running "$(winvmd_state)" "State reads running after reboot"

    vm_call jarrett ForceStop
    assert_call_ok "ForceStop over the bus succeeds"
    expect_state shutoff "State 'shutoff' signalled after ForceStop"
    assert_libvirt "shut off" "guest off after ForceStop"
}

# A managed VM that libvirt does not define keeps its object, reads "undefined", and comes
# back when it is defined again.
test_undefined() {
    virsh -q dumpxml --inactive "$GUEST" > "$WINVM_SANDBOX/saved.xml"
    virsh -q undefine "$GUEST" >/dev/null
    expect_state undefined "State 'undefined' signalled after virsh undefine"
    assert_eq "" "$(vm_prop UUID)" "UUID reads empty while undefined"
    vm_call jarrett Start
    assert_call_error org.winvm1.Error.NotDefined "Start on an undefined VM: NotDefined"
    ctl jarrett start
    assert_ctl 4 "winvmctl start exits 4 for an undefined VM"
    virsh -q define "$WINVM_SANDBOX/saved.xml" >/dev/null
    expect_state shutoff "State 'shutoff' signalled after virsh define"
    assert_eq "$(virsh domuuid "$GUEST" | tr -d '[:space:]')" "$(vm_prop UUID)" "UUID matches libvirt's again"
}

monitor_start || exit 1
test_status_when_off
test_not_running_errors
test_start
test_shutdown_timeout
test_shutdown_force
test_force_stop
test_reboot
guest_off
test_undefined
monitor_stop
summary
