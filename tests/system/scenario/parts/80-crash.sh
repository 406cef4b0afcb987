# shellcheck shell=bash disable=SC2154  # here: run-scenario sets it
# winvmd killed (SIGKILL, as systemctl kill does) in the middle of a snapshot delete that
# merges data: the next call activates it again, it finishes or rolls back from its intent
# journal, and the VM is bootable with its bytes.

# Data below crash-base that deleting crash-base must copy into the disk above it.
check "64 MiB written before the snapshot" disk_write 0xd4 1M 64M
check "snapshot create crash-base" wctl snapshot create crash-base
check "a mark written after it" disk_write 0xc5

# Only winvmd runs qemu-img while the delete runs (the scenario waits for it), so a match is
# its merge. One pgrep per poll: asking systemctl for the MainPID each time as well could
# make a poll slow enough under TCG to miss a short merge.
merging() { pgrep -f 'qemu-img (rebase|commit)' >/dev/null; }
# The merge must outlast the polling below on any host: on an idle one, 96 and then 192 MiB
# merged between two polls. So winvmd.service (qemu-img is its child, in its cgroup) reads and
# writes the storage disk at 4 MB/s for this part, from a cold page cache: 64 MiB take 16 s.
storage_disk=$(findmnt -no SOURCE "$IMAGES")
sync
echo 3 >/proc/sys/vm/drop_caches
check "winvmd.service's I/O on $storage_disk is throttled to 4 MB/s" \
    systemctl set-property --runtime winvmd.service \
    "IOReadBandwidthMax=$storage_disk 4M" "IOWriteBandwidthMax=$storage_disk 4M"
wctl snapshot delete crash-base >"$STATE/crash-delete.log" 2>&1 &
caller=$!
killed=0
io_max=
end=$((SECONDS + 60 * SLOW))
while ((SECONDS < end)) && kill -0 "$caller" 2>/dev/null; do
    if merging; then
        io_max=$(cat /sys/fs/cgroup/system.slice/winvmd.service/io.max)
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
check_output "the merge ran under that limit (the cgroup's io.max)" 'rbps=4000000 wbps=4000000' echo "$io_max"
check "the throttle is lifted" systemctl set-property --runtime winvmd.service \
    IOReadBandwidthMax= IOWriteBandwidthMax=
check "winvmd.service is down after the kill" wait_for 10 unit_down winvmd.service
check_output "the next call activates it and lists the snapshots" 'fresh-install' wctl snapshot list
check "qemu-img check of the disk's chain after the recovery" qemu-img check -q -f qcow2 "$(current_disk)"
check "the disk reads its last bytes" disk_reads 0xc5
check "the data below crash-base is intact" qemu-io -f qcow2 -r -c "read -q -P 0xd4 64M 1M" "$(current_disk)"
check "the guest starts" wctl start
check "force-stop" wctl force-stop
if ! snapshots_lack crash-base; then
    check "delete crash-base again completes" wctl snapshot delete crash-base
fi
check "crash-base is gone" snapshots_lack crash-base
check "the data below it is still intact" qemu-io -f qcow2 -r -c "read -q -P 0xd4 64M 1M" "$(current_disk)"
