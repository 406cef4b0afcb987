# shellcheck shell=bash
# winvmd killed (SIGKILL, as systemctl kill does) in the middle of a snapshot delete that
# merges data: the next call activates it again, it finishes or rolls back from its intent
# journal, and the VM is bootable with its bytes.

check "snapshot create crash-base" wctl snapshot create crash-base
# Enough data above crash-base that merging it takes a while.
qemu-io -f qcow2 -c "write -q -P 0xd4 1M 96M" "$(current_disk)" >/dev/null
disk_write 0xc5

wctl snapshot delete crash-base >"$STATE/crash-delete.log" 2>&1 &
caller=$!
killed=0
for ((i = 0; i < 1000; i++)); do
    pid=$(unit_prop winvmd.service MainPID)
    if [[ $pid != 0 ]] && pgrep -P "$pid" qemu-img >/dev/null; then
        systemctl kill -s KILL winvmd.service
        killed=1
        break
    fi
    sleep 0.01
done
timeout $((60 * SLOW)) tail --pid="$caller" -f /dev/null || kill "$caller"
wait "$caller"
log "the interrupted delete said: $(tr '\n' ' ' <"$STATE/crash-delete.log")"
check "winvmd was killed while qemu-img merged the snapshot" test "$killed" = 1
check "winvmd.service is down after the kill" wait_for 10 unit_down winvmd.service
check_output "the next call activates it and lists the snapshots" 'fresh-install' wctl snapshot list
check "qemu-img check of the disk's chain after the recovery" qemu-img check -q -f qcow2 "$(current_disk)"
check "the disk reads its last bytes" disk_reads 0xc5
check "its merged data is intact" qemu-io -f qcow2 -r -c "read -q -P 0xd4 64M 1M" "$(current_disk)"
check "the guest starts" wctl start
check "force-stop" wctl force-stop
if wctl snapshot list | grep -q crash-base; then
    check "delete crash-base again completes" wctl snapshot delete crash-base
fi
check "crash-base is gone" bash -c "$(declare -f wctl); ! wctl snapshot list | grep -q crash-base"
