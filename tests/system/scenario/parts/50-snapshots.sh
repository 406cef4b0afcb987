# shellcheck shell=bash disable=SC2154  # here: run-scenario sets it
# Disk-only snapshots as jarrett, with the bytes inside the images checked at each step.

check "fresh-install's bytes written" disk_write 0xa1
check "snapshot create fresh-install" wctl snapshot create fresh-install -m "fresh install"
check "second's bytes written" disk_write 0xb2
check "snapshot create second" wctl snapshot create second
check "the last bytes written" disk_write 0xc3
check_output "snapshot list shows both" 'fresh-install.*second' bash -c "$(declare -f wctl); wctl snapshot list | tr '\n' ' '"
check "snapshot revert fresh-install (keeping the current state)" wctl snapshot revert fresh-install
check "the disk reads fresh-install's bytes" disk_reads 0xa1
kept=$(wctl snapshot list | grep -o 'pre-revert-[0-9-]*' | head -n1)
check "the state left is kept as a pre-revert snapshot" test -n "$kept"
check "snapshot revert $kept" wctl snapshot revert "$kept" --discard-current
check "the disk reads the bytes written last" disk_reads 0xc3
check "snapshot delete second (in the middle)" wctl snapshot delete second
check "the disk still reads its bytes" disk_reads 0xc3
check "snapshot revert fresh-install --discard-current" wctl snapshot revert fresh-install --discard-current
check "the disk reads fresh-install's bytes again" disk_reads 0xa1
check "qemu-img check of the disk's chain" qemu-img check -q -f qcow2 "$(current_disk)"
check "the guest starts from the reverted disk" wctl start
check "force-stop" wctl force-stop
