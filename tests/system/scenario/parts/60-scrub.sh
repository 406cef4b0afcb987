# shellcheck shell=bash disable=SC2154  # here: run-scenario sets it
# A btrfs scrub of the VM storage as a job, through the scrub ioctls under the unit; then the
# scheduled scrubs: winvm-scrub.timer and winvm-scrub.service as installed, the schedule
# following [Storage] ScrubInterval, and the doctor's storage.scrub-overdue counting winvm's
# scrubs and btrfs-progs' alike.
. "$here/journal-checks.sh"

check "scrub start images --wait as jarrett" wctl scrub start images --wait
check_output "scrub status: the last scrub finished" '^Last scrub: finished,' wctl scrub status images
check_output "scrub status: no errors" 'errors: checksum 0, read 0, verify 0; corrected 0, uncorrectable 0' wctl scrub status images

# --- scheduled scrubs ---

WINVM_RECORD=/var/lib/winvm/scrub/images.scrub
FSID=$(findmnt -no UUID "$IMAGES")
PROGS_RECORD=/var/lib/btrfs/scrub.status.$FSID
STAMP=/var/lib/systemd/timers/stamp-winvm-scrub.timer

# The doctor's storage.scrub-overdue as "STATUS MESSAGE".
overdue_check() {
    wctl --json doctor | python3 -c 'import json, sys
d = json.load(sys.stdin)
print(*[c["status"] + " " + c["message"] for c in d["checks"] if c["id"] == "storage.scrub-overdue"])'
}
# The start of winvm's last scrub of images (microseconds), from LastScrub.
last_scrub_start() {
    busctl --system --json=short get-property org.winvm1 /org/winvm1/storage org.winvm1.Storage LastScrub |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["images"]["started_usec"]["data"])'
}
# Both records N (winvm) and M (btrfs-progs) days old; winvmd reads its own at start.
age_records() {
    local now
    now=$(date +%s)
    sed -i "s/^StartedUSec=.*/StartedUSec=$(((now - $1 * 86400) * 1000000))/" "$WINVM_RECORD" &&
        sed -i "s/|t_start:[0-9]*|/|t_start:$((now - $2 * 86400))|/" "$PROGS_RECORD" &&
        systemctl stop winvmd
}
newer_scrub_than() { [[ $(last_scrub_start) -gt $1 ]]; }
# winvm-scrub.service's messages once one matches REGEX: journald may file the service's last
# lines of output after PID 1 has reported it inactive.
scrub_unit_said() {
    wait_for 10 journal_has "$1" -u winvm-scrub.service -o cat
    journalctl -b -q -u winvm-scrub.service -o cat
}

check "winvm-scrub.timer is installed" systemctl cat winvm-scrub.timer
check "winvm-scrub.service is installed" systemctl cat winvm-scrub.service
check "systemd-analyze verify accepts both" systemd-analyze verify --man=no winvm-scrub.timer winvm-scrub.service
check "the administrator enables the timer (systemctl enable --now)" systemctl enable --now winvm-scrub.timer
check "the timer is active" unit_is winvm-scrub.timer active
check_output "and waits for its next daily elapse" '[0-9]' unit_prop winvm-scrub.timer NextElapseUSecRealtime
check_output "the doctor: storage.scrub-overdue ok after winvm's scrub" '^ok .*images .* ago \(by winvm\)' overdue_check

# Right after a scrub nothing is due: the service starts no job.
before=$(last_scrub_start)
check "systemctl start winvm-scrub.service (nothing due)" systemctl start winvm-scrub.service
check_output "it succeeded" '^0$' unit_prop winvm-scrub.service ExecMainStatus
check_output "it said images is not due" 'images: not due, last scrubbed .* by winvm' scrub_unit_said 'images: not due, last scrubbed .* by winvm'
check_output "no new scrub" "^$before\$" last_scrub_start

# btrfs-progs scrubs (as NixOS's autoScrub does): the doctor counts it.
check "btrfs scrub start -B on the VM storage" btrfs scrub start -B "$IMAGES"
check "btrfs-progs wrote its record" test -s "$PROGS_RECORD"
check_output "the doctor: ok, by btrfs-progs (the newer scrub)" '^ok .*images .* ago \(by btrfs-progs\)' overdue_check

# Both records older than the interval plus the grace: overdue, naming btrfs-progs' (newer).
check "both records aged (winvm's 12 days, btrfs-progs' 11)" age_records 12 11
check_output "the doctor: storage.scrub-overdue warns, naming btrfs-progs' scrub" \
    '^warn .*images \(/vm-storage/images\) was last scrubbed 11 days ago \(by btrfs-progs\)' overdue_check

# The timer starts the service: a stamp from three days ago makes the Persistent timer catch up.
# systemd moves a missed elapse to the boot and adds RandomizedDelaySec (the unit's hour, so a
# catch-up scrub does not start with the desktop): a drop-in takes the delay away for the test.
before=$(last_scrub_start)
mkdir -p /etc/systemd/system/winvm-scrub.timer.d
printf '[Timer]\nRandomizedDelaySec=0\n' >/etc/systemd/system/winvm-scrub.timer.d/no-delay.conf
systemctl daemon-reload
systemctl stop winvm-scrub.timer
mkdir -p "$(dirname "$STAMP")"
touch -d '3 days ago' "$STAMP"
check "the timer restarted with a stamp three days old" systemctl start winvm-scrub.timer
check "the timer started winvm-scrub.service" wait_for 60 newer_scrub_than "$before"
check "which ran to its end" wait_for 60 unit_is winvm-scrub.service inactive
check_output "and succeeded" '^0$' unit_prop winvm-scrub.service ExecMainStatus
check_output "it scrubbed images, which was due, through a job" 'images: scrub started \(/org/winvm1/job/' scrub_unit_said 'images: scrub started \(/org/winvm1/job/'
check_output "the scheduled scrub finished without errors" 'finished: .* no errors' scrub_unit_said 'finished: .* no errors'
check_output "the doctor: ok again, by winvm" '^ok .*images .* ago \(by winvm\)' overdue_check
rm -r /etc/systemd/system/winvm-scrub.timer.d
systemctl daemon-reload

# systemctl start, with images due again.
check "both records aged again (8 and 9 days: due, not yet overdue)" age_records 8 9
check_output "the doctor: not overdue yet" '^ok ' overdue_check
before=$(last_scrub_start)
check "systemctl start winvm-scrub.service (images due)" systemctl start winvm-scrub.service
check_output "it succeeded" '^0$' unit_prop winvm-scrub.service ExecMainStatus
check "and scrubbed: LastScrub is newer" newer_scrub_than "$before"
check "winvm-scrub.service never killed by SIGSYS" journal_lacks 'status=31/SYS' -u winvm-scrub.service
check "no EPERM or EACCES in winvm-scrub.service's messages" \
    journal_lacks 'Operation not permitted|Permission denied|Read-only file system' -o cat -u winvm-scrub.service

busctl --system get-property org.winvm1 /org/winvm1/storage org.winvm1.Storage LastScrub >"$STATE/last-scrub"
check "LastScrub names the filesystem" grep -q images "$STATE/last-scrub"
