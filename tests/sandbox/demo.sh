#!/usr/bin/env bash
# The demo: the desktop user jarrett (in the winvm group) drives the VM without sudo.
set -uo pipefail
. "$WINVM_SRC/tests/sandbox/sandbox-lib.sh"

# Bold prompts on a terminal only.
if [[ -t 1 && -z ${NO_COLOR:-} ]]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi

run() {
    printf '\n%sjarrett$ %s%s\n' "$bold" "$*" "$plain"
    as_user jarrett "$@"
    local rc=$?
    [[ $rc -eq 0 ]] || printf '(exit status %d)\n' "$rc"
}

echo "A guest named Windows11 (no OS, so it ignores the ACPI power button) runs under libvirt."
run winvmctl status
run winvmctl start
run winvmctl status
run winvmctl shutdown --timeout 3 --force
run winvmctl status
printf '\nmallory is not in the winvm group:\n'
printf '\n%smallory$ winvmctl start%s\n' "$bold" "$plain"
as_user mallory winvmctl --no-ask-password start
printf '(exit status %d)\n' "$?"
