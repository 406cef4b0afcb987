#!/usr/bin/env bash
# A Shutdown call waits for the guest to power off, possibly for minutes. Meanwhile winvmd
# must keep answering everyone else: reads, other methods, a second Shutdown. And the wait
# must end as soon as the guest is off, whoever turned it off.
set -uo pipefail
# shellcheck source=tests/sandbox/sandbox-lib.sh
. "$WINVM_SRC/tests/sandbox/sandbox-lib.sh"
# shellcheck source=tests/integration/lib.sh
. "$WINVM_SRC/tests/integration/lib.sh"

# elapsed_ms START_MS: milliseconds since START_MS (from sb_now_ms; note sb_now_ms cannot
# set a variable named t or now, its own locals).
elapsed_ms() {
    local now
    sb_now_ms now
    echo $((now - $1))
}

# assert_quick MS LIMIT_MS DESCRIPTION: an answer came within LIMIT_MS.
assert_quick() {
    if (($1 <= $2)); then ok "$3 (${1} ms)"; else fail "$3" "took $1 ms, limit $2 ms"; fi
}

# While `winvmctl shutdown --timeout 8 --force` waits (the no-OS guest ignores ACPI), other
# calls are answered at once; then the forced shutdown completes with success.
test_status_during_shutdown_wait() {
    local bg t0 call_start ms pid=$WINVMD_PID
    guest_start jarrett

    sb_now_ms t0
    as_user jarrett winvmctl shutdown --timeout 8 --force &
    bg=$!
    expect_state shutting-down "State 'shutting-down' signalled while Shutdown waits"

    sb_now_ms call_start
    ctl jarrett status
    ms=$(elapsed_ms "$call_start")
    assert_ctl 0 "winvmctl status exits 0 during the wait"
    assert_quick "$ms" 2000 "winvmctl status answered during the wait"
    assert_contains "$CTL_OUT" shutting-down "winvmctl status shows shutting-down"

    sb_now_ms call_start
    local state
    state=$(vm_prop State mallory)
    ms=$(elapsed_ms "$call_start")
    assert_eq shutting-down "$state" "busctl get-property State (as mallory) reads shutting-down"
    assert_quick "$ms" 2000 "busctl get-property answered during the wait"
    assert_eq shutdown-requested "$(vm_prop StateReason)" "StateReason reads shutdown-requested"

    ctl jarrett status --json
    assert_eq shutting-down "$(json_field "$CTL_OUT" 'd["vms"][0]["state"]')" \
        "winvmctl status --json: state shutting-down"

    # The wait is a Job too, so clients follow it the same way as a scrub.
    ctl jarrett jobs --json
    assert_eq shutdown "$(json_field "$CTL_OUT" 'd[0]["operation"]')" "winvmctl jobs lists the shutdown wait"
    assert_eq running "$(json_field "$CTL_OUT" 'd[0]["state"]')" "as running"
    assert_eq "$(id -u jarrett)" "$(json_field "$CTL_OUT" 'd[0]["started_by_uid"]')" "started by jarrett"
    SHUTDOWN_JOB=$(json_field "$CTL_OUT" 'd[0]["path"]')

    # Other methods are answered too, with the state they meet.
    sb_now_ms call_start
    vm_call jarrett Start
    ms=$(elapsed_ms "$call_start")
    assert_call_error org.winvm1.Error.AlreadyRunning "Start during the wait: AlreadyRunning"
    assert_quick "$ms" 2000 "Start answered during the wait"

    # A second Shutdown without force times out on its own schedule; the first keeps waiting.
    vm_call jarrett Shutdown 1 false
    assert_call_error org.winvm1.Error.Timeout "a second Shutdown(1, false) times out by itself"

    if sb_pid_alive "$bg"; then
        ok "the first shutdown is still waiting after all that"
    else
        fail "the first shutdown is still waiting after all that" \
            "it ended after $(elapsed_ms "$t0") ms, before its 8 s timeout"
    fi
    assert_libvirt running "libvirt still runs the guest during the wait"

    wait "$bg"
    assert_eq 0 "$?" "winvmctl shutdown --timeout 8 --force exits 0"
    ms=$(elapsed_ms "$t0")
    # The guest ignores ACPI, so success can only come from the force-off after 8 s.
    if ((ms >= 7500)); then
        ok "the forced shutdown came after the timeout (${ms} ms)"
    else
        fail "the forced shutdown came after the timeout" "it returned after $ms ms"
    fi
    expect_state shutoff "State 'shutoff' signalled after the forced shutdown"
    assert_libvirt "shut off" "guest off after the forced shutdown"
    assert_eq true "$(prop jarrett "$SHUTDOWN_JOB" org.winvm1.Job Success)" "the shutdown Job ended with success"
    assert_contains "$(prop jarrett "$SHUTDOWN_JOB" org.winvm1.Job Message)" "forced off" "and says the guest was forced off"
    assert_eq "$pid" "$WINVMD_PID" "same winvmd throughout"
    assert_winvmd_alive "$pid" "winvmd still serving after the wait"
}

# A waiting Shutdown ends with success as soon as the guest is off, here because someone
# else forced it off, long before the wait's own timeout.
test_wait_ends_when_guest_goes_off() {
    local bg t0 ms
    guest_start jarrett

    sb_now_ms t0
    as_user jarrett winvmctl shutdown --timeout 60 &
    bg=$!
    expect_state shutting-down "State 'shutting-down' signalled while the 60 s Shutdown waits"

    ctl root force-stop
    assert_ctl 0 "root: winvmctl force-stop during the wait exits 0"
    wait "$bg"
    assert_eq 0 "$?" "the waiting shutdown exits 0 once the guest is off"
    ms=$(elapsed_ms "$t0")
    if ((ms < 30000)); then
        ok "the waiting shutdown returned without waiting out its timeout (${ms} ms)"
    else
        fail "the waiting shutdown returned without waiting out its timeout" "took $ms ms"
    fi
    expect_state shutoff "State 'shutoff' signalled"
    assert_libvirt "shut off" "guest off"
}

monitor_start || exit 1
test_status_during_shutdown_wait
test_wait_ends_when_guest_goes_off
guest_off
monitor_stop
summary
