# shellcheck shell=bash
# shellcheck disable=SC2034  # CALL_*, CTL_*, SIGNAL_LINE, NEXT_STATE are results for the caller
# Helpers shared by tests/integration/test-*.sh. Source after sandbox-lib.sh:
#
#   . "$WINVM_SRC/tests/sandbox/sandbox-lib.sh"
#   . "$WINVM_SRC/tests/integration/lib.sh"
#
# Everything here waits for events (bus signals, process exits), never for fixed times.

GUEST=Windows11
MANAGER_PATH=/org/winvm1
VM_PATH=/org/winvm1/vm/$GUEST

# --- calling the service --------------------------------------------------------------

# run_as USER CMD...: CMD as USER, or directly for root (so "root" means uid 0 for real).
run_as() {
    local user=$1
    shift
    if [[ $user == root ]]; then "$@"; else as_user "$user" "$@"; fi
}

# ctl USER ARGS...: winvmctl ARGS as USER. Sets CTL_RC, CTL_OUT (stdout), CTL_ERR (stderr).
ctl() {
    local user=$1 errfile=$WINVM_SANDBOX/ctl.err
    shift
    CTL_OUT=$(run_as "$user" winvmctl "$@" 2>"$errfile")
    CTL_RC=$?
    CTL_ERR=$(<"$errfile")
}

# call USER PATH IFACE.METHOD [ARGS...]: a method call through gdbus, which prints the error
# *name* on failure ("GDBus.Error:NAME: message"). Sets CALL_RC, CALL_OUT (reply or error
# text), CALL_ERROR (the error name, empty on success) and CALL_MSG (the error message).
call() {
    local user=$1 path=$2 method=$3
    shift 3
    CALL_OUT=$(run_as "$user" gdbus call --system --dest org.winvm1 --object-path "$path" \
        --method "$method" "$@" 2>&1)
    CALL_RC=$?
    CALL_ERROR='' CALL_MSG=''
    if [[ $CALL_OUT =~ GDBus\.Error:([A-Za-z0-9_.]+):\ (.*) ]]; then
        CALL_ERROR=${BASH_REMATCH[1]} CALL_MSG=${BASH_REMATCH[2]}
    fi
}

# vm_call USER METHOD [ARGS...]: call on the guest's object, org.winvm1.VM interface.
vm_call() {
    local user=$1 method=$2
    shift 2
    call "$user" "$VM_PATH" "org.winvm1.VM.$method" "$@"
}

# raw_call USER PATH IFACE.METHOD [TYPE:VALUE...]: dbus-send, which lets the caller pick the
# argument types freely (gdbus insists on the introspected ones). Same variables as call().
raw_call() {
    local user=$1 path=$2 method=$3
    shift 3
    CALL_OUT=$(run_as "$user" dbus-send --system --print-reply --dest=org.winvm1 "$path" "$method" "$@" 2>&1)
    CALL_RC=$?
    CALL_ERROR='' CALL_MSG=''
    if [[ $CALL_OUT =~ ^Error\ ([A-Za-z0-9_.]+):\ (.*) ]]; then
        CALL_ERROR=${BASH_REMATCH[1]} CALL_MSG=${BASH_REMATCH[2]}
    fi
}

# assert_call_ok DESCRIPTION: the last call()/vm_call() succeeded.
assert_call_ok() {
    if ((CALL_RC == 0)); then ok "$1"; else fail "$1" "call failed: $CALL_OUT"; fi
}

# assert_call_error NAME DESCRIPTION: the last call failed with the error NAME.
assert_call_error() {
    if ((CALL_RC != 0)) && [[ $CALL_ERROR == "$1" ]]; then
        ok "$2"
    else
        fail "$2" "expected error: $1" "rc=$CALL_RC output: $CALL_OUT"
    fi
}

# assert_ctl RC DESCRIPTION: the last ctl() exited with RC.
assert_ctl() {
    if [[ $CTL_RC == "$1" ]]; then
        ok "$2"
    else
        fail "$2" "expected exit $1, got $CTL_RC" "stdout: $CTL_OUT" "stderr: $CTL_ERR"
    fi
}

# prop USER PATH IFACE NAME: print a property's value as busctl shows it, without the type
# (strings unquoted). Fails like busctl does.
prop() {
    local out
    out=$(run_as "$1" busctl --system get-property org.winvm1 "$2" "$3" "$4") || return
    out=${out#* }
    out=${out#\"}
    printf '%s\n' "${out%\"}"
}

# vm_prop NAME [USER]: a property of the guest's object (default user root).
vm_prop() { prop "${2:-root}" "$VM_PATH" org.winvm1.VM "$1"; }

# winvmd_state: the guest's State as winvmd publishes it.
winvmd_state() { vm_prop State; }

# libvirt_state: the guest's state in winvmd's words, computed from `virsh domstate`, so it
# can be compared with winvmd_state ("shut off" -> shutoff, "in shutdown" -> shutting-down).
libvirt_state() {
    local s
    s=$(virsh_state "$GUEST") || return
    case $s in
    "shut off") echo shutoff ;;
    "in shutdown") echo shutting-down ;;
    "pmsuspended") echo pmsuspended ;;
    *) echo "$s" ;;
    esac
}

# assert_libvirt STATE DESCRIPTION: libvirt's own word (`virsh domstate`) is STATE ("running",
# "shut off").
assert_libvirt() {
    local s
    s=$(virsh_state "$GUEST" 2>&1)
    assert_eq "$1" "$s" "$2 (virsh domstate: $1)"
}

# assert_winvmd_alive PID DESCRIPTION: the same winvmd process still runs and answers.
assert_winvmd_alive() {
    local pid=$1 owner_pid
    if ! sb_pid_alive "$pid"; then
        local log
        mapfile -t log < <(tail -n 5 "$WINVM_SANDBOX/winvmd.log")
        fail "$2" "winvmd (pid $pid) is gone; last lines of winvmd.log:" "${log[@]}"
        return
    fi
    owner_pid=$(busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
        GetConnectionUnixProcessID s org.winvm1 2>&1)
    owner_pid=${owner_pid#u }
    if [[ $owner_pid != "$pid" ]]; then
        fail "$2" "org.winvm1 is owned by pid '$owner_pid', not $pid"
        return
    fi
    if prop root "$MANAGER_PATH" org.winvm1.Manager Version >/dev/null; then
        ok "$2"
    else
        fail "$2" "pid $pid owns org.winvm1 but does not answer a property read"
    fi
}

# json_field JSON PYEXPR: evaluate PYEXPR on the parsed JSON document `d` (python3).
json_field() {
    python3 -c 'import json, sys; d = json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2" 2>&1
}

# --- waiting for signals --------------------------------------------------------------
#
# One `gdbus monitor` on every object of org.winvm1, read through a FIFO. Lines stay in the
# pipe until read, so a signal emitted before wait_signal is called is not lost: start the
# monitor before the action, then wait. wait_signal consumes the lines it reads, up to and
# including the match; every line read is also appended to $MONITOR_LOG for post-mortems.

MONITOR_PID='' MONITOR_FD='' MONITOR_LOG=''
SIGNAL_LINE=

# monitor_start: start the monitor and return once its match rule is active on the bus.
monitor_start() {
    local fifo=$WINVM_SANDBOX/monitor.fifo line owner=
    MONITOR_LOG=$WINVM_SANDBOX/monitor.log
    rm -f "$fifo"
    mkfifo "$fifo"
    gdbus monitor --system --dest org.winvm1 >"$fifo" 2>&1 &
    MONITOR_PID=$!
    exec {MONITOR_FD}<"$fifo"
    # "The name org.winvm1 is owned by :1.N" comes first...
    while IFS= read -r -t 10 -u "$MONITOR_FD" line; do
        printf '%s\n' "$line" >>"$MONITOR_LOG"
        if [[ $line =~ is\ owned\ by\ (:[0-9.]+) ]]; then
            owner=${BASH_REMATCH[1]}
            break
        fi
    done
    if [[ -z $owner ]]; then
        sb_error "gdbus monitor did not start"
        return 1
    fi
    # ...but gdbus subscribes only after printing it: wait until the bus has the rule.
    wait_until 10 monitor_rule_active "$owner" || {
        sb_error "gdbus monitor's match rule never showed up"
        return 1
    }
}

# monitor_rule_active OWNER: the bus holds gdbus monitor's rule for signals from OWNER. Asks
# dbus-daemon's Debug.Stats interface; where the bus lacks it, there is nothing to wait for.
monitor_rule_active() {
    local rules
    rules=$(busctl --system call org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus.Debug.Stats GetAllMatchRules 2>/dev/null) || return 0
    [[ $rules == *"\"type=\\'signal\\',sender=\\'$1\\'\""* ]]
}

monitor_stop() {
    [[ -n $MONITOR_PID ]] || return 0
    kill "$MONITOR_PID" 2>/dev/null
    wait "$MONITOR_PID" 2>/dev/null
    exec {MONITOR_FD}<&-
    MONITOR_PID=
}

# wait_signal SECONDS PATH REGEX: read monitor lines until a signal from object PATH matches
# the bash REGEX (matched against the signal's arguments); the line lands in SIGNAL_LINE.
# 1 after SECONDS without one.
wait_signal() {
    local secs=$1 path=$2 re=$3 line now deadline left frac
    sb_now_ms now
    deadline=$((now + secs * 1000))
    SIGNAL_LINE=
    while :; do
        sb_now_ms now
        left=$((deadline - now))
        ((left > 0)) || return 1
        printf -v frac '%03d' $((left % 1000))
        IFS= read -r -t "$((left / 1000)).$frac" -u "$MONITOR_FD" line || return 1
        printf '%s\n' "$line" >>"$MONITOR_LOG"
        if [[ $line == "$path: "* && ${line#"$path: "} =~ $re ]]; then
            SIGNAL_LINE=$line
            return 0
        fi
    done
}

# wait_state STATE [SECONDS]: wait for the guest's PropertiesChanged with State STATE.
wait_state() {
    wait_signal "${2:-30}" "$VM_PATH" "PropertiesChanged .*'State': <'$1'>"
}

# expect_state STATE DESCRIPTION [SECONDS]: wait_state as an assertion.
expect_state() {
    if wait_state "$1" "${3:-30}"; then
        ok "$2"
    else
        local seen
        mapfile -t seen < <(tail -n 6 "$MONITOR_LOG")
        fail "$2" "no PropertiesChanged with State '$1' within ${3:-30}s" \
            "last lines from the monitor ($MONITOR_LOG):" "${seen[@]}"
    fi
}

# wait_connected true|false [SECONDS]: wait for LibvirtConnected to change to the value.
wait_connected() {
    wait_signal "${2:-30}" "$MANAGER_PATH" "PropertiesChanged .*'LibvirtConnected': <$1>"
}

# next_state [SECONDS]: wait for the guest's next State change; the new State lands in
# NEXT_STATE (empty after SECONDS without one). Not in $(...): the monitor is read here.
next_state() {
    NEXT_STATE=
    wait_signal "${1:-30}" "$VM_PATH" "PropertiesChanged .*'State': <'([a-z-]+)'>" || return 1
    NEXT_STATE=${BASH_REMATCH[1]}
}

# --- guest set-up and clean-up --------------------------------------------------------

# guest_start USER: start the guest as USER and wait for State "running" (monitor needed).
guest_start() {
    ctl "$1" start
    assert_ctl 0 "$1: winvmctl start exits 0"
    expect_state running "State 'running' signalled after start"
    assert_libvirt running "guest started by $1"
}

# guest_off: make sure the guest is off (force-stop as root when it runs), for clean-up.
guest_off() {
    if [[ $(virsh_state "$GUEST") != "shut off" ]]; then
        virsh -q -c "$SB_URI" destroy "$GUEST" >/dev/null 2>&1
    fi
    assert_libvirt "shut off" "clean-up: guest left off"
}
