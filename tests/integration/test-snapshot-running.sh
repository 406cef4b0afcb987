#!/usr/bin/env bash
# Snapshots of a running guest. While it runs, the guest's disk is written through QEMU's
# own block layer (over the monitor), so the bytes a snapshot must hold are known. Creating
# snapshots keeps the guest running; RevertSnapshot without flag 1 is refused with
# GuestRunning and changes nothing; with flags 1|4 the guest (no OS: it ignores ACPI) is
# forced off after ShutdownTimeoutSec, reverted and started again on an overlay of the
# snapshot's frozen image. DeleteSnapshot of the current snapshot, whose only dependent is
# the running disk, pulls its data into that disk; one whose merge would rewrite images the
# guest has open is refused with GuestRunning. At the end, with the guest off, every
# snapshot and the current disk read back their exact bytes.
set -uo pipefail
# shellcheck source=tests/sandbox/sandbox-lib.sh
. "$WINVM_SRC/tests/sandbox/sandbox-lib.sh"
# shellcheck source=tests/integration/lib.sh
. "$WINVM_SRC/tests/integration/lib.sh"

declare -A SNAP=()
CUR=''
ORDER=()
IMAGES=$WINVM_IMAGES
TIMEOUT=2
NAME_TIME_RE='[0-9]{8}-[0-9]{6}'
DEV=virtio-disk0/virtio-backend
# The running guest may touch its images' sizes: "nothing changed" compares file names only.
WORLD_SIZES=0

# guest_reads STAGES: the running guest's disk, read through QEMU, holds STAGES (as
# image_reads does for a file). Mismatches land in IMAGE_MISMATCH.
guest_reads() {
    local k b last=0 out=''
    local -a stages
    local -A want=()
    read -ra stages <<<"$1"
    for k in "${stages[@]}"; do want[$k]=1 last=$k; done
    b=0
    ((last)) && b=$(stage_byte "$last")
    out+=$(virsh -q qemu-monitor-command "$GUEST" --hmp "qemu-io -d $DEV \"read -P $b 0 1M\"" 2>&1)$'\n'
    for ((k = 1; k <= STAGE_MAX; k++)); do
        b=0
        [[ -n ${want[$k]:-} ]] && b=$(stage_byte "$k")
        out+=$(virsh -q qemu-monitor-command "$GUEST" --hmp "qemu-io -d $DEV \"read -P $b ${k}M 1M\"" 2>&1)$'\n'
    done
    IMAGE_MISMATCH=$(grep -v -e '^read [0-9]*/[0-9]* bytes at offset' -e ' ops; ' -e '^[[:space:]]*$' <<<"$out")
    [[ -z $IMAGE_MISMATCH ]]
}

assert_guest_reads() {
    local lines
    if guest_reads "$1"; then
        ok "$2"
    else
        mapfile -t lines <<<"$IMAGE_MISMATCH"
        fail "$2" "the running disk should hold stages '$1' (of 1..$STAGE_MAX)" "${lines[@]:0:8}"
    fi
}

assert_running() {
    if wait_until 30 guest_running; then ok "$1"; else fail "$1" "virsh domstate: $(virsh_state "$GUEST")"; fi
}

# take_running NAME: CreateSnapshot while the guest runs.
take_running() {
    local name=$1 parent=${CUR_SNAP:-}
    snap_create jarrett "$name" "taken while running"
    assert_call_ok "CreateSnapshot($name) while the guest runs"
    assert_eq "$name" "$SNAP_RESULT" "it returns the name $name"
    SNAP[$name]=$CUR
    ORDER+=("$name")
    CUR_SNAP=$name
    assert_libvirt running "the guest still runs after snapshot $name"
    assert_eq running "$(snap_eval "S['$name']['GuestState']")" "$name: GuestState running"
    assert_eq "$parent" "$(snap_eval "S['$name']['Parent']")" "$name: Parent '$parent'"
    assert_eq "$IMAGES/windows11.$name" "$(live_disk)" "$name: the running guest writes to windows11.$name"
    assert_eq "$IMAGES/windows11.$name" "$(current_disk)" "$name: and so does its persistent definition"
    assert_eq "$(snap_image "$name")" "$(backing_of "$(live_disk)")" "$name: the running disk is backed by $name's frozen image"
    assert_eq "${ORDER[*]}" "$(snap_prop root)" "Snapshots lists ${ORDER[*]}"
}

test_setup() {
    conf_set ShutdownTimeoutSec "$TIMEOUT"
    # shellcheck disable=SC2119  # no arguments for winvmd
    restart_winvmd || fail "winvmd restarts with ShutdownTimeoutSec=$TIMEOUT"
    stage_write 1
    CUR="1"
    CUR_SNAP=''
    vm_call jarrett Start
    assert_call_ok "Start"
    assert_running "the guest runs"
}

test_create_running() {
    guest_stage_write 2
    CUR="1 2"
    take_running r1
    guest_stage_write 3
    CUR="1 2 3"
    take_running r2
    guest_stage_write 4
    CUR="1 2 3 4"
    assert_guest_reads "$CUR" "the running disk reads stages '$CUR'"
    # The frozen images are not written by the guest: they can be read while it runs.
    assert_image_reads "$(snap_image r1)" "1 2" "r1's frozen image reads stages '1 2' (guest running)"
    assert_image_reads "$(snap_image r2)" "1 2 3" "r2's frozen image reads stages '1 2 3' (guest running)"
    assert_eq "" "$(virsh -q snapshot-list --name "$GUEST" 2>&1)" "libvirt's own snapshot list stays empty"
}

# Without flag 1, a revert of the running guest is refused and nothing moves; with 1 but
# not 4 the guest (ignoring ACPI) does not stop in time, and nothing moves either.
test_revert_refused() {
    local before flags
    before=$(world_state 2>&1)
    for flags in 0 2; do
        snap_revert jarrett r1 "$flags"
        assert_call_error org.winvm1.Error.GuestRunning "RevertSnapshot(r1, $flags) while running: GuestRunning"
        assert_libvirt running "the guest still runs after RevertSnapshot(r1, $flags)"
        assert_unchanged "$before" "nothing changed after RevertSnapshot(r1, $flags)"
    done
    snap_revert jarrett r1 1
    if ((CALL_RC != 0)); then
        ok "RevertSnapshot(r1, 1) fails when the guest ignores the shutdown (${CALL_ERROR:-$CALL_OUT})"
    else
        fail "RevertSnapshot(r1, 1) fails when the guest ignores the shutdown" "it succeeded: $CALL_OUT"
    fi
    assert_running "the guest still runs after RevertSnapshot(r1, 1)"
    assert_unchanged "$before" "nothing changed after RevertSnapshot(r1, 1)"
    assert_guest_reads "$CUR" "the running disk still reads stages '$CUR'"
}

# Flags 1|4: forced off after the timeout, reverted, started again. While it waits for the
# guest (at least ShutdownTimeoutSec), other snapshot operations on the VM get Busy, and
# property reads are answered at once.
test_revert_running() {
    local t0 t1 ms kept live chain bg out=$WINVM_SANDBOX/revert.out q0 q1 names
    sb_now_ms t0
    as_user jarrett gdbus call --system --dest org.winvm1 --object-path "$VM_PATH" \
        --method org.winvm1.VM.RevertSnapshot "'r1'" 5 >"$out" 2>&1 &
    bg=$!
    # Nothing on the bus tells that the revert has begun its wait: give the call 0.5 s to
    # arrive, well inside the 2 s wait; that it was still running is checked after.
    sleep 0.5
    snap_create jarrett busy ""
    assert_call_error org.winvm1.Error.Busy "CreateSnapshot during the revert: Busy"
    snap_delete jarrett r2
    assert_call_error org.winvm1.Error.Busy "DeleteSnapshot during the revert: Busy"
    snap_revert jarrett r2 5
    assert_call_error org.winvm1.Error.Busy "RevertSnapshot during the revert: Busy"
    sb_now_ms q0
    names=$(snap_prop jarrett)
    sb_now_ms q1
    assert_eq "r1 r2" "$names" "the Snapshots property reads r1 r2 during the revert"
    if ((q1 - q0 < 1000)); then
        ok "and is answered at once ($((q1 - q0)) ms)"
    else
        fail "and is answered at once" "took $((q1 - q0)) ms"
    fi
    if sb_pid_alive "$bg"; then
        ok "the revert was still under way during those calls"
    else
        fail "the revert was still under way during those calls" "it ended first: $(cat "$out")"
    fi
    assert_eq "" "$(snap_eval "[n for n in S if n == 'busy']")" "no snapshot busy was made"
    wait "$bg"
    CALL_RC=$? CALL_OUT=$(<"$out") CALL_ERROR=''
    SNAP_RESULT=$(reply_string)
    sb_now_ms t1
    ms=$((t1 - t0))
    assert_call_ok "RevertSnapshot(r1, shutdown|force) while running"
    if ((ms >= TIMEOUT * 1000 - 200)); then
        ok "it waited for the graceful shutdown first (${ms} ms)"
    else
        fail "it waited for the graceful shutdown first" "replied after $ms ms, ShutdownTimeoutSec=$TIMEOUT"
    fi
    kept=$SNAP_RESULT
    if [[ $kept =~ ^pre-revert-$NAME_TIME_RE$ ]]; then
        ok "the state left is kept as $kept"
    else
        fail "the state left is kept as pre-revert-YYYYMMDD-HHMMSS" "returned '$kept'"
    fi
    SNAP[$kept]=$CUR
    ORDER+=("$kept")
    CUR=${SNAP[r1]}
    CUR_SNAP=r1
    assert_running "the guest runs again after the revert"
    live=$(live_disk)
    if [[ ${live##*/} =~ ^windows11\.r1\.revert-$NAME_TIME_RE$ ]]; then
        ok "the running guest writes to windows11.r1.revert-YYYYMMDD-HHMMSS"
    else
        fail "the running guest writes to windows11.r1.revert-YYYYMMDD-HHMMSS" "live disk: $live"
    fi
    chain=$(backing_chain "$live" | tr '\n' ' ')
    assert_eq "$live $(snap_image r1) " "$chain" "its backing chain is the new overlay on r1's frozen image"
    assert_eq "$live" "$(current_disk)" "the persistent definition has the same disk"
    assert_eq r1 "$(vm_prop CurrentSnapshot)" "CurrentSnapshot is r1"
    assert_eq "r1 r2 $kept" "$(snap_prop root)" "Snapshots: r1 r2 $kept"
    assert_eq r2 "$(snap_eval "S['$kept']['Parent']")" "$kept's Parent is r2"
    assert_guest_reads "$CUR" "the running disk reads r1's stages '$CUR'"
    assert_image_reads "$(snap_image "$kept")" "${SNAP[$kept]}" "$kept reads the state left, stages '${SNAP[$kept]}'"
}

test_delete_running() {
    local before top r3img
    guest_stage_write 5
    CUR="1 2 5"
    take_running r3
    guest_stage_write 6
    CUR="1 2 5 6"

    # The running chain is now top -> r3's image -> r1's image: merging r1 away would rewrite
    # r3's image, which the guest has open.
    before=$(world_state 2>&1)
    snap_delete jarrett r1
    assert_call_error org.winvm1.Error.GuestRunning "DeleteSnapshot(r1), whose merge would rewrite r3's open image: GuestRunning"
    assert_libvirt running "the guest still runs"
    assert_unchanged "$before" "nothing changed after the refused delete"

    # r3 is current and only the running disk depends on its image: a block pull.
    top=$(live_disk)
    r3img=$(snap_image r3)
    snap_delete jarrett r3
    assert_call_ok "DeleteSnapshot(r3) while running (only the running disk depends on it)"
    unset 'SNAP[r3]'
    ORDER=("${ORDER[@]:0:3}")
    CUR_SNAP=r1
    assert_libvirt running "the guest still runs after the block pull"
    assert_eq "$top" "$(live_disk)" "the running guest keeps writing to ${top##*/}"
    assert_eq "$(snap_image r1)" "$(backing_of "$top")" "which is now backed by r1's frozen image"
    if [[ -e $r3img ]]; then
        fail "r3's frozen image ${r3img##*/} is gone" "it still exists"
    else
        ok "r3's frozen image ${r3img##*/} is gone"
    fi
    assert_eq r1 "$(vm_prop CurrentSnapshot)" "CurrentSnapshot is r1 again"
    assert_eq "${ORDER[*]}" "$(snap_prop root)" "Snapshots: ${ORDER[*]}"
    assert_guest_reads "$CUR" "the running disk still reads stages '$CUR'"

    # r2's image is off the running chain; only the kept state's image depends on it, and
    # that one is closed: rebased while the guest runs.
    local kept=${ORDER[2]}
    snap_delete jarrett r2
    assert_call_ok "DeleteSnapshot(r2) while running (its only dependent is not open)"
    unset 'SNAP[r2]'
    ORDER=(r1 "$kept")
    assert_libvirt running "the guest still runs after deleting r2"
    assert_eq r1 "$(snap_eval "S['$kept']['Parent']")" "$kept's Parent is r1 now"
    assert_eq "$(snap_image r1)" "$(backing_of "$(snap_image "$kept")")" "$kept's image is backed by r1's now"
    assert_eq "${ORDER[*]}" "$(snap_prop root)" "Snapshots: ${ORDER[*]}"
    assert_image_reads "$(snap_image "$kept")" "${SNAP[$kept]}" "$kept still reads stages '${SNAP[$kept]}' (guest running)"
    assert_guest_reads "$CUR" "the running disk still reads stages '$CUR'"
}

test_final_content() {
    local name img
    vm_call jarrett ForceStop
    assert_call_ok "ForceStop"
    wait_until 30 eval '! guest_running'
    assert_libvirt "shut off" "the guest is off"
    for name in "${ORDER[@]}"; do
        img=$(snap_image "$name")
        assert_image_reads "$img" "${SNAP[$name]}" "snapshot $name reads stages '${SNAP[$name]}'"
        assert_img_check "$img" "qemu-img check $name's image"
    done
    assert_image_reads "$(current_disk)" "$CUR" "the current disk reads stages '$CUR'"
    assert_img_check "$(current_disk)" "qemu-img check the current disk"
    assert_snap_consistent "metadata, definition and files agree"
    assert_eq "" "$(virsh -q snapshot-list --name "$GUEST" 2>&1)" "libvirt's own snapshot list is still empty"
    assert_guest_boots "the guest boots again"
    assert_winvmd_alive "$WINVMD_PID" "winvmd still serving"
}

test_setup
test_create_running
test_revert_refused
test_revert_running
test_delete_running
test_final_content
guest_destroy
summary
