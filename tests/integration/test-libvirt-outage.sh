#!/usr/bin/env bash
# libvirtd goes away under a running winvmd (crash, then a clean stop) and comes back. winvmd
# must stay up (same pid), say "unknown" and refuse actions with Disconnected meanwhile,
# reconnect on its own, and then report exactly what libvirt reports. A call made while the
# first connection is still being made waits for it instead, and so does a read (bounded).
set -uo pipefail
# shellcheck source=tests/sandbox/sandbox-lib.sh
. "$WINVM_SRC/tests/sandbox/sandbox-lib.sh"
# shellcheck source=tests/integration/lib.sh
. "$WINVM_SRC/tests/integration/lib.sh"

PID=$WINVMD_PID

# While libvirtd is down: winvmd answers, says unknown, refuses actions with Disconnected.
check_during_outage() {
    local when=$1
    if virsh -q -c "$SB_URI" version >/dev/null 2>&1; then
        fail "libvirtd is really down ($when)" "virsh still connects"
    else
        ok "libvirtd is really down ($when)"
    fi
    assert_winvmd_alive "$PID" "winvmd alive and answering ($when)"
    local bus_status
    bus_status=$(busctl --system status org.winvm1 2>&1)
    assert_contains "$bus_status" "PID=$PID" "busctl status org.winvm1 shows the same pid ($when)"
    assert_eq false "$(prop jarrett "$MANAGER_PATH" org.winvm1.Manager LibvirtConnected)" \
        "LibvirtConnected reads false ($when)"
    assert_eq unknown "$(winvmd_state)" "State reads unknown ($when)"

    ctl jarrett status
    assert_ctl 0 "winvmctl status exits 0 ($when)"
    assert_contains "$CTL_OUT" "not reachable" "winvmctl status says libvirt is not reachable ($when)"
    assert_contains "$CTL_OUT" "unknown" "winvmctl status shows the state unknown ($when)"
    ctl jarrett status --json
    assert_eq False "$(json_field "$CTL_OUT" 'd["libvirt_connected"]')" "JSON: libvirt_connected false ($when)"
    assert_eq unknown "$(json_field "$CTL_OUT" 'd["vms"][0]["state"]')" "JSON: state unknown ($when)"

    vm_call jarrett Start
    assert_call_error org.winvm1.Error.Disconnected "Start: org.winvm1.Error.Disconnected ($when)"
    vm_call jarrett ForceStop
    assert_call_error org.winvm1.Error.Disconnected "ForceStop: org.winvm1.Error.Disconnected ($when)"
    vm_call jarrett Shutdown 1 true
    assert_call_error org.winvm1.Error.Disconnected "Shutdown: org.winvm1.Error.Disconnected ($when)"
    ctl jarrett start
    assert_ctl 7 "winvmctl start exits 7 ($when)"
    assert_contains "$CTL_ERR" "not reachable" "winvmctl start says libvirtd is not reachable ($when)"
}

# libvirtd is back: wait for LibvirtConnected true, then for winvmd's first definite State,
# which must be libvirt's.
check_after_reconnect() {
    local when=$1 expected=$2 i
    if wait_connected true 60; then
        ok "LibvirtConnected true signalled after libvirtd came back ($when)"
    else
        local log
        mapfile -t log < <(tail -n 5 "$WINVM_SANDBOX/winvmd.log")
        fail "LibvirtConnected true signalled after libvirtd came back ($when)" "winvmd.log:" "${log[@]}"
    fi
    # "unknown" may last until libvirt answers on the new connection; skip it.
    for ((i = 0; i < 10; i++)); do
        next_state 30 || break
        [[ $NEXT_STATE == unknown ]] || break
    done
    assert_eq "$(libvirt_state)" "$NEXT_STATE" "first definite State after reconnecting is libvirt's ($when)"
    assert_eq "$expected" "$(libvirt_state)" "libvirt says $expected ($when)"
    assert_eq "$(libvirt_state)" "$(winvmd_state)" "State property matches virsh domstate ($when)"
    assert_eq true "$(prop jarrett "$MANAGER_PATH" org.winvm1.Manager LibvirtConnected)" \
        "LibvirtConnected reads true ($when)"
    assert_winvmd_alive "$PID" "same winvmd after the outage ($when)"
}

# libvirtd crashes (SIGKILL) under a running guest; QEMU survives and libvirtd reattaches.
test_crash_with_guest_running() {
    guest_start jarrett
    kill_libvirtd KILL
    if wait_connected false 30; then ok "LibvirtConnected false signalled (crash)"; else fail "LibvirtConnected false signalled (crash)"; fi
    expect_state unknown "State 'unknown' signalled (crash)"
    check_during_outage crash

    start_libvirtd
    check_after_reconnect crash running

    # And it acts again: a forced shutdown works through the new connection.
    ctl jarrett shutdown --timeout 1 --force
    assert_ctl 0 "winvmctl shutdown --force works after reconnecting"
    expect_state shutoff "State 'shutoff' after the forced shutdown"
    assert_libvirt "shut off" "guest off after the forced shutdown"
}

# libvirtd stops cleanly (SIGTERM), and the guest dies while it is away: after the restart
# libvirt says shut off, and winvmd must say so too, not what it knew before the outage.
test_stop_and_guest_dies_meanwhile() {
    guest_start jarrett
    local qemu_pid log_from
    qemu_pid=$(cat "/run/libvirt/qemu/$GUEST.pid" 2>/dev/null)
    log_from=$(($(wc -l <"$WINVM_SANDBOX/winvmd.log") + 1))
    kill_libvirtd TERM
    if wait_connected false 30; then ok "LibvirtConnected false signalled (stop)"; else fail "LibvirtConnected false signalled (stop)"; fi
    expect_state unknown "State 'unknown' signalled (stop)"

    if [[ -n $qemu_pid ]] && sb_pid_alive "$qemu_pid"; then
        ok "QEMU survived libvirtd's stop"
        kill -KILL "$qemu_pid"
        wait_until 10 eval "! sb_pid_alive $qemu_pid"
    else
        fail "QEMU survived libvirtd's stop" "qemu pid '$qemu_pid'"
    fi
    check_during_outage stop

    start_libvirtd
    check_after_reconnect stop shutoff
    # The stop happened while winvmd could not see it; it is journalled once libvirt answers.
    if wait_until 10 eval "tail -n +$log_from '$WINVM_SANDBOX/winvmd.log' | grep -q 'VM $GUEST stopped'"; then
        ok "the guest's stop during the outage is logged after reconnecting"
    else
        fail "the guest's stop during the outage is logged after reconnecting" \
            "$(tail -n +"$log_from" "$WINVM_SANDBOX/winvmd.log" | tail -n 5)"
    fi
}

# start_with_libvirtd_stopped LIBVIRTD_PID CONFIG: restart winvmd (with CONFIG) while
# libvirtd is stopped with SIGSTOP, so its first connection hangs until SIGCONT. On failure
# libvirtd runs again.
start_with_libvirtd_stopped() {
    stop_winvmd
    kill -STOP "$1"
    if ! WINVM_CONF=$2 start_winvmd; then
        kill -CONT "$1"
        fail "winvmd starts while libvirtd is stopped"
        return 1
    fi
}

# A call that arrives while winvmd's first connection to libvirtd is still being made (as
# after bus activation, when the call that activated winvmd is its first) waits for that
# connection and then runs on it, rather than failing with Disconnected. libvirtd is stopped
# (SIGSTOP) while winvmd starts, so the connection hangs until it is let go.
test_call_during_first_connect() {
    local lv_pid out=$WINVM_SANDBOX/start-during-connect.out bg rc
    lv_pid=$(pgrep -x libvirtd | head -n 1)
    start_with_libvirtd_stopped "$lv_pid" "$WINVM_CONF" || return
    assert_eq false "$(prop jarrett "$MANAGER_PATH" org.winvm1.Manager LibvirtConnected)" \
        "LibvirtConnected false while the first connection hangs"
    run_as jarrett winvmctl start >"$out" 2>&1 &
    bg=$!
    sleep 1
    if sb_pid_alive "$bg"; then
        ok "Start waits while the first connection is being made"
    else
        fail "Start waits while the first connection is being made" "it returned: $(<"$out")"
    fi
    kill -CONT "$lv_pid"
    wait "$bg"
    rc=$?
    assert_eq 0 "$rc" "Start made during the first connection succeeds once connected ($(<"$out"))"
    if wait_until 30 guest_running; then ok "the guest runs after that Start"; else fail "the guest runs after that Start"; fi
    guest_destroy
}

# A read that comes before winvmd first knows the guest's state (as the call that
# bus-activated it does) waits for that state instead of answering "unknown"; the wait is
# bounded (StartupReadWaitSec, 2 s by default), so with libvirtd hung the read answers
# "unknown" in the end. The first part allows 60 s, so a slow machine cannot make it flaky.
test_read_during_first_connect() {
    local lv_pid out=$WINVM_SANDBOX/read-during-connect.out bg t0 t1 state
    local patient=$WINVM_SANDBOX/read-wait.conf
    sed 's/^\[Service\]$/&\nStartupReadWaitSec=60/' "$WINVM_CONF" >"$patient"
    grep -q '^StartupReadWaitSec=60$' "$patient" || { fail "a config with StartupReadWaitSec=60"; return; }
    lv_pid=$(pgrep -x libvirtd | head -n 1)
    start_with_libvirtd_stopped "$lv_pid" "$patient" || return
    prop jarrett "$VM_PATH" org.winvm1.VM State >"$out" 2>&1 &
    bg=$!
    sleep 0.5
    if sb_pid_alive "$bg"; then
        ok "a State read waits while the first connection is being made"
    else
        fail "a State read waits while the first connection is being made" "it answered: $(<"$out")"
    fi
    kill -CONT "$lv_pid"
    wait "$bg"
    assert_eq "$(libvirt_state)" "$(<"$out")" "that read then answers libvirt's state, not unknown"

    # The default wait, with libvirtd hung throughout.
    start_with_libvirtd_stopped "$lv_pid" "$WINVM_CONF" || return
    sb_now_ms t0
    state=$(winvmd_state)
    sb_now_ms t1
    kill -CONT "$lv_pid"
    assert_eq unknown "$state" "with libvirtd hung, a read answers unknown in the end"
    if ((t1 - t0 >= 500 && t1 - t0 < 6000)); then
        ok "after a bounded wait ($((t1 - t0)) ms)"
    else
        fail "after a bounded wait" "it took $((t1 - t0)) ms, expected about 2000"
    fi
    if wait_until 30 libvirt_connected; then
        ok "winvmd connects once libvirtd runs again"
    else
        fail "winvmd connects once libvirtd runs again"
    fi
}

libvirt_connected() { [[ $(prop jarrett "$MANAGER_PATH" org.winvm1.Manager LibvirtConnected) == true ]]; }

monitor_start || exit 1
test_crash_with_guest_running
test_stop_and_guest_dies_meanwhile
guest_off
assert_winvmd_alive "$PID" "winvmd never restarted"
monitor_stop
test_call_during_first_connect
test_read_during_first_connect
summary
