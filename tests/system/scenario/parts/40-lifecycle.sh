# shellcheck shell=bash disable=SC2154  # here: run-scenario sets it
# The VM's lifecycle as jarrett, checked against libvirt.

check "start" wctl start
check "libvirt: running" vm_is running
check_output "status says running" 'running' wctl status
# No OS answers the ACPI request: the reboot is asked for and the guest keeps running.
check "reboot is accepted" wctl reboot
check "running after the reboot request" vm_is running
# No OS answers the ACPI request: shutdown forces it off after the timeout.
check "shutdown, forced after 2 s" wctl shutdown --timeout $((2 * SLOW)) --force
check "libvirt: shut off" vm_is "shut off"
