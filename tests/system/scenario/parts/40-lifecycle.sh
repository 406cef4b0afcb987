# shellcheck shell=bash
# The VM's lifecycle as jarrett, checked against libvirt.

check "start" wctl start
check "libvirt: running" test "$(vm_state)" = running
check_output "status says running" 'running' wctl status
check "reboot" wctl reboot
check "still running after the reboot" test "$(vm_state)" = running
# No OS answers the ACPI request: shutdown forces it off after the timeout.
check "shutdown, forced after 2 s" wctl shutdown --timeout $((2 * SLOW)) --force
check "libvirt: shut off" test "$(vm_state)" = "shut off"
