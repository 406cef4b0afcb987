# shellcheck shell=bash disable=SC2154  # here: run-scenario sets it
# After the machine's reboot: nothing started winvmd, and what it keeps survived.

check "winvmd is not running after the boot" unit_is winvmd.service inactive
check_output "the snapshots are still there" 'fresh-install' wctl snapshot list
busctl --system get-property org.winvm1 /org/winvm1/storage org.winvm1.Storage LastScrub >"$STATE/last-scrub-after"
check "LastScrub is the same as before the reboot" cmp "$STATE/last-scrub" "$STATE/last-scrub-after"
. "$here/journal-checks.sh"
journal_checks "second boot"
