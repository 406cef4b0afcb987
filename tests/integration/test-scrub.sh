#!/usr/bin/env bash
# btrfs scrubs as Jobs, on a real loop-mounted btrfs with DUP data: progress, completion,
# the kept result, corruption found and repaired, cancel, refusals and bad input.
set -uo pipefail
. "$WINVM_SRC/tests/sandbox/sandbox-lib.sh"
. "$WINVM_SRC/tests/integration/lib.sh"

STORE=$WINVM_SANDBOX/vmstore
IMG=$WINVM_SANDBOX/btrfs.img

# A 1 GiB btrfs with two copies of data and metadata, holding a 300 MiB "disk image" and a
# 1 MiB canary file whose bytes the corruption test checks.
make_store() {
    truncate -s 1G "$IMG"
    mkfs.btrfs -q -d dup -m dup "$IMG" >/dev/null 2>&1
    mkdir -p "$STORE"
    mount -o loop "$IMG" "$STORE"
    head -c 300M /dev/urandom > "$STORE/windows11.qcow2"
    head -c 1M /dev/urandom > "$STORE/canary"
    sync
    UUID=$(findmnt -no UUID "$STORE")
    printf '\n[Storage]\nFilesystems=images:%s\n' "$STORE" >> "$WINVM_CONF"
    restart_winvmd
}

# Throttle the kernel's scrub on device 1 (bytes/s; 0 = unlimited) so a scrub lasts long
# enough to watch, cancel and collide with.
throttle() { echo "$1" > "/sys/fs/btrfs/$UUID/devinfo/1/scrub_speed_max"; }

job_finished() { [[ $(prop root "$1" org.winvm1.Job Finished) == true ]]; }

scrub_running_in_kernel() { btrfs scrub status "$STORE" 2>/dev/null | grep -q 'Status:.*running'; }

test_clean_scrub() {
    throttle $((100 * 1024 * 1024))
    local out rc
    out=$(as_user jarrett winvmctl scrub start images --wait)
    rc=$?
    assert_eq 0 "$rc" "a scrub of a clean filesystem succeeds (winvmctl scrub start --wait)"
    assert_contains "$out" "no errors" "the verdict says no errors"
    # Not a terminal: one "progress N%" line per PropertiesChanged of the Job.
    local pcts
    pcts=$(grep -o '^progress [0-9]*%' <<<"$out" | tr -dc '0-9\n' | sort -n -u | wc -l)
    if ((pcts >= 2)); then ok "Progress rose through $pcts distinct values"; else fail "Progress did not rise" "$out"; fi
    throttle 0

    ctl jarrett scrub status images --json
    assert_eq finished "$(json_field "$CTL_OUT" 'd["last"]["outcome"]')" "LastScrub outcome is finished"
    assert_eq 0 "$(json_field "$CTL_OUT" 'd["last"]["checksum_errors"]')" "LastScrub counts no checksum errors"
    local bytes
    bytes=$(json_field "$CTL_OUT" 'd["last"]["bytes_scrubbed"]')
    if ((bytes > 600 * 1024 * 1024)); then ok "LastScrub counts $bytes bytes (two copies of 300 MiB)"; else fail "bytes_scrubbed $bytes"; fi

    restart_winvmd
    ctl mallory scrub status images --json
    assert_eq finished "$(json_field "$CTL_OUT" 'd["last"]["outcome"]')" "LastScrub survives a restart of winvmd"
    assert_eq "$bytes" "$(json_field "$CTL_OUT" 'd["last"]["bytes_scrubbed"]')" "with the same figures"
}

test_corruption_repaired() {
    local before after logical physical
    before=$(sha256sum < "$STORE/canary")
    # filefrag prints btrfs logical addresses; map-logical turns one into the physical
    # offset of each copy on the device.
    logical=$(filefrag -v -b1 "$STORE/canary" | awk '$1 == "0:" {print $4}' | tr -d '.')
    physical=$(btrfs-map-logical -l "$logical" "$(findmnt -no SOURCE "$STORE")" 2>/dev/null \
        | awk '/mirror 1/ {for (i = 1; i <= NF; i++) if ($i == "physical") print $(i + 1)}' | head -n1)
    if [[ -z $logical || -z $physical ]]; then
        fail "found the canary's physical offset" "logical=$logical physical=$physical"
        return
    fi
    ok "canary at logical $logical, first copy at physical $physical"
    # Overwrite 64 KiB of the first copy behind btrfs's back.
    head -c 65536 /dev/zero | dd of="$IMG" bs=4096 seek=$((physical / 4096)) conv=notrunc status=none
    sync

    local out rc
    out=$(as_user jarrett winvmctl scrub start images --wait)
    rc=$?
    assert_eq 0 "$rc" "the scrub completes (errors it repaired are not a failure)"
    ctl jarrett scrub status images --json
    local csum corrected uncorrectable
    csum=$(json_field "$CTL_OUT" 'd["last"]["checksum_errors"]')
    corrected=$(json_field "$CTL_OUT" 'd["last"]["corrected_errors"]')
    uncorrectable=$(json_field "$CTL_OUT" 'd["last"]["uncorrectable_errors"]')
    if ((csum >= 16)); then ok "scrub reports $csum checksum errors"; else fail "checksum errors: $csum" "$out"; fi
    if ((corrected >= 16)); then ok "scrub corrected $corrected errors from the DUP copy"; else fail "corrected: $corrected"; fi
    assert_eq 0 "$uncorrectable" "nothing uncorrectable"
    assert_contains "$out" "corrected" "the verdict names the corrected errors"

    echo 3 > /proc/sys/vm/drop_caches
    after=$(sha256sum < "$STORE/canary")
    assert_eq "$before" "$after" "the canary reads back intact"
}

# Properties marked to be read with Get (dbus/org.winvm1.Job.xml, Storage.xml) stay out of
# GetManagedObjects and GetAll, yet Get answers each of them. JOB is a running scrub's job,
# after a finished scrub (LastScrub filled in).
check_read_with_get() {
    local job=$1 listing all p v
    listing=$(as_user jarrett busctl --system --json=short call org.winvm1 /org/winvm1 \
        org.freedesktop.DBus.ObjectManager GetManagedObjects)
    assert_eq "['Cancelable', 'Finished', 'Message', 'Objects', 'Operation', 'Success']" \
        "$(json_field "$listing" "sorted(d['data'][0]['$job']['org.winvm1.Job'])")" \
        "the listing carries the job's identity and outcome, not its progress figures"
    assert_eq "['Filesystems', 'RunningScrubs', 'ScrubInterval']" \
        "$(json_field "$listing" "sorted(d['data'][0]['/org/winvm1/storage']['org.winvm1.Storage'])")" \
        "the listing leaves LastScrub out"
    all=$(as_user jarrett busctl --system --json=short call org.winvm1 /org/winvm1/storage \
        org.freedesktop.DBus.Properties GetAll s org.winvm1.Storage)
    assert_eq "['Filesystems', 'RunningScrubs', 'ScrubInterval']" "$(json_field "$all" "sorted(d['data'][0])")" \
        "GetAll leaves LastScrub out too"
    for p in StartedByUID StartTime Progress ProgressValid Bytes Rate ExpectedEndTime; do
        v=$(prop jarrett "$job" org.winvm1.Job "$p")
        if [[ $v =~ ^(true|false|[0-9.e+-]+)$ ]]; then ok "Get reads the job's $p ($v)"; else fail "Get $p" "$v"; fi
    done
    assert_eq "$(id -u jarrett)" "$(prop jarrett "$job" org.winvm1.Job StartedByUID)" "StartedByUID is jarrett's"
    v=$(prop jarrett "$job" org.winvm1.Job Bytes)
    if ((v > 600 * 1024 * 1024)); then ok "Bytes reads the scrub's total ($v)"; else fail "Bytes during the scrub: $v"; fi
    assert_contains "$(as_user mallory busctl --system get-property org.winvm1 /org/winvm1/storage \
        org.winvm1.Storage LastScrub)" '"images" 14 "outcome" s "finished"' "Get reads LastScrub, the last scrub finished"
}

test_cancel() {
    throttle $((8 * 1024 * 1024))
    ctl jarrett scrub start images
    assert_ctl 0 "scrub started"
    local job=${CTL_OUT##* }
    assert_contains "$job" /org/winvm1/job/ "winvmctl prints the job path"
    monitor_start

    # The running Job serves exactly its documented interface.
    "$WINVM_BUILD/tests/tools/introspect-diff" "$job" "$WINVM_SRC/dbus/org.winvm1.Job.xml" >/dev/null
    assert_eq 0 "$?" "the Job's introspection matches dbus/org.winvm1.Job.xml"
    call mallory /org/winvm1 org.freedesktop.DBus.Properties.Get org.winvm1.Manager Jobs
    assert_contains "$CALL_OUT" "$job" "the Manager lists the job"
    check_read_with_get "$job"
    # Progress is announced by name only; winvmctl re-reads it with Get on each signal.
    if wait_signal 10 "$job" "PropertiesChanged \('org.winvm1.Job', (@a\{sv\} )?\{\}, \[[^]]*'Progress'"; then
        ok "the job's progress is signalled as invalidated, without values"
    else
        fail "no PropertiesChanged invalidating Progress" "$(grep "$job" "$MONITOR_LOG" | tail -3)"
    fi

    # Status calls are answered promptly while the scrub runs.
    local t0 t1
    sb_now_ms t0
    busctl --system get-property org.winvm1 "$VM_PATH" org.winvm1.VM State >/dev/null
    sb_now_ms t1
    assert_eq true "$(prop root "$job" org.winvm1.Job Cancelable)" "the running job is cancelable"
    if ((t1 - t0 < 500)); then ok "a status read took $((t1 - t0)) ms during the scrub"; else fail "status read took $((t1 - t0)) ms"; fi

    # A second scrub, from winvm or from btrfs-progs, is refused while this one runs.
    call jarrett /org/winvm1/storage org.winvm1.Storage.StartScrub images 0
    assert_call_error org.winvm1.Error.Busy "a second StartScrub is refused with Busy"
    assert_contains "$CALL_MSG" "already running" "and says a scrub is already running"

    call mallory "$job" org.winvm1.Job.Cancel
    assert_call_error org.freedesktop.DBus.Error.AccessDenied "mallory may not cancel jarrett's scrub"
    assert_contains "$CALL_MSG" org.winvm1.job.cancel "the refusal names org.winvm1.job.cancel"

    ctl jarrett scrub cancel images
    assert_ctl 0 "winvmctl scrub cancel"
    if wait_signal 30 "$job" "Completed \(false, '(cancelled[^']*)'\)"; then
        ok "Completed(false, \"cancelled ...\") was signalled"
    else
        fail "no Completed(false, cancelled) signal" "$(tail -5 "$MONITOR_LOG")"
    fi
    # The cancel's result replaces LastScrub: announced by name, its value left to Get.
    if grep -Eq "^/org/winvm1/storage: .*PropertiesChanged \('org.winvm1.Storage', (@a\{sv\} )?\{\}, \['LastScrub'\]\)" \
        "$MONITOR_LOG" || wait_signal 10 /org/winvm1/storage \
        "PropertiesChanged \('org.winvm1.Storage', (@a\{sv\} )?\{\}, \['LastScrub'\]\)"; then
        ok "LastScrub's change is signalled as invalidated, without its value"
    else
        fail "no PropertiesChanged invalidating LastScrub" "$(grep storage "$MONITOR_LOG" | tail -3)"
    fi
    monitor_stop
    assert_eq false "$(prop root "$job" org.winvm1.Job Success)" "the lingering job reads Success false"
    if scrub_running_in_kernel; then fail "the kernel still runs a scrub"; else ok "the kernel reports no scrub running"; fi
    btrfs scrub cancel "$STORE" >/dev/null 2>&1
    assert_eq 2 "$?" "btrfs scrub cancel finds nothing to cancel"
    ctl jarrett scrub status images --json
    assert_eq cancelled "$(json_field "$CTL_OUT" 'd["last"]["outcome"]')" "LastScrub records the cancel"
}

test_outside_scrub_detected() {
    throttle $((8 * 1024 * 1024))
    btrfs scrub start "$STORE" >/dev/null
    wait_until 10 scrub_running_in_kernel
    call jarrett /org/winvm1/storage org.winvm1.Storage.StartScrub images 0
    assert_call_error org.winvm1.Error.Busy "StartScrub is refused while btrfs-progs scrubs"
    assert_contains "$CALL_MSG" "outside winvm" "and says the scrub was started outside winvm"
    btrfs scrub cancel "$STORE" >/dev/null 2>&1
    throttle 0
}

test_refusals_and_bad_input() {
    call mallory /org/winvm1/storage org.winvm1.Storage.StartScrub images 0
    assert_call_error org.freedesktop.DBus.Error.AccessDenied "mallory may not start a scrub"
    assert_contains "$CALL_MSG" org.winvm1.storage.scrub "the refusal names org.winvm1.storage.scrub"
    ctl mallory --no-ask-password scrub start images
    assert_ctl 3 "winvmctl scrub start exits 3 for mallory"
    if scrub_running_in_kernel; then fail "a refused call started a scrub"; else ok "no scrub runs after the refusals"; fi

    local bad
    for bad in /etc "" ../images "$STORE/.." "images; rm -rf /" "$(printf 'x%.0s' {1..300})"; do
        call jarrett /org/winvm1/storage org.winvm1.Storage.StartScrub "$bad" 0
        assert_call_error org.winvm1.Error.InvalidArgument "StartScrub('${bad:0:20}') is InvalidArgument"
    done
    call jarrett /org/winvm1/storage org.winvm1.Storage.StartScrub images 2
    assert_call_error org.winvm1.Error.InvalidArgument "unknown flags are InvalidArgument"
    # The mount point works as well as the name.
    call jarrett /org/winvm1/storage org.winvm1.Storage.StartScrub "$STORE" 1
    assert_call_ok "StartScrub by mount point, read-only"
    local job
    job=$(sed -n "s/.*objectpath '\([^']*\)'.*/\1/p" <<<"$CALL_OUT")
    wait_until 60 job_finished "$job"
    assert_eq true "$(prop root "$job" org.winvm1.Job Success)" "the read-only scrub succeeded"
}

test_storage_facts() {
    ctl mallory storage --json
    assert_ctl 0 "winvmctl storage (a read) works for mallory"
    assert_eq True "$(json_field "$CTL_OUT" 'd[0]["btrfs"]')" "the store is btrfs"
    assert_eq 5 "$(json_field "$CTL_OUT" 'd[0]["subvolume_id"]')" "the store's top is subvolume 5"
}

test_images_nocow() {
    # Move the guest's disk into a NOCOW folder of the store, as `chattr +C` users do.
    mkdir "$STORE/nocow"
    chattr +C "$STORE/nocow"
    cp "$WINVM_IMAGES/windows11.qcow2" "$STORE/nocow/windows11.qcow2"
    chown --reference="$WINVM_IMAGES/windows11.qcow2" "$STORE/nocow/windows11.qcow2"
    chmod 0755 "$STORE" "$STORE/nocow"
    virsh -q dumpxml --inactive "$GUEST" | sed "s|$WINVM_IMAGES/windows11.qcow2|$STORE/nocow/windows11.qcow2|" \
        > "$WINVM_SANDBOX/moved.xml"
    virsh -q define "$WINVM_SANDBOX/moved.xml" >/dev/null

    call mallory /org/winvm1/storage org.winvm1.Storage.GetImages
    assert_call_ok "GetImages is a read mallory may do"
    assert_contains "$CALL_OUT" "('$GUEST', '$STORE/nocow/windows11.qcow2', true, true, '')" \
        "the image in the NOCOW folder is reported NOCOW"
    ctl jarrett storage
    assert_contains "$CTL_OUT" "NOCOW" "winvmctl storage warns that scrub cannot protect it"

    # Copied out of the NOCOW folder, it has checksums again.
    cp "$STORE/nocow/windows11.qcow2" "$STORE/windows11-cow.qcow2"
    virsh -q dumpxml --inactive "$GUEST" | sed "s|$STORE/nocow/windows11.qcow2|$STORE/windows11-cow.qcow2|" \
        > "$WINVM_SANDBOX/moved.xml"
    virsh -q define "$WINVM_SANDBOX/moved.xml" >/dev/null
    call jarrett /org/winvm1/storage org.winvm1.Storage.GetImages
    assert_contains "$CALL_OUT" "('$GUEST', '$STORE/windows11-cow.qcow2', true, false, '')" \
        "an image with copy-on-write is not NOCOW"
}

make_store
test_images_nocow
test_clean_scrub
test_corruption_repaired
test_cancel
test_outside_scrub_detected
test_refusals_and_bad_input
test_storage_facts
summary
