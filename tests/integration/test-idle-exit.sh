#!/usr/bin/env bash
# winvmd exits when idle (D-Bus activation brings it back), never while a call or a
# Shutdown wait is pending, and exits cleanly on SIGTERM.
set -uo pipefail
. "$WINVM_SRC/tests/sandbox/sandbox-lib.sh"

stop_winvmd

# Starts winvmd as our child with IdleTimeoutSec=$1, so `wait` gives its exit status.
start_child_winvmd() {
    sed "s/^IdleTimeoutSec=.*/IdleTimeoutSec=$1/" "$WINVM_CONF" > "$WINVM_SANDBOX/idle.conf"
    "$WINVM_BUILD/service/winvmd" --config "$WINVM_SANDBOX/idle.conf" >>"$WINVM_SANDBOX/winvmd.log" 2>&1 &
    child=$!
    wait_until 10 busctl --system status org.winvm1 >/dev/null 2>&1
}

# 1. Idle: exits by itself, status 0, and releases the name.
start_child_winvmd 2
t0=$EPOCHREALTIME
timeout 15 tail --pid="$child" -f /dev/null
wait "$child"; rc=$?
elapsed=$(python3 -c "print(round($EPOCHREALTIME - $t0, 1))")
assert_eq 0 "$rc" "winvmd exits with status 0 after the idle timeout"
python3 -c "import sys; sys.exit(0 if 1.5 <= $elapsed <= 6 else 1)" \
    && ok "idle exit came after ${elapsed}s for IdleTimeoutSec=2" \
    || fail "idle exit after ${elapsed}s, expected about 2s"
busctl --system status org.winvm1 >/dev/null 2>&1 \
    && fail "org.winvm1 still owned after idle exit" || ok "org.winvm1 released after idle exit"

# 2. A pending Shutdown wait (4 s) outlasts a 1 s idle timeout: the reply still comes.
start_child_winvmd 1
as_user jarrett winvmctl start
assert_eq running "$(virsh_state Windows11)" "guest started for the wait test"
as_user jarrett winvmctl shutdown --timeout 4 --force
assert_eq 0 "$?" "shutdown wait of 4 s answered although IdleTimeoutSec=1"
assert_eq "shut off" "$(virsh_state Windows11)" "libvirt reports the guest shut off"
timeout 15 tail --pid="$child" -f /dev/null
wait "$child"
assert_eq 0 "$?" "winvmd exits once the wait is over"

# 2b. A running guest keeps winvmd (desktop clients follow its state); once it is off, the
# idle exit comes.
start_child_winvmd 1
as_user jarrett winvmctl start
assert_eq running "$(virsh_state Windows11)" "guest started for the running-guest test"
sleep 3 # three idle timeouts: a wait for nothing to happen
busctl --system status org.winvm1 >/dev/null 2>&1 && ok "winvmd stays 3 s past IdleTimeoutSec=1 while the guest runs" \
    || fail "winvmd exited on idle while the guest runs"
as_user jarrett winvmctl force-stop
timeout 15 tail --pid="$child" -f /dev/null
wait "$child"
assert_eq 0 "$?" "winvmd exits on idle once the guest is off"

# 3. sd_notify: READY=1 once the name is owned, and a STATUS line for systemctl status.
notify_sock=$WINVM_SANDBOX/notify.sock
python3 - "$notify_sock" > "$WINVM_SANDBOX/notify.out" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(15)
got = ""
while "READY=1" not in got or "STATUS=" not in got:
    got += s.recv(4096).decode() + "\n"
print(got)
PY
listener=$!
wait_until 5 test -S "$notify_sock"
sed "s/^IdleTimeoutSec=.*/IdleTimeoutSec=0/" "$WINVM_CONF" > "$WINVM_SANDBOX/idle.conf"
NOTIFY_SOCKET=$notify_sock "$WINVM_BUILD/service/winvmd" --config "$WINVM_SANDBOX/idle.conf" >>"$WINVM_SANDBOX/winvmd.log" 2>&1 &
child=$!
wait "$listener"
assert_eq 0 "$?" "winvmd sent sd_notify messages"
notes=$(<"$WINVM_SANDBOX/notify.out")
assert_contains "$notes" "READY=1" "READY=1 was sent"
assert_contains "$notes" "STATUS=Managing 1 VM" "STATUS says what winvmd manages"
busctl --system status org.winvm1 >/dev/null 2>&1 && ok "org.winvm1 is owned when READY=1 arrives" \
    || fail "org.winvm1 not owned after READY=1"
kill -TERM "$child"
wait "$child"

# 4. SIGTERM: clean exit with status 0.
start_child_winvmd 0
kill -TERM "$child"
timeout 15 tail --pid="$child" -f /dev/null
wait "$child"
assert_eq 0 "$?" "winvmd exits with status 0 on SIGTERM"

summary
