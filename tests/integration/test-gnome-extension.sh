#!/usr/bin/env bash
# The GNOME Shell extension against the real winvmd: its bus model (gnome-extension/
# winvmModel.js) and its enable/disable paths with the Shell stubbed at the import boundary,
# under plain gjs as jarrett (group winvm) and mallory (outside it). A bus monitor checks
# that the model never polls: every call it sends is one the test asked for.
set -uo pipefail
# shellcheck source=tests/sandbox/sandbox-lib.sh
. "$WINVM_SRC/tests/sandbox/sandbox-lib.sh"
# shellcheck source=tests/integration/lib.sh
. "$WINVM_SRC/tests/integration/lib.sh"

EXT=$WINVM_SRC/gnome-extension

if ! command -v gjs >/dev/null; then
    fail "gjs is installed (scripts/install-deps installs it)"
    summary
    exit
fi

# gjs_test USER FILE ARGS...: run a gjs test file as USER; its TAP lines become ours.
# Sets GJS_OUT.
gjs_test() {
    local user=$1 file=$2 rc=0 line
    shift 2
    GJS_OUT=$(as_user "$user" gjs -m "$EXT/tests/$file" "$@" 2>&1) || rc=$?
    while IFS= read -r line; do
        case $line in
        "ok "*) ok "$user $file: ${line#ok * - }" ;;
        "not ok "*) fail "$user $file: ${line#not ok * - }" ;;
        "#"*) printf '%s\n' "$line" ;;
        esac
    done <<<"$GJS_OUT"
    assert_eq 0 "$rc" "$user gjs $file $* exits 0"
    if ((rc != 0)); then printf '#   %s\n' "${GJS_OUT//$'\n'/$'\n#   '}" | tail -n 20; fi
}

# Every method call to winvmd's two names, with its sender, for the no-polling check.
calls_log=$WINVM_SANDBOX/ext-calls.log
dbus-monitor --system "type='method_call',destination='org.winvm1'" \
    "type='method_call',destination='org.winvm1.Members'" >"$calls_log" 2>&1 &
monitor_pid=$!
wait_until 5 grep -q 'member=NameAcquired\|signal' "$calls_log"

test_model_lifecycle() {
    gjs_test jarrett modelTest.js lifecycle "$GUEST"
    assert_eq "shut off" "$(virsh_state "$GUEST")" "libvirt agrees the guest is off again"

    local name members
    name=$(sed -n 's/^# bus-name //p' <<<"$GJS_OUT")
    # The monitor sees a call once it passed through the bus: let it catch up.
    wait_until 5 grep -q "sender=$name .*member=CreateSnapshot" "$calls_log"
    members=$(grep -o "sender=$name .*member=[A-Za-z]*" "$calls_log" | sed 's/.*member=//' | sort | uniq -c |
        awk '{printf "%s%s=%s", sep, $2, $1; sep=","}')
    # GetManagedObjects once at start-up, a Ping to org.winvm1.Members before the first
    # call; after that only the calls the test made: Start twice (the second refused),
    # ForceStop, Shutdown (refused), CreateSnapshot. No Get/GetAll: properties come by signal.
    assert_eq "CreateSnapshot=1,ForceStop=1,GetManagedObjects=1,Ping=1,Shutdown=1,Start=2" "$members" \
        "the model's connection sent only the calls the test made (no polling)"
    if grep -q "sender=$name .*destination=org.winvm1.Members .*member=Start" "$calls_log"; then
        ok "jarrett's model calls org.winvm1.Members"
    else
        fail "jarrett's model calls org.winvm1.Members" "$(grep "sender=$name " "$calls_log")"
    fi
}

test_model_refused() {
    gjs_test mallory modelTest.js refused "$GUEST"
    assert_eq "shut off" "$(virsh_state "$GUEST")" "the refused start left the guest off"
}

test_extension_enable() {
    gjs_test jarrett enableTest.js "$GUEST"
    gjs_test mallory enableTest.js "$GUEST" refused
    assert_eq "shut off" "$(virsh_state "$GUEST")" "the guest is off after the extension tests"
}

# winvmd leaves the bus (as on its idle exit, the guest off) and comes back: the model keeps
# the VM with its last state, and does not start winvmd again by itself (the test does).
test_model_restart() {
    local out=$WINVM_SANDBOX/ext-restart.out pid rc=0 line
    as_user jarrett gjs -m "$EXT/tests/modelTest.js" restart "$GUEST" >"$out" 2>&1 &
    pid=$!
    if wait_until 30 grep -q '^# ready' "$out"; then
        stop_winvmd && start_winvmd
    fi
    wait "$pid" || rc=$?
    while IFS= read -r line; do
        case $line in
        "ok "*) ok "jarrett modelTest.js restart: ${line#ok * - }" ;;
        "not ok "*) fail "jarrett modelTest.js restart: ${line#not ok * - }" ;;
        "#   "*) printf '%s\n' "$line" ;;
        esac
    done <"$out"
    assert_eq 0 "$rc" "jarrett gjs modelTest.js restart exits 0"
}

# The model has no timers at all (the bus check above covers calls, this covers the code).
test_no_timers() {
    local hits
    hits=$(grep -nE 'timeout_add|idle_add|setTimeout|setInterval' "$EXT/winvmModel.js")
    assert_eq "" "$hits" "winvmModel.js sets no timers"
}

test_model_lifecycle
test_model_refused
test_extension_enable
test_model_restart
test_no_timers
kill "$monitor_pid" 2>/dev/null
wait "$monitor_pid" 2>/dev/null
summary
