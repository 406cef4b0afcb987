#!/usr/bin/env bash
# A polkit that fails is not a polkit that is absent. Only when polkit's bus name has no owner
# may winvmd fall back to "only root"; a check polkitd does not answer in time (here: polkitd
# frozen with SIGSTOP, winvmd's deadline shortened to 3 s) is answered org.winvm1.Error.Busy
# saying so, and a check polkitd answers with an error (here: about a caller that left before
# polkitd looked it up, which polkitd reports as the bus's NameHasNoOwner) is never journalled
# as "polkit is not running". polkitd killed and started again: the fallback, then back.
set -uo pipefail
# shellcheck source=tests/sandbox/sandbox-lib.sh
. "$WINVM_SRC/tests/sandbox/sandbox-lib.sh"
# shellcheck source=tests/integration/lib.sh
. "$WINVM_SRC/tests/integration/lib.sh"

ABUSE=$WINVM_BUILD/tests/tools/bus-abuse
POLKITD=/usr/lib/polkit-1/polkitd
TIMEOUT_MS=3000
STATE_GET=(org.freedesktop.DBus.Properties.Get org.winvm1.VM State)
winvmd_log=$WINVM_SANDBOX/winvmd.log

stop_winvmd || exit 1
WINVMD_TEST_POLKIT_TIMEOUT_MS=$TIMEOUT_MS start_winvmd || exit 1
polkitd=$(pgrep -x polkitd | head -n 1)
trap '[[ -n ${polkitd:-} ]] && kill -CONT "$polkitd" 2>/dev/null' EXIT

polkit_gone() { ! sb_name_has_owner org.freedesktop.PolicyKit1; }

# read_state USER: a fresh connection (so polkit is asked) reads the VM's State; sets CALL_*
# and READ_MS.
read_state() {
    local start end
    sb_now_ms start
    call "$1" "$VM_PATH" "${STATE_GET[@]}" --timeout 20
    sb_now_ms end
    READ_MS=$((end - start))
}

read_state jarrett
assert_call_ok "polkitd running: jarrett reads the State"

# --- polkitd frozen: checks time out ----------------------------------------------------------
kill -STOP "$polkitd"
# A read polkit said yes to a moment ago is reused for the same user's new connection.
read_state jarrett
assert_call_ok "polkitd frozen: jarrett's read, granted seconds ago, is answered from the cache"
# mallory has not read yet: polkit must be asked, and does not answer.
read_state mallory
assert_call_error org.winvm1.Error.Busy "polkitd frozen: mallory's read is answered Busy, not refused"
assert_contains "$CALL_MSG" "polkit did not answer within 3 s" "and the message says what happened"
if ((READ_MS < 10000)); then
    ok "the answer came after ${READ_MS} ms, at winvmd's deadline (not the caller's timeout)"
else
    fail "the answer comes at winvmd's deadline" "${READ_MS} ms"
fi
read_state root
assert_call_ok "polkitd frozen: root's read is let through"

# Callers that leave while polkitd is frozen: their checks are in polkitd's queue; when it
# wakes up it cannot look them up and answers with the bus's NameHasNoOwner.
from=$(($(wc -l <"$winvmd_log") + 1))
as_user mallory "$ABUSE" vanish --clients 10 --concurrency 10 --calls 1 --seed 3 \
    --call "$VM_PATH org.winvm1.VM.Start" >/dev/null 2>&1
sleep 0.5
kill -CONT "$polkitd"
read_state jarrett
assert_call_ok "polkitd thawed: jarrett reads the State again"
wrong=$(tail -n "+$from" "$winvmd_log" | grep -c 'while polkit is not running')
assert_eq 0 "$wrong" "no check of a vanished caller was taken for 'polkit is not running'"

# --- polkitd gone: the root-only fallback, and back -------------------------------------------
kill "$polkitd"
wait_until 10 sh -c '! pgrep -x polkitd >/dev/null'
polkitd=
# The bus has told everyone (winvmd's polkit thread too, which then forgets cached verdicts).
wait_until 10 polkit_gone
sleep 0.5
read_state jarrett
assert_call_error org.freedesktop.DBus.Error.AccessDenied "polkitd gone: jarrett is refused"
assert_contains "$CALL_MSG" "only allowed to root while polkit is not running" "and told polkit is not running"
read_state root
assert_call_ok "polkitd gone: root reads the State"

"$POLKITD" --no-debug </dev/null >>"$WINVM_SANDBOX/logs/polkitd.log" 2>&1 &
polkitd=$!
wait_until 10 sb_name_has_owner org.freedesktop.PolicyKit1
read_state jarrett
assert_call_ok "polkitd started again: jarrett reads the State"
read_state mallory
assert_call_ok "polkitd started again: mallory reads the State (reads are allowed to all)"
assert_winvmd_alive "$WINVMD_PID" "winvmd survived polkitd's freeze, death and return"
summary
