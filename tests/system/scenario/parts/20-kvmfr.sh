# shellcheck shell=bash disable=SC2154  # here: run-scenario sets it
# Looking Glass's kvmfr through winvmd: the rule and options written, the module loaded
# (a real finit_module under the unit's seccomp filter), the device made by udev from that
# rule, QEMU mapping it for the seed's IVSHMEM, and no unload under a running guest.

check "kvmfr apply-permissions as jarrett" wctl kvmfr apply-permissions
check_output "the udev rule gives the device jarrett:kvm 0660" 'OWNER="jarrett".*GROUP="kvm".*MODE="0660"' \
    cat /etc/udev/rules.d/99-kvmfr.rules
check_output "the module options size it for 3840x2160 (128 MiB)" '^options kvmfr static_size_mb=128$' \
    cat /etc/modprobe.d/kvmfr.conf
check "kvmfr load as jarrett" wctl kvmfr load
check "winvmd is still running after the load" unit_is winvmd.service active
check_output "the module runs with static_size_mb=128" '^128$' cat /sys/module/kvmfr/parameters/static_size_mb
udevadm settle
check "/dev/kvmfr0 is a character device" test -c /dev/kvmfr0
check_output "udev gave /dev/kvmfr0 the rule's owner, group and mode" '^jarrett kvm 660$' stat -c '%U %G %a' /dev/kvmfr0
check_output "getfacl: the owner jarrett reads and writes, the group kvm too" \
    '# owner: jarrett.*# group: kvm.*user::rw-.*group::rw-' bash -c "getfacl -p /dev/kvmfr0 | tr '\n' ' '"
# The rule is udev's, not a chown of winvmd's: loaded again without winvmd, the same result.
check "modprobe -r kvmfr (without winvmd)" modprobe -r kvmfr
check "the device is gone" wait_for 5 test ! -e /dev/kvmfr0
check "modprobe kvmfr, with the options winvmd wrote" modprobe kvmfr
udevadm settle
check_output "the module runs with static_size_mb=128 again" '^128$' cat /sys/module/kvmfr/parameters/static_size_mb
check_output "udev gives the new device the same owner, group and mode" '^jarrett kvm 660$' \
    stat -c '%U %G %a' /dev/kvmfr0
check "kvmfr status: every check passes" wctl kvmfr status

check "the guest starts with the seed's IVSHMEM on /dev/kvmfr0" wctl start
check "QEMU maps /dev/kvmfr0" wait_for 20 qemu_maps_kvmfr
check "the module saw the mapping" test "$(cat /sys/module/kvmfr/parameters/maps)" -ge 1
check_refused "kvmfr unload is refused while the guest runs" "is running and uses /dev/kvmfr0" wctl kvmfr unload
unload_exit() { wctl kvmfr unload >/dev/null 2>&1; echo $?; }
check_output "with exit status 5 (GuestRunning: the guest must be off first)" '^5$' unload_exit
check "the module is still loaded" test -d /sys/module/kvmfr
check "force-stop" wctl force-stop
check "kvmfr unload with the guest off" wctl kvmfr unload
check "the module is gone" test ! -e /sys/module/kvmfr
check "kvmfr load again (the rest of the scenario starts the guest)" wctl kvmfr load
udevadm settle
