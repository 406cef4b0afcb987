#!/usr/bin/env bash
# Identical reads share one run (OpOptions.share in service/runtime/operation.h): Doctor calls
# that arrive while another Doctor of the same VM is still queued are answered by that run,
# so a burst of them costs winvmd a few runs, not one each. Each run reads /proc/cpuinfo once
# (the doctor's CPU checks); strace counts those opens on winvmd's threads. Calls that follow
# one another still get a run of their own each: nothing is answered from an older result.
set -uo pipefail
# shellcheck source=tests/sandbox/sandbox-lib.sh
. "$WINVM_SRC/tests/sandbox/sandbox-lib.sh"
# shellcheck source=tests/integration/lib.sh
. "$WINVM_SRC/tests/integration/lib.sh"

ABUSE=$WINVM_BUILD/tests/tools/bus-abuse
OUT=$WINVM_SANDBOX/shared-reads
BURST=8 # CALL_LIMIT_PER_UID: one user's calls queued at once, all served
DOCTOR="/org/winvm1 org.winvm1.Manager.Doctor s $GUEST"
mkdir -p "$OUT"

stop_winvmd || exit 1
start_winvmd || exit 1

# runs: the doctor runs strace has seen so far (opens of /proc/cpuinfo by winvmd).
runs() { cat "$OUT"/strace.* 2>/dev/null | grep -c '"/proc/cpuinfo"'; }
args=()
for t in /proc/"$WINVMD_PID"/task/*; do args+=(-p "${t##*/}"); done
strace -f -qq -e trace=openat -o "$OUT/strace" -ff "${args[@]}" 2>>"$OUT/strace.err" &
strace_pid=$!
wait_until 10 sh -c "ls '$OUT'/strace.* >/dev/null 2>&1"

# jarrett's first read asks polkit; the burst after it is answered from winvmd's cache.
call jarrett /org/winvm1 org.winvm1.Manager.Doctor "$GUEST"
assert_call_ok "a first Doctor call is served"
wait_until 10 sh -c "cat '$OUT'/strace.* | grep -q '\"/proc/cpuinfo\"'"
assert_eq 1 "$(runs)" "the first Doctor call ran the checks once"

# Three more, one after another: three more runs.
for i in 1 2 3; do
    call jarrett /org/winvm1 org.winvm1.Manager.Doctor "$GUEST"
    assert_call_ok "Doctor call $i of three in a row is served"
done
assert_eq 4 "$(runs)" "calls one after another each get a run of their own (no answer from an older run)"

# A burst: BURST calls pipelined on one connection, all written before the first answer.
as_user jarrett "$ABUSE" flood --calls "$BURST" --timeout 60 --call "$DOCTOR" >"$OUT/burst.out" 2>&1
served=$(awk '$1 == "reply" && $3 == "service" && $4 == "(method" { s += $2 } END { print s + 0 }' "$OUT/burst.out")
assert_eq "$BURST" "$served" "all $BURST pipelined Doctor calls are served"
sed 's/^/# /' "$OUT/burst.out"
burst_runs=$(($(runs) - 4))
if ((burst_runs >= 1 && burst_runs < BURST)); then
    ok "the $BURST pipelined calls were answered by $burst_runs runs of the checks"
else
    fail "pipelined Doctor calls share runs" "$burst_runs runs for $BURST calls"
fi

# A call after the burst gets a run of its own again: the shared run is forgotten once answered.
call jarrett /org/winvm1 org.winvm1.Manager.Doctor "$GUEST"
assert_call_ok "a Doctor call after the burst is served"
assert_eq $((4 + burst_runs + 1)) "$(runs)" "a call after the burst runs the checks anew"

kill "$strace_pid" 2>/dev/null
wait "$strace_pid" 2>/dev/null
assert_winvmd_alive "$WINVMD_PID" "winvmd is alive"
summary
