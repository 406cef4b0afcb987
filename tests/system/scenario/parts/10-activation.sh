# shellcheck shell=bash disable=SC2154  # here: run-scenario sets it
# D-Bus activation under the unit exactly as installed, and exit on idle.

check "winvmd is not running before the first call" test "$(unit_prop winvmd.service ActiveState)" = inactive
check_output "winvmctl status as jarrett answers (bus activation)" "$VM" as jarrett winvmctl status
check "winvmd.service is active after that call" test "$(unit_prop winvmd.service ActiveState)" = active
first=$(unit_prop winvmd.service ActiveEnterTimestampMonotonic)
check_output "the unit runs from the installed file" \
    '^(/usr)?/lib/systemd/system/winvmd.service$' \
    systemctl show -P FragmentPath winvmd
check_output "with the definitions drop-in" '^/etc/systemd/system/winvmd.service.d/definitions.conf$' \
    systemctl show -P DropInPaths winvmd
pid=$(unit_prop winvmd.service MainPID)
check_output "winvmd runs with the unit's seccomp filter" '^Seccomp:[[:space:]]+2' grep '^Seccomp:' "/proc/$pid/status"
if ! wait_for 40 unit_is winvmd.service inactive; then
    not_ok "winvmd exits when idle (IdleTimeoutSec)" "still $(unit_prop winvmd.service ActiveState)"
else
    ok "winvmd exits when idle (IdleTimeoutSec)"
fi
as jarrett winvmctl status >/dev/null 2>&1
second=$(unit_prop winvmd.service ActiveEnterTimestampMonotonic)
check "the next call starts it again" test "$(unit_prop winvmd.service ActiveState)" = active -a "$second" -gt "$first"
