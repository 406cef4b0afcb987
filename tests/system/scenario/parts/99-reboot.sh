# shellcheck shell=bash disable=SC2154  # here: run-scenario sets it
# What winvmd wrote to the journal so far, checked before the reboot; then the reboot.
. "$here/journal-checks.sh"
journal_checks "first boot"
