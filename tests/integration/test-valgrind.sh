#!/usr/bin/env bash
# One full scenario with winvmd under valgrind memcheck: reads (a burst of pipelined Doctor
# calls among them, which share runs), start, a snapshot of the running guest, force-stop,
# revert, delete, refusals for mallory, and a clean SIGTERM exit.
# Any memcheck error or definite leak fails the test (valgrind's exit code and its log).
set -uo pipefail
# shellcheck source=tests/sandbox/sandbox-lib.sh
. "$WINVM_SRC/tests/sandbox/sandbox-lib.sh"
# shellcheck source=tests/integration/lib.sh
. "$WINVM_SRC/tests/integration/lib.sh"

VG_LOG=$WINVM_SANDBOX/valgrind.log

guest_is() { [[ $(virsh_state "$GUEST") == "$1" ]]; }

start_under_valgrind() {
    stop_winvmd
    local vg="valgrind --quiet --leak-check=full --show-leak-kinds=definite"
    vg+=" --errors-for-leak-kinds=definite --error-exitcode=99 --log-file=$VG_LOG"
    WINVMD_WRAPPER=$vg WINVMD_START_TIMEOUT=120 start_winvmd
    assert_eq 0 $? "winvmd starts under valgrind"
}

scenario() {
    local kept
    call jarrett "$VM_PATH" org.freedesktop.DBus.Properties.GetAll org.winvm1.VM
    assert_call_ok "GetAll on the VM"
    ctl jarrett status
    assert_ctl 0 "winvmctl status"
    # Calls that join a queued Doctor run are answered from its data (OpOptions.share).
    as_user jarrett "$WINVM_BUILD/tests/tools/bus-abuse" flood --calls 8 --timeout 120 \
        --call "/org/winvm1 org.winvm1.Manager.Doctor s $GUEST" >"$WINVM_SANDBOX/doctor-burst.out" 2>&1
    assert_eq "reply 8 service (method return)" "$(grep '^reply' "$WINVM_SANDBOX/doctor-burst.out")" \
        "8 pipelined Doctor calls are all answered"
    vm_call jarrett Start
    assert_call_ok "Start"
    wait_until 60 guest_is running
    assert_libvirt running "the guest runs"
    snap_create jarrett live "taken while running"
    assert_call_ok "CreateSnapshot of the running guest"
    vm_call mallory CreateSnapshot "'nope'" "''"
    assert_call_error org.freedesktop.DBus.Error.AccessDenied "mallory refused CreateSnapshot"
    vm_call jarrett ForceStop
    assert_call_ok "ForceStop"
    wait_until 60 guest_is "shut off"
    assert_libvirt "shut off" "the guest is off"
    snap_create jarrett off ""
    assert_call_ok "CreateSnapshot of the guest shut off"
    snap_list jarrett >/dev/null
    snap_revert jarrett live 0
    assert_call_ok "RevertSnapshot keeping the current state"
    kept=$SNAP_RESULT
    assert_contains "$kept" pre-revert "the kept snapshot is named pre-revert-*"
    snap_delete jarrett off
    assert_call_ok "DeleteSnapshot of a middle snapshot"
    snap_delete jarrett nosuch
    assert_call_error org.winvm1.Error.NoSuchSnapshot "unknown snapshot named"
    vm_call jarrett Shutdown 1 false
    assert_call_error org.winvm1.Error.NotRunning "Shutdown of a guest that is off"
}

stop_and_check() {
    local pid=$WINVMD_PID rc
    kill -TERM "$pid"
    wait "$pid"
    rc=$?
    rm -f "$WINVM_SANDBOX/winvmd.pid"
    assert_eq 0 "$rc" "winvmd under valgrind exits 0 on SIGTERM (99 = memcheck errors)"
    if [[ ! -f $VG_LOG ]]; then
        fail "valgrind wrote its log" "no $VG_LOG: did winvmd run under valgrind?"
    elif grep -qE 'ERROR SUMMARY: [1-9]|definitely lost|Invalid (read|write)|uninitialised' "$VG_LOG"; then
        fail "valgrind log is clean" "$(head -60 "$VG_LOG")"
    else
        ok "valgrind log is clean ($(wc -l <"$VG_LOG") lines)"
    fi
}

start_under_valgrind
scenario
stop_and_check
summary
