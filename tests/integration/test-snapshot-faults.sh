#!/usr/bin/env bash
# A crash at any step of a snapshot operation loses nothing. winvmd started with
# WINVMD_TEST_CRASH_AT=<op>:<step> kills itself (SIGKILL) there; started again without it,
# it must finish or undo the operation from its intent journal, as specified:
#   create: intent, firmware -> rolled back; overlays, saved -> rolled forward
#   revert: stopped (flag 1), intent, kept, overlays, firmware -> rolled back;
#           defined, saved -> rolled forward
#   delete: intent, merged, saved -> rolled forward
#   delete by commit (one dependent, holding less data): forgotten, committed, moved -> rolled
#           forward
# After each recovery: intent.ini is gone; ListSnapshots agrees with the files (nothing
# listed is missing, nothing beside the disk is unaccounted for); every snapshot, the current
# disk and the NVRAM hold exactly the bytes of the rolled-back or rolled-forward state;
# qemu-img check passes; the guest boots. First, a full filesystem: CreateSnapshot answers
# NoSpace and leaves nothing behind.
set -uo pipefail
# shellcheck source=tests/sandbox/sandbox-lib.sh
. "$WINVM_SRC/tests/sandbox/sandbox-lib.sh"
# shellcheck source=tests/integration/lib.sh
. "$WINVM_SRC/tests/integration/lib.sh"

# The model, as in test-snapshot-content.sh: stages per snapshot and for the current disk,
# the snapshots oldest first, NVRAM copies in REF.
declare -A SNAP=()
CUR=''
CUR_SNAP=''
ORDER=()
K=0
REF=$WINVM_SANDBOX/nvram-ref
NVRAM=$WINVM_SANDBOX/nvram/${GUEST}_VARS.fd
STATE=$(snap_state_dir)
IMAGES=$WINVM_IMAGES
BASE=$IMAGES/windows11.qcow2
SMALL=$WINVM_SANDBOX/small
NAME_TIME_RE='[0-9]{8}-[0-9]{6}'

# next_stage: one more stage into the current disk and a mark into the NVRAM (guest off).
next_stage() {
    K=$((K + 1))
    stage_write "$K"
    nvram_mark "stage $K"
    CUR="${CUR:+$CUR }$K"
}

assert_same_file() {
    local out
    if out=$(cmp "$1" "$2" 2>&1); then ok "$3"; else fail "$3" "$out"; fi
}

assert_absent() {
    if [[ -e $1 ]]; then fail "$2" "$1 exists"; else ok "$2"; fi
}

# take NAME: an ordinary CreateSnapshot (no crash), guest off.
take() {
    snap_create jarrett "$1" ""
    assert_call_ok "CreateSnapshot($1)"
    SNAP[$1]=$CUR
    ORDER+=("$1")
    cp "$NVRAM" "$REF/$1"
    CUR_SNAP=$1
}

# crash OP:STEP CALL...: arm the crash hook, make CALL (snap_create ...), see winvmd die,
# check the journal is there (from the second step of an operation on), start winvmd again.
crash() {
    local at=$1 first=$2
    shift 2
    # shellcheck disable=SC2119  # no arguments for winvmd
    winvmd_arm_crash "$at" || fail "winvmd starts with WINVMD_TEST_CRASH_AT=$at"
    "$@"
    if ((CALL_RC == 0)); then
        fail "$at: winvmd dies at the step" "the call succeeded: $CALL_OUT"
    elif wait_until 10 winvmd_dead; then
        ok "$at: winvmd dies at the step (the caller got ${CALL_ERROR:-an error})"
    else
        fail "$at: winvmd dies at the step" "it still runs; the call said: $CALL_OUT"
    fi
    if [[ $first == first ]]; then
        :
    elif [[ -f $STATE/intent.ini ]]; then
        ok "$at: the intent journal is there after the crash"
    else
        fail "$at: the intent journal is there after the crash" "no $STATE/intent.ini"
    fi
    CRASH_GUEST_STATE=$(virsh_state "$GUEST")
    CRASH_NVRAM=$REF/.at-crash
    cp "$NVRAM" "$CRASH_NVRAM"
    # shellcheck disable=SC2119
    if restart_winvmd; then
        ok "$at: winvmd starts again and recovers"
    else
        fail "$at: winvmd starts again and recovers"
    fi
    # Recovery runs at start-up on winvmd's worker, without any call asking for it.
    local t0 t1
    sb_now_ms t0
    if wait_until 30 test ! -e "$STATE/intent.ini"; then
        sb_now_ms t1
        ok "$at: recovery removes intent.ini by itself ($((t1 - t0)) ms after the restart)"
    else
        fail "$at: recovery removes intent.ini by itself" "$STATE/intent.ini still exists 30 s after the restart"
    fi
}

# verify WHEN NVRAM_REF: the whole model against the service and the files; the NVRAM file
# must be NVRAM_REF. Ends with the guest booted once and forced off.
verify() {
    local when=$1 nv=$2 name img
    guest_destroy
    assert_eq "${ORDER[*]}" "$(snap_names)" "$when: ListSnapshots names"
    assert_eq "${ORDER[*]}" "$(snap_prop root)" "$when: Snapshots property"
    assert_eq "$CUR_SNAP" "$(vm_prop CurrentSnapshot)" "$when: CurrentSnapshot"
    for name in "${ORDER[@]}"; do
        img=$(snap_image "$name")
        assert_image_reads "$img" "${SNAP[$name]}" "$when: snapshot $name reads stages '${SNAP[$name]}'"
        assert_img_check "$img" "$when: qemu-img check $name's image"
        assert_same_file "$REF/$name" "$STATE/$name/nvram" "$when: $name's NVRAM copy"
    done
    assert_image_reads "$(current_disk)" "$CUR" "$when: the current disk reads stages '$CUR'"
    assert_img_check "$(current_disk)" "$when: qemu-img check the current disk"
    assert_same_file "$nv" "$NVRAM" "$when: the NVRAM file"
    assert_snap_consistent "$when: metadata, definition and files agree"
    assert_guest_boots "$when: the guest boots"
}

test_setup() {
    mkdir -p "$REF"
    guest_use_uefi "$NVRAM" || fail "define the guest with UEFI"
    assert_eq "$NVRAM" "$(guest_nvram)" "the guest uses UEFI with NVRAM $NVRAM"
    # For the revert with flag 1: the guest ignores ACPI, so it is forced off after 2 s.
    conf_set ShutdownTimeoutSec 2
    # shellcheck disable=SC2119
    restart_winvmd || fail "winvmd restarts with ShutdownTimeoutSec=2"
}

# The images on a 16 MiB tmpfs, filled up: CreateSnapshot answers NoSpace and leaves no
# file, definition or metadata behind; with room again it works.
test_no_space() {
    local before avail
    mkdir -p "$SMALL"
    if ! mount -t tmpfs -o size=16m,mode=0755 tmpfs "$SMALL"; then
        fail "mount a 16 MiB tmpfs for the images"
        return
    fi
    cp --sparse=always "$BASE" "$SMALL/windows11.qcow2"
    guest_set_disk "$SMALL/windows11.qcow2"
    assert_eq "$SMALL/windows11.qcow2" "$(current_disk)" "the guest's disk is on the small tmpfs"
    dd if=/dev/zero of="$SMALL/filler" bs=1M status=none 2>/dev/null
    dd if=/dev/zero of="$SMALL/filler2" bs=4k status=none 2>/dev/null
    avail=$(stat -f -c %a "$SMALL")
    assert_eq 0 "$avail" "the tmpfs is full (free blocks)"

    before=$(world_state 2>&1)
    snap_create jarrett nospace "no room"
    assert_call_error org.winvm1.Error.NoSpace "CreateSnapshot on a full filesystem: NoSpace"
    assert_unchanged "$before" "nothing changed: files, definition, snapshots, state folder"
    assert_absent "$SMALL/windows11.nospace" "no overlay file was left"
    assert_absent "$STATE/nospace" "no NVRAM copy was left"
    assert_absent "$STATE/intent.ini" "no intent journal was left"
    assert_eq "$SMALL/windows11.qcow2" "$(current_disk)" "the disk source is unchanged"

    rm -f "$SMALL/filler" "$SMALL/filler2"
    snap_create jarrett roomy ""
    assert_call_ok "with room again, CreateSnapshot works"
    assert_eq "$SMALL/windows11.roomy" "$(current_disk)" "its overlay is on the tmpfs"
    snap_delete jarrett roomy
    assert_call_ok "DeleteSnapshot(roomy)"
    assert_eq "" "$(snap_prop root)" "no snapshots left"
    assert_eq "$(current_disk)" "$(find "$SMALL" -name 'windows11.*' -printf '%p\n')" \
        "only the current disk is left on the tmpfs"

    guest_set_disk "$BASE"
    umount "$SMALL"
    assert_eq "$BASE" "$(current_disk)" "the guest's disk is $BASE again"
    assert_snap_consistent "after the full-filesystem round: metadata, definition and files agree"
}

# create: crash at STEP; rolled back (back) or forward (fwd).
test_create_crash() {
    local step=$1 how=$2 name=c-$1 src first=''
    [[ $step == intent ]] && first=first
    next_stage
    cp "$NVRAM" "$REF/.cur"
    src=$(current_disk)
    crash "create:$step" "$first" snap_create jarrett "$name" ""
    if [[ $how == back ]]; then
        assert_eq "${ORDER[*]}" "$(snap_names)" "create:$step: rolled back, no snapshot $name"
        assert_eq "$src" "$(current_disk)" "create:$step: the disk source is the one before"
        assert_absent "$IMAGES/windows11.$name" "create:$step: no overlay windows11.$name"
        assert_absent "$STATE/$name" "create:$step: no state folder for $name"
    else
        assert_eq "${ORDER[*]} $name" "$(snap_names)" "create:$step: rolled forward, $name exists"
        assert_eq "$IMAGES/windows11.$name" "$(current_disk)" "create:$step: the disk writes to windows11.$name"
        assert_eq "$src" "$(snap_image "$name")" "create:$step: $name's frozen image is the previous top"
        SNAP[$name]=$CUR
        ORDER+=("$name")
        cp "$REF/.cur" "$REF/$name"
        CUR_SNAP=$name
    fi
    verify "create:$step" "$REF/.cur"
}

# revert to base: crash at STEP. "stopped" needs the guest running and flags 1|4.
test_revert_crash() {
    local step=$1 how=$2 flags=0 src first='' new kept
    [[ $step == stopped || $step == intent ]] && first=first
    next_stage
    sleep 1  # the names made by a revert carry the time in seconds: one revert a second
    if [[ $step == stopped ]]; then
        flags=5
        virsh -q start "$GUEST" >/dev/null
        wait_until 30 guest_running || fail "revert:stopped: the guest runs before the revert"
    fi
    cp "$NVRAM" "$REF/.cur"
    src=$(current_disk)
    crash "revert:$step" "$first" snap_revert jarrett base "$flags"
    if [[ $step == stopped ]]; then
        assert_eq "shut off" "$CRASH_GUEST_STATE" "revert:stopped: the guest was off at the crash"
        # What the revert found once the guest was off (the firmware wrote to it meanwhile).
        cp "$CRASH_NVRAM" "$REF/.cur"
    fi
    if [[ $how == back ]]; then
        assert_eq "${ORDER[*]}" "$(snap_names)" "revert:$step: rolled back, the snapshots are as before"
        assert_eq "$src" "$(current_disk)" "revert:$step: the disk source is the one before"
        verify "revert:$step" "$REF/.cur"
        return
    fi
    new=$(snap_eval "[n for n in S if n not in '${ORDER[*]}'.split()]")
    if [[ $new =~ ^pre-revert-$NAME_TIME_RE$ ]]; then
        ok "revert:$step: rolled forward, the state left is kept as $new"
    else
        fail "revert:$step: rolled forward, the state left is kept as pre-revert-*" "new snapshots: '$new'"
    fi
    kept=${new%% *}
    if [[ -n $kept ]]; then
        SNAP[$kept]=$CUR
        ORDER+=("$kept")
        cp "$REF/.cur" "$REF/$kept"
    fi
    CUR=${SNAP[base]}
    CUR_SNAP=base
    if [[ $(current_disk) =~ /windows11\.base\.revert-$NAME_TIME_RE$ ]]; then
        ok "revert:$step: the disk writes to windows11.base.revert-YYYYMMDD-HHMMSS"
    else
        fail "revert:$step: the disk writes to windows11.base.revert-YYYYMMDD-HHMMSS" "it is $(current_disk)"
    fi
    verify "revert:$step" "$REF/base"
}

# delete: two snapshots a, b in a row; crash while deleting a (b's image depends on a's).
test_delete_crash() {
    local step=$1 a=d-$1-a b=d-$1-b first='' img parent i
    [[ $step == intent ]] && first=first
    next_stage
    take "$a"
    next_stage
    take "$b"
    next_stage
    cp "$NVRAM" "$REF/.cur"
    img=$(snap_image "$a")
    parent=$(snap_eval "S['$a']['Parent']")
    crash "delete:$step" "$first" snap_delete jarrett "$a"
    for i in "${!ORDER[@]}"; do [[ ${ORDER[i]} == "$a" ]] && unset 'ORDER[i]'; done
    ORDER=("${ORDER[@]}")
    unset 'SNAP[$a]'
    assert_eq "${ORDER[*]}" "$(snap_names)" "delete:$step: rolled forward, $a is gone"
    assert_eq "$parent" "$(snap_eval "S['$b']['Parent']")" "delete:$step: $b's Parent is $a's, '$parent'"
    assert_absent "$STATE/$a" "delete:$step: $a's state folder is gone"
    if [[ -e $img && $(snap_eval "any('$img' in s['Files'] for s in L)") != True && $img != "$(current_disk)" ]]; then
        fail "delete:$step: $a's frozen image ${img##*/} is gone or in use" "it is left over"
    else
        ok "delete:$step: $a's frozen image ${img##*/} is gone or in use"
    fi
    verify "delete:$step" "$REF/.cur"
}

# delete by commit: as test_delete_crash, but a's image holds far more data than b's (8 MiB
# of filler past the stages), so the delete commits b's image into a's and moves a's image
# into b's place (the file at b's path is then a's, same inode).
test_delete_commit_crash() {
    local step=$1 a=c-$1-a b=c-$1-b img bimg ino out
    next_stage
    if ! out=$(qemu-io -f qcow2 -c "write -P 0x77 256M 8M" "$(current_disk)" 2>&1) || [[ $out == *rror* ]]; then
        fail "delete-commit:$step: filler written" "$out"
    fi
    take "$a"
    next_stage
    take "$b"
    next_stage
    cp "$NVRAM" "$REF/.cur"
    img=$(snap_image "$a")
    bimg=$(snap_image "$b")
    ino=$(stat -c %i "$img")
    crash "delete:$step" '' snap_delete jarrett "$a"
    for i in "${!ORDER[@]}"; do [[ ${ORDER[i]} == "$a" ]] && unset 'ORDER[i]'; done
    ORDER=("${ORDER[@]}")
    unset 'SNAP[$a]'
    assert_eq "${ORDER[*]}" "$(snap_names)" "delete-commit:$step: rolled forward, $a is gone"
    assert_absent "$STATE/$a" "delete-commit:$step: $a's state folder is gone"
    assert_absent "$img" "delete-commit:$step: $a's image moved away"
    assert_eq "$ino" "$(stat -c %i "$bimg")" "delete-commit:$step: $b's path now holds $a's image (committed into, not rebased)"
    verify "delete-commit:$step" "$REF/.cur"
}

test_setup
test_no_space
next_stage
take base
verify "with snapshot base" "$REF/base"

test_create_crash intent back
test_create_crash firmware back
test_create_crash overlays fwd
test_create_crash saved fwd

test_revert_crash stopped back
test_revert_crash intent back
test_revert_crash kept back
test_revert_crash overlays back
test_revert_crash firmware back
test_revert_crash defined fwd
test_revert_crash saved fwd

test_delete_crash intent
test_delete_crash merged
test_delete_crash saved

test_delete_commit_crash forgotten
test_delete_commit_crash committed
test_delete_commit_crash moved

assert_winvmd_alive "$WINVMD_PID" "winvmd serving at the end"
summary
