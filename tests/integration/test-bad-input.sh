#!/usr/bin/env bash
# Bad input of every kind: unknown and malformed VM names, absurd timeouts, wrong argument
# types, bad command lines, broken configuration files. Each gets a precise error, nothing
# happens to the guest, and the running winvmd keeps serving (same pid).
set -uo pipefail
# shellcheck source=tests/sandbox/sandbox-lib.sh
. "$WINVM_SRC/tests/sandbox/sandbox-lib.sh"
# shellcheck source=tests/integration/lib.sh
. "$WINVM_SRC/tests/integration/lib.sh"

PID=$WINVMD_PID

# VM names that are not managed, or not names at all.
test_unknown_vm() {
    ctl jarrett --vm Nope status
    assert_ctl 4 "winvmctl --vm Nope status exits 4"
    assert_contains "$CTL_ERR" "VM Nope is not managed" "winvmctl names the unknown VM"
    ctl jarrett --vm Nope start
    assert_ctl 4 "winvmctl --vm Nope start exits 4"

    call jarrett "$MANAGER_PATH" org.winvm1.Manager.GetVM Nope
    assert_call_error org.winvm1.Error.NoSuchVM "GetVM(Nope): NoSuchVM"
    assert_contains "$CALL_MSG" Nope "NoSuchVM names the VM"
    call jarrett "$MANAGER_PATH" org.winvm1.Manager.GetVM ../etc
    assert_call_error org.winvm1.Error.InvalidArgument "GetVM(../etc): InvalidArgument"
    call jarrett "$MANAGER_PATH" org.winvm1.Manager.GetVM ""
    assert_call_error org.winvm1.Error.InvalidArgument "GetVM(''): InvalidArgument"
    call jarrett "$MANAGER_PATH" org.winvm1.Manager.GetVM "$(printf 'a%.0s' {1..65})"
    assert_call_error org.winvm1.Error.InvalidArgument "GetVM(65 characters): InvalidArgument"
    call mallory "$MANAGER_PATH" org.winvm1.Manager.GetVM Nope
    assert_call_error org.winvm1.Error.NoSuchVM "GetVM(Nope) as mallory: NoSuchVM"

    # Only configured VMs have objects (dbus/org.winvm1.VM.xml): anything else under
    # /org/winvm1/vm is no object at all.
    call jarrett /org/winvm1/vm/Nope org.freedesktop.DBus.Properties.Get org.winvm1.VM State
    assert_call_error org.freedesktop.DBus.Error.UnknownObject "Get on /org/winvm1/vm/Nope: UnknownObject"
    raw_call jarrett /org/winvm1/vm/Nope org.winvm1.VM.Start
    assert_call_error org.freedesktop.DBus.Error.UnknownObject "Start on /org/winvm1/vm/Nope: UnknownObject"

    ctl jarrett --vm ../etc status
    assert_ctl 2 "winvmctl --vm ../etc exits 2"
    assert_contains "$CTL_ERR" "not a valid VM name" "winvmctl says ../etc is not a valid VM name"
}

# Shutdown's timeout is 0 (default) or 1..3600; anything else is refused before anything is
# done. Checked with the guest running, where a Shutdown would show as "shutting-down".
test_absurd_timeout() {
    guest_start jarrett

    vm_call jarrett Shutdown 99999 false
    assert_call_error org.winvm1.Error.InvalidArgument "Shutdown(99999): InvalidArgument"
    assert_contains "$CALL_MSG" 99999 "InvalidArgument names the timeout"
    vm_call jarrett Shutdown 3601 true
    assert_call_error org.winvm1.Error.InvalidArgument "Shutdown(3601, force): InvalidArgument"
    vm_call jarrett Shutdown 4294967295 true
    assert_call_error org.winvm1.Error.InvalidArgument "Shutdown(UINT32_MAX, force): InvalidArgument"
    ctl jarrett shutdown --timeout 99999
    assert_ctl 2 "winvmctl shutdown --timeout 99999 exits 2"
    assert_contains "$CTL_ERR" "out of range" "winvmctl says the timeout is out of range"
    ctl jarrett shutdown --timeout 99999 --force
    assert_ctl 2 "winvmctl shutdown --timeout 99999 --force exits 2"

    assert_libvirt running "guest still running after the refused shutdowns"
    assert_eq running "$(winvmd_state)" "State still reads running"
    # Nothing was published in between: the next State change is the clean-up's force-off.
    ctl jarrett force-stop
    assert_ctl 0 "winvmctl force-stop exits 0"
    next_state 30
    assert_eq shutoff "$NEXT_STATE" "no State change before the force-stop (no shutdown was started)"
    assert_libvirt "shut off" "guest off after force-stop"
}

# Wrong argument types and counts are refused by the bus layer with InvalidArgs.
test_wrong_types() {
    local out
    out=$(as_user jarrett busctl --system call org.winvm1 "$VM_PATH" org.winvm1.VM Shutdown s 5 2>&1)
    assert_contains "$out" "Invalid arguments" "busctl Shutdown with signature 's': Invalid arguments"
    raw_call jarrett "$VM_PATH" org.winvm1.VM.Shutdown string:5
    assert_call_error org.freedesktop.DBus.Error.InvalidArgs "Shutdown(string): InvalidArgs"
    raw_call jarrett "$VM_PATH" org.winvm1.VM.Shutdown uint32:5
    assert_call_error org.freedesktop.DBus.Error.InvalidArgs "Shutdown(uint32) without force_after: InvalidArgs"
    raw_call jarrett "$VM_PATH" org.winvm1.VM.Start string:now
    assert_call_error org.freedesktop.DBus.Error.InvalidArgs "Start with an argument: InvalidArgs"
    raw_call jarrett "$MANAGER_PATH" org.winvm1.Manager.GetVM uint32:1
    assert_call_error org.freedesktop.DBus.Error.InvalidArgs "GetVM(uint32): InvalidArgs"
    raw_call mallory "$VM_PATH" org.winvm1.VM.ForceStop int32:1
    assert_call_error org.freedesktop.DBus.Error.InvalidArgs "ForceStop with an argument (mallory): InvalidArgs"
    assert_libvirt "shut off" "guest untouched by the malformed calls"
}

# winvmctl's own argument checks.
test_bad_command_lines() {
    ctl jarrett shutdown --timeout abc
    assert_ctl 2 "winvmctl --timeout abc exits 2"
    ctl jarrett shutdown --timeout -1
    assert_ctl 2 "winvmctl --timeout -1 exits 2"
    ctl jarrett frobnicate
    assert_ctl 2 "winvmctl frobnicate exits 2"
    ctl jarrett status extra
    assert_ctl 2 "winvmctl status extra exits 2"
    ctl jarrett --help
    assert_ctl 0 "winvmctl --help exits 0"
    assert_contains "$CTL_OUT" "Exit status" "winvmctl --help documents the exit codes"
}

# run_winvmd CONFIG [ARGS...]: run a second winvmd in the foreground with CONFIG (it must not
# get far enough to matter). Sets WD_RC, WD_ERR and WD_MS (how long it ran).
run_winvmd() {
    local config=$1 start now
    shift
    sb_now_ms start
    WD_ERR=$(timeout 20 "$WINVM_BUILD/service/winvmd" --config "$config" "$@" 2>&1 >/dev/null)
    WD_RC=$?
    sb_now_ms now
    WD_MS=$((now - start))
}

# assert_config_refused CONFIG KEY VALUE DESCRIPTION
assert_config_refused() {
    local config=$1 key=$2 value=$3
    run_winvmd "$config"
    if ((WD_RC != 0 && WD_RC != 124)); then
        ok "$4: winvmd exits non-zero ($WD_RC)"
    else
        fail "$4: winvmd exits non-zero" "rc=$WD_RC (124: still running after 20 s)" "stderr: $WD_ERR"
    fi
    if ((WD_MS < 5000)); then ok "$4: quickly (${WD_MS} ms)"; else fail "$4: quickly" "took $WD_MS ms"; fi
    assert_contains "$WD_ERR" "$config" "$4: the message names the file"
    assert_contains "$WD_ERR" "$key" "$4: the message names the key"
    assert_contains "$WD_ERR" "$value" "$4: the message names the value"

    run_winvmd "$config" --check-config
    if ((WD_RC != 0 && WD_RC != 124)); then
        ok "$4: --check-config exits non-zero"
    else
        fail "$4: --check-config exits non-zero" "rc=$WD_RC" "stderr: $WD_ERR"
    fi
}

test_broken_config() {
    local dir=$WINVM_SANDBOX/configs
    mkdir -p "$dir"
    # The sandbox's own file, IdleTimeoutSec=0 included: a key set to a bad value replaces it.
    sed 's/^IdleTimeoutSec=.*/IdleTimeoutSec=abc/' "$WINVM_CONF" >"$dir/idle.conf"
    sed 's|^VMs=.*|VMs=bad/name|' "$WINVM_CONF" >"$dir/vms.conf"
    { cat "$WINVM_CONF"; echo "Frobnicate=yes"; } >"$dir/unknown-key.conf"

    assert_config_refused "$dir/idle.conf" IdleTimeoutSec abc "IdleTimeoutSec=abc"
    assert_config_refused "$dir/vms.conf" VMs bad/name "VMs=bad/name"

    run_winvmd "$WINVM_CONF" --check-config
    assert_eq 0 "$WD_RC" "--check-config on the sandbox's file exits 0"
    assert_eq "" "$WD_ERR" "--check-config on the sandbox's file prints nothing"

    run_winvmd "$dir/unknown-key.conf" --check-config
    assert_eq 0 "$WD_RC" "--check-config with an unknown key exits 0"
    assert_contains "$WD_ERR" "warning" "an unknown key only warns"
    assert_contains "$WD_ERR" "Frobnicate" "the warning names the key"

    assert_winvmd_alive "$PID" "the running winvmd kept its name and pid through the broken configs"
}

# After all of that, the same winvmd still answers.
test_still_serving() {
    ctl jarrett status
    assert_ctl 0 "winvmctl status still answers at the end"
    assert_contains "$CTL_OUT" shutoff "status shows the guest shut off"
    assert_eq "$PID" "$WINVMD_PID" "winvmd was never restarted"
    assert_winvmd_alive "$PID" "winvmd still serving with the same pid"
}

monitor_start || exit 1
test_unknown_vm
test_absurd_timeout
test_wrong_types
test_bad_command_lines
test_broken_config
test_still_serving
guest_off
monitor_stop
summary
