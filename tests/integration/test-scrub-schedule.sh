#!/usr/bin/env bash
# Scheduled scrubs on a real loop-mounted btrfs: what winvm-scrub.service runs (winvmctl scrub
# scheduled, as root) starts a scrub job only for a filesystem whose last scrub is older than
# [Storage] ScrubInterval, and the doctor's storage.scrub-overdue counts both winvm's scrubs
# and btrfs-progs' (its status file in /var/lib/btrfs, which NixOS's autoScrub writes too).
set -uo pipefail
. "$WINVM_SRC/tests/sandbox/sandbox-lib.sh"
. "$WINVM_SRC/tests/integration/lib.sh"

STORE=$WINVM_SANDBOX/vmstore
IMG=$WINVM_SANDBOX/btrfs.img
DAY=86400

make_store() {
    truncate -s 512M "$IMG"
    mkfs.btrfs -q "$IMG" >/dev/null 2>&1
    mkdir -p "$STORE"
    mount -o loop "$IMG" "$STORE"
    head -c 64M /dev/urandom >"$STORE/windows11.qcow2"
    sync
    FSID=$(findmnt -no UUID "$STORE")
    STATUS=/var/lib/btrfs/scrub.status.$FSID
    printf '\n[Storage]\nFilesystems=images:%s\nScrubInterval=weekly\n' "$STORE" >>"$WINVM_CONF"
    restart_winvmd
}

set_interval() {
    sed -i "s/^ScrubInterval=.*/ScrubInterval=$1/" "$WINVM_CONF"
    restart_winvmd
}

# The doctor's storage.scrub-overdue as "STATUS MESSAGE".
overdue_check() {
    ctl jarrett --json doctor
    json_field "$CTL_OUT" \
        '[c["status"] + " " + c["message"] + " | " + c["remedy"] for c in d["checks"] if c["id"] == "storage.scrub-overdue"][0]'
}

# A field of the images filesystem in Storage.GetScrubSchedule, read as mallory (a read).
schedule_field() {
    call mallory /org/winvm1/storage org.winvm1.Storage.GetScrubSchedule
    python3 - "$CALL_OUT" "$1" <<'PY'
import re, sys
out, key = sys.argv[1], sys.argv[2]
m = re.search(r"'%s': <([^>]*)>" % re.escape(key), out)
print(m.group(1).strip("'") if m else "MISSING: " + out)
PY
}

jobs_count() { busctl --system get-property org.winvm1 /org/winvm1 org.winvm1.Manager Jobs | awk '{print $2}'; }

# Moves btrfs-progs' record of the last scrub N days back (its t_start is seconds).
age_progs_record() {
    local t=$(($(date +%s) - $1 * DAY))
    sed -i "s/|t_start:[0-9]*|/|t_start:$t|/" "$STATUS"
}

# Moves winvm's record of its last scrub N days back; winvmd reads it at start.
age_winvm_record() {
    local f=$WINVM_SANDBOX/state/scrub/images.scrub t
    t=$((($(date +%s) - $1 * DAY) * 1000000))
    sed -i "s/^StartedUSec=.*/StartedUSec=$t/" "$f"
    restart_winvmd
}

test_never_scrubbed() {
    assert_eq 604800 "$(prop mallory /org/winvm1/storage org.winvm1.Storage ScrubInterval | awk '{print $NF}')" \
        "ScrubInterval reads weekly (604800 s), a read for anyone"
    local c
    c=$(overdue_check)
    assert_contains "$c" "warn " "storage.scrub-overdue warns before any scrub"
    assert_contains "$c" "images ($STORE) has never been scrubbed" "and names the filesystem"
    assert_contains "$c" "winvmctl scrub start images" "the remedy says how to scrub it"
    assert_eq true "$(schedule_field due)" "GetScrubSchedule: images is due"
    assert_eq "" "$(schedule_field last_scrub_by)" "GetScrubSchedule: no last scrub"
}

test_btrfs_progs_scrub_counts() {
    btrfs scrub start -B "$STORE" >/dev/null
    assert_eq 0 "$?" "btrfs-progs scrubs the store (btrfs scrub start -B, as NixOS's autoScrub runs it)"
    if [[ -f $STATUS ]]; then ok "btrfs-progs wrote $STATUS"; else fail "no btrfs-progs status file" "$(ls /var/lib/btrfs)"; fi
    local c
    c=$(overdue_check)
    assert_contains "$c" "ok " "storage.scrub-overdue is ok after the btrfs-progs scrub"
    assert_contains "$c" "(by btrfs-progs)" "and credits btrfs-progs"
    assert_eq false "$(schedule_field due)" "GetScrubSchedule: not due"
    assert_eq btrfs-progs "$(schedule_field last_scrub_by)" "GetScrubSchedule: last scrub by btrfs-progs"

    local before
    before=$(jobs_count)
    ctl root --no-ask-password scrub scheduled
    assert_ctl 0 "winvmctl scrub scheduled (winvm-scrub.service's command) exits 0"
    assert_contains "$CTL_OUT" "images: not due, last scrubbed" "it says images is not due"
    assert_eq "$before" "$(jobs_count)" "and starts no job"
    call mallory /org/winvm1/storage org.freedesktop.DBus.Properties.Get org.winvm1.Storage LastScrub
    assert_not_contains "$CALL_OUT" "images" "winvm has no scrub of its own recorded"

    # Ten days and a second ago: overdue (weekly plus three days of grace), and due.
    age_progs_record 11
    c=$(overdue_check)
    assert_contains "$c" "warn " "storage.scrub-overdue warns when btrfs-progs' last scrub is 11 days old"
    assert_contains "$c" "images ($STORE) was last scrubbed 11 days ago (by btrfs-progs)" "naming its age and source"
    assert_eq true "$(schedule_field overdue)" "GetScrubSchedule: overdue"
    # A cancelled btrfs-progs scrub is no scrub.
    sed -i 's/|canceled:0|/|canceled:1|/' "$STATUS"
    assert_eq "" "$(schedule_field last_scrub_by)" "a cancelled btrfs-progs scrub does not count"
    sed -i 's/|canceled:1|/|canceled:0|/' "$STATUS"
}

test_scheduled_scrub_runs() {
    local out rc jobs_before
    jobs_before=$(jobs_count)
    out=$(winvmctl --no-ask-password scrub scheduled 2>&1)
    rc=$?
    assert_eq 0 "$rc" "winvmctl scrub scheduled as root scrubs the due filesystem: exit 0"
    assert_contains "$out" "images: due, last scrubbed" "it says images is due"
    assert_contains "$out" "images: scrub started (/org/winvm1/job/" "it starts a scrub job"
    assert_contains "$out" "finished: " "and waits for the job's end"
    assert_contains "$out" "no errors" "which it prints"
    assert_not_contains "$out" "progress " "without progress lines (it writes to the journal)"
    assert_eq $((jobs_before + 1)) "$(jobs_count)" "one job more on the Manager"

    ctl mallory scrub status images --json
    assert_eq finished "$(json_field "$CTL_OUT" 'd["last"]["outcome"]')" "LastScrub: the scheduled scrub finished"
    local c
    c=$(overdue_check)
    assert_contains "$c" "ok " "storage.scrub-overdue is ok after winvm's scrub"
    assert_contains "$c" "(by winvm)" "and credits winvm (newer than btrfs-progs' record)"
    assert_eq winvm "$(schedule_field last_scrub_by)" "GetScrubSchedule: last scrub by winvm"

    ctl root --no-ask-password scrub scheduled
    assert_ctl 0 "a second run right after"
    assert_contains "$CTL_OUT" "images: not due, last scrubbed" "finds nothing due"
    assert_eq $((jobs_before + 1)) "$(jobs_count)" "and starts nothing"
}

test_winvm_record_ages() {
    age_winvm_record 8
    assert_eq true "$(schedule_field due)" "8 days after winvm's scrub (and 11 after btrfs-progs'): due"
    assert_eq false "$(schedule_field overdue)" "but not yet overdue"
    assert_contains "$(overdue_check)" "ok " "the doctor agrees: not overdue"

    # Scheduled scrubs need the scrub action: mallory may read the schedule but not scrub.
    ctl mallory --no-ask-password scrub scheduled
    assert_ctl 3 "winvmctl scrub scheduled as mallory is refused (exit 3)"
    assert_contains "$CTL_ERR" org.winvm1.storage.scrub "naming the polkit action"
    assert_eq false "$(schedule_field running)" "no scrub runs after the refusal"

    ctl jarrett --no-ask-password scrub scheduled
    assert_ctl 0 "jarrett (in the winvm group) may run it too"
    assert_contains "$CTL_OUT" "no errors" "and it scrubs"
}

# A due filesystem that btrfs-progs is scrubbing right now (NixOS's autoScrub, by hand): the
# timer's run skips it and exits 0, so winvm-scrub.service does not fail.
test_busy_elsewhere_skipped() {
    local uuid jobs_before
    age_winvm_record 8
    assert_eq true "$(schedule_field due)" "(images is due again)"
    uuid=$(findmnt -no UUID "$STORE")
    echo $((1024 * 1024)) >"/sys/fs/btrfs/$uuid/devinfo/1/scrub_speed_max"
    btrfs scrub start "$STORE" >/dev/null
    wait_until 10 sh -c "btrfs scrub status '$STORE' | grep -q running"
    jobs_before=$(jobs_count)
    ctl root --no-ask-password scrub scheduled
    assert_ctl 0 "while btrfs-progs scrubs it, winvmctl scrub scheduled still exits 0"
    assert_contains "$CTL_OUT" "images: skipped, A scrub is already running on images" \
        "it says images is skipped, being scrubbed outside winvm"
    assert_eq "$jobs_before" "$(jobs_count)" "and starts no job"
    btrfs scrub cancel "$STORE" >/dev/null 2>&1
    echo 0 >"/sys/fs/btrfs/$uuid/devinfo/1/scrub_speed_max"
    wait_until 10 sh -c "! btrfs scrub status '$STORE' | grep -q running"
}

test_interval_follows_config() {
    set_interval 1h
    age_winvm_record 0
    assert_eq false "$(schedule_field due)" "ScrubInterval=1h: just scrubbed, not due"
    # The record half an hour and a minute old: due (the margin is at most half the interval).
    local f=$WINVM_SANDBOX/state/scrub/images.scrub t
    t=$((($(date +%s) - 1860) * 1000000))
    sed -i "s/^StartedUSec=.*/StartedUSec=$t/" "$f"
    restart_winvmd
    assert_eq true "$(schedule_field due)" "ScrubInterval=1h: 31 minutes later, due"

    set_interval 0
    assert_eq 0 "$(prop mallory /org/winvm1/storage org.winvm1.Storage ScrubInterval | awk '{print $NF}')" \
        "ScrubInterval=0 reads 0"
    local before
    before=$(jobs_count)
    ctl root --no-ask-password scrub scheduled
    assert_ctl 0 "ScrubInterval=0: winvmctl scrub scheduled exits 0"
    assert_contains "$CTL_OUT" "Scheduled scrubs are off" "and says scheduled scrubs are off"
    assert_eq "$before" "$(jobs_count)" "starting nothing"
    assert_contains "$(overdue_check)" "skipped Scheduled scrubs are off" "the doctor skips storage.scrub-overdue"

    # An unreadable filesystem beside it: skipped by both, named.
    set_interval weekly
    sed -i "s|^Filesystems=.*|Filesystems=images:$STORE gone:$WINVM_SANDBOX/not-mounted|" "$WINVM_CONF"
    restart_winvmd
    ctl root --no-ask-password scrub scheduled
    assert_ctl 0 "with an unreadable filesystem configured, still exit 0"
    assert_contains "$CTL_OUT" "gone ($WINVM_SANDBOX/not-mounted): skipped" "naming the one it skipped"
    assert_contains "$(overdue_check)" "not checked: gone" "the doctor names it as not checked"
}

make_store
test_never_scrubbed
test_btrfs_progs_scrub_counts
test_scheduled_scrub_runs
test_winvm_record_ages
test_busy_elsewhere_skipped
test_interval_follows_config
summary
