#!/usr/bin/env bash
# Snapshots keep exactly the bytes they were taken with, whatever happens around them.
# The guest (off, UEFI) is written stage by stage with qemu-io, each stage its own pattern at
# its own offset and over offset 0, and its NVRAM gets a mark per stage. Snapshots are taken
# between stages; then reverting to each snapshot must read its exact bytes and NVRAM, a
# revert keeps the state it leaves as pre-revert-* (or drops it with flag 2), and deleting a
# snapshot in the middle of the tree leaves every other snapshot and the current state
# reading their exact bytes. Along the way: Snapshots/CurrentSnapshot and their signals,
# ListSnapshots' fields, qemu-img check of every image, file names, no stray files, the
# automatic name, and winvmctl's snapshot commands where the client has them.
set -uo pipefail
# shellcheck source=tests/sandbox/sandbox-lib.sh
. "$WINVM_SRC/tests/sandbox/sandbox-lib.sh"
# shellcheck source=tests/integration/lib.sh
. "$WINVM_SRC/tests/integration/lib.sh"

# The model: what each snapshot's frozen image holds (stages, see lib.sh), what the current
# disk holds, the snapshots oldest first, and copies of the NVRAM file (REF/<snapshot>).
declare -A SNAP=()
CUR=''
ORDER=()
REF=$WINVM_SANDBOX/nvram-ref
NVRAM=$WINVM_SANDBOX/nvram/${GUEST}_VARS.fd
STATE=$(snap_state_dir)
IMAGES=$WINVM_IMAGES
BASE=$IMAGES/windows11.qcow2
NAME_TIME_RE='[0-9]{8}-[0-9]{6}'

# stage K: stage K into the current disk and a mark into the NVRAM (guest off).
stage() {
    stage_write "$1"
    nvram_mark "stage $1"
    CUR="${CUR:+$CUR }$1"
}

# assert_same_file EXPECTED ACTUAL DESCRIPTION: byte for byte.
assert_same_file() {
    local out
    if out=$(cmp "$1" "$2" 2>&1); then ok "$3"; else fail "$3" "$out"; fi
}

# assert_name_time NAME PREFIX T0 T1 DESCRIPTION: NAME is PREFIX-YYYYMMDD-HHMMSS in local
# time, between T0 and T1 (seconds since the epoch).
assert_name_time() {
    local name=$1 prefix=$2 t0=$3 t1=$4 d s
    if [[ $name =~ ^$prefix-([0-9]{4})([0-9]{2})([0-9]{2})-([0-9]{2})([0-9]{2})([0-9]{2})$ ]]; then
        d=("${BASH_REMATCH[@]:1}")
        s=$(date -d "${d[0]}-${d[1]}-${d[2]} ${d[3]}:${d[4]}:${d[5]}" +%s 2>/dev/null) || s=0
        if ((s >= t0 && s <= t1)); then
            ok "$5"
        else
            fail "$5" "$name is not a time between $(date -d "@$t0" +%T) and $(date -d "@$t1" +%T)"
        fi
    else
        fail "$5" "'$name' is not $prefix-YYYYMMDD-HHMMSS"
    fi
}

# expect_snapshots_signal DESCRIPTION NAME...: PropertiesChanged carries Snapshots = NAMEs.
expect_snapshots_signal() {
    local desc=$1 list seen
    shift
    if (($#)); then
        list=$(printf "'%s', " "$@")
        list="\\[${list%, }\\]"
    else
        list='@as \[\]'
    fi
    if wait_signal 10 "$VM_PATH" "PropertiesChanged .*'Snapshots': <$list>"; then
        ok "$desc"
    else
        mapfile -t seen < <(tail -n 4 "$MONITOR_LOG")
        fail "$desc" "no PropertiesChanged with Snapshots [$*] within 10 s; last monitor lines:" "${seen[@]}"
    fi
}

# check_all WHEN: the whole model against the service and the files: list and properties,
# every snapshot's frozen image and NVRAM copy, the current disk, qemu-img check of every
# image, and the consistency of metadata and files.
check_all() {
    local when=$1 name img cur
    assert_eq "${ORDER[*]}" "$(snap_names)" "$when: ListSnapshots names, oldest first"
    assert_eq "${ORDER[*]}" "$(snap_prop root)" "$when: the Snapshots property agrees"
    for name in "${ORDER[@]}"; do
        img=$(snap_image "$name")
        assert_image_reads "$img" "${SNAP[$name]}" "$when: snapshot $name reads stages '${SNAP[$name]}'"
        assert_img_check "$img" "$when: qemu-img check $name's image ${img##*/}"
        assert_same_file "$REF/$name" "$STATE/$name/nvram" "$when: snapshot $name's NVRAM copy is the NVRAM it was taken with"
    done
    cur=$(current_disk)
    assert_image_reads "$cur" "$CUR" "$when: the current disk ${cur##*/} reads stages '$CUR'"
    assert_img_check "$cur" "$when: qemu-img check the current disk"
    assert_snap_consistent "$when: metadata, definition and files agree"
}

# take NAME DESCRIPTION: CreateSnapshot as jarrett with the guest off; the model learns it.
take() {
    local name=$1 desc=$2 t0 t1 top parent=${CUR_SNAP:-}
    top=$(current_disk)
    t0=$(date +%s%6N)
    snap_create jarrett "$name" "$desc"
    t1=$(date +%s%6N)
    assert_call_ok "CreateSnapshot($name) with the guest off"
    assert_eq "$name" "$SNAP_RESULT" "CreateSnapshot returns the name $name"
    SNAP[$name]=$CUR
    ORDER+=("$name")
    cp "$NVRAM" "$REF/$name"
    CUR_SNAP=$name
    expect_snapshots_signal "Snapshots signalled after creating $name" "${ORDER[@]}"

    assert_eq "$IMAGES/windows11.$name" "$(current_disk)" "$name: the disk now writes to windows11.$name"
    assert_eq "$top" "$(snap_image "$name")" "$name: the previous top ${top##*/} is its frozen image"
    assert_eq "$name" "$(vm_prop CurrentSnapshot)" "$name: CurrentSnapshot"
    assert_eq "$desc" "$(snap_eval "S['$name']['Description']")" "$name: Description"
    assert_eq "$parent" "$(snap_eval "S['$name']['Parent']")" "$name: Parent '${parent}'"
    assert_eq "$name" "$(snap_eval '[s["Name"] for s in L if s["Current"]]')" "$name: the only one with Current true"
    assert_eq shutoff "$(snap_eval "S['$name']['GuestState']")" "$name: GuestState shutoff"
    assert_eq False "$(snap_eval "S['$name']['Quiesced']")" "$name: not quiesced (guest off)"
    assert_eq True "$(snap_eval "$t0 - 1000000 <= S['$name']['CreationTime'] <= $t1")" \
        "$name: CreationTime is the time of the call (usec)"
    assert_eq True "$(snap_eval "'$top' in S['$name']['Files'] and '$STATE/$name/nvram' in S['$name']['Files']")" \
        "$name: Files has the frozen image and the NVRAM copy"
    assert_eq True "$(snap_eval "S['$name']['BytesOnDisk'] > 0")" "$name: BytesOnDisk is not 0"
    assert_same_file "$REF/$name" "$STATE/$name/nvram" "$name: the NVRAM copy is the NVRAM file"
}

# revert NAME FLAGS: RevertSnapshot as jarrett with the guest off; checks the reply, the new
# overlay, the NVRAM, and the model follows (a kept state becomes a snapshot).
revert() {
    local name=$1 flags=$2 t0 t1 kept cur
    t0=$(date +%s)
    cp "$NVRAM" "$REF/.before-revert"
    snap_revert jarrett "$name" "$flags"
    t1=$(date +%s)
    assert_call_ok "RevertSnapshot($name, $flags)"
    kept=$SNAP_RESULT
    if ((flags & 2)); then
        assert_eq "" "$kept" "RevertSnapshot($name, discard) keeps nothing"
    else
        assert_name_time "$kept" pre-revert "$t0" "$t1" "RevertSnapshot($name) kept the state as pre-revert-YYYYMMDD-HHMMSS"
        SNAP[$kept]=$CUR
        ORDER+=("$kept")
        mv "$REF/.before-revert" "$REF/$kept"
        assert_eq "$CUR_SNAP" "$(snap_eval "S['$kept']['Parent']")" "$kept: its Parent is $CUR_SNAP, where the state grew from"
    fi
    CUR=${SNAP[$name]}
    CUR_SNAP=$name
    cur=$(current_disk)
    if [[ ${cur##*/} =~ ^windows11\.$name\.revert-$NAME_TIME_RE$ ]]; then
        ok "after the revert the disk writes to windows11.$name.revert-YYYYMMDD-HHMMSS"
    else
        fail "after the revert the disk writes to windows11.$name.revert-YYYYMMDD-HHMMSS" "current disk: $cur"
    fi
    assert_eq "$(snap_image "$name")" "$(backing_of "$cur")" "the new overlay is backed by $name's frozen image"
    assert_eq "$name" "$(vm_prop CurrentSnapshot)" "CurrentSnapshot is $name after the revert"
    assert_eq "$name" "$(snap_eval '[s["Name"] for s in L if s["Current"]]')" "only $name has Current true"
    assert_same_file "$REF/$name" "$NVRAM" "the NVRAM file is $name's again"
}

# drop NAME: DeleteSnapshot as jarrett; its files go (unless another image still is one of
# them), the model forgets it, and when it was current its parent becomes current.
drop() {
    local name=$1 img parent i
    img=$(snap_image "$name")
    parent=$(snap_eval "S['$name']['Parent']")
    snap_delete jarrett "$name"
    assert_call_ok "DeleteSnapshot($name)"
    for i in "${!ORDER[@]}"; do [[ ${ORDER[i]} == "$name" ]] && unset 'ORDER[i]'; done
    ORDER=("${ORDER[@]}")
    unset 'SNAP[$name]'
    [[ $CUR_SNAP == "$name" ]] && CUR_SNAP=$parent
    if [[ ! -e $img ]]; then
        ok "$name's frozen image ${img##*/} is gone"
    elif [[ $img == "$(current_disk)" ]] ||
        [[ $(snap_eval "any('$img' in s['Files'] for s in L)") == True ]]; then
        ok "$name's frozen image ${img##*/} now holds another state"
    else
        fail "$name's frozen image ${img##*/} is gone" "it still exists, and nothing lists it"
    fi
    if [[ -e $STATE/$name ]]; then
        fail "$name's state folder is gone" "$STATE/$name exists"
    else
        ok "$name's state folder is gone"
    fi
    assert_eq "$CUR_SNAP" "$(vm_prop CurrentSnapshot)" "CurrentSnapshot after deleting $name"
}

# qemu-io must really fail on a mismatch, or every content check below proves nothing.
test_checker_catches_mismatch() {
    local img
    img=$(snap_image s1)
    if image_reads "$img" "1 2"; then
        fail "a wrong expectation fails the content check" "s1 read as stages '1 2'"
    else
        ok "a wrong expectation fails the content check"
        assert_contains "$IMAGE_MISMATCH" "Pattern verification failed" "qemu-io reports the mismatch"
    fi
    if image_reads "$img" "2"; then
        fail "a wrong last stage fails the content check" "s1 read as stages '2'"
    else
        ok "a wrong last stage fails the content check"
    fi
}

test_setup() {
    mkdir -p "$REF"
    guest_use_uefi "$NVRAM" || fail "define the guest with UEFI"
    assert_eq "$NVRAM" "$(guest_nvram)" "the guest uses UEFI with NVRAM $NVRAM"
    assert_eq "$BASE" "$(current_disk)" "the guest starts from $BASE"
    assert_eq "" "$(snap_prop root)" "no snapshots at first"
    assert_eq "" "$(vm_prop CurrentSnapshot)" "CurrentSnapshot is empty at first"
    assert_eq "[]" "$(snap_list)" "ListSnapshots is empty at first"
    CUR_SNAP=''
}

# s1, s2 between stages 1, 2, 3; the layering reads back right.
test_create_chain() {
    stage 1
    take s1 "first snapshot"
    stage 2
    take s2 "second"
    stage 3
    assert_eq "s1" "$(snap_eval "S['s2']['Parent']")" "s2's Parent is s1"
    check_all "after s1, s2"
    test_checker_catches_mismatch
}

# Revert to s1 keeping the current state, then to s2 discarding it.
test_reverts() {
    local dropped
    revert s1 0
    expect_snapshots_signal "Snapshots signalled with the kept state" "${ORDER[@]}"
    KEPT1=${ORDER[-1]}
    check_all "after reverting to s1"
    assert_image_reads "$(snap_image "$KEPT1")" "1 2 3" "the kept $KEPT1 holds the state left (stages 1 2 3)"

    stage 4
    dropped=$(current_disk)
    revert s2 2
    if [[ -e $dropped ]]; then
        fail "the discarded overlay ${dropped##*/} is gone" "it still exists"
    else
        ok "the discarded overlay ${dropped##*/} is gone"
    fi
    check_all "after reverting to s2, discarding"
}

# s3 on top of s2; then s2, with two children (the kept state and s3), is deleted.
test_delete_middle() {
    stage 5
    take s3 "third, after the reverts"
    stage 6
    check_all "with s3"
    drop s2
    expect_snapshots_signal "Snapshots signalled without s2" "${ORDER[@]}"
    assert_eq s1 "$(snap_eval "S['$KEPT1']['Parent']")" "$KEPT1's Parent is s1 once s2 is gone"
    assert_eq s1 "$(snap_eval "S['s3']['Parent']")" "s3's Parent is s1 once s2 is gone"
    check_all "after deleting s2"
}

# Revert to each snapshot in turn (discarding): each reads its exact bytes and NVRAM.
test_revert_each() {
    local name
    for name in s1 "$KEPT1" s3 s1; do
        revert "$name" 2
        check_all "after reverting to $name"
    done
    stage 7
    check_all "stage 7 on top of s1"
}

# winvmctl's view, when the client has snapshot commands.
test_cli() {
    if ! as_user jarrett winvmctl --help 2>/dev/null | grep -q 'snapshot list'; then
        echo "# winvmctl has no snapshot commands (yet): CLI checks left out"
        return 0
    fi
    local name
    ctl jarrett snapshot list
    assert_ctl 0 "winvmctl snapshot list exits 0"
    for name in "${ORDER[@]}"; do
        assert_contains "$CTL_OUT" "$name" "snapshot list shows $name"
    done
    if grep -Eq "^\\* +$CUR_SNAP( |$)" <<<"$CTL_OUT"; then
        ok "snapshot list marks $CUR_SNAP with *"
    else
        fail "snapshot list marks $CUR_SNAP with *" "$CTL_OUT"
    fi
    ctl jarrett snapshot list --tree
    assert_ctl 0 "winvmctl snapshot list --tree exits 0"
    assert_contains "$CTL_OUT" "(current state)" "the tree shows the current state"
    for name in "${ORDER[@]}"; do
        assert_contains "$CTL_OUT" "$name" "the tree shows $name"
    done
    ctl jarrett --json snapshot list
    assert_ctl 0 "winvmctl --json snapshot list exits 0"
    assert_eq "${ORDER[*]}" "$(json_field "$CTL_OUT" '" ".join(s["Name"] for s in d)')" "JSON: the names, oldest first"
    assert_eq "$CUR_SNAP" "$(json_field "$CTL_OUT" '" ".join(s["Name"] for s in d if s["Current"])')" "JSON: Current"

    ctl jarrett snapshot create cli-made -m "made by winvmctl"
    assert_ctl 0 "winvmctl snapshot create cli-made exits 0"
    assert_eq cli-made "$CTL_OUT" "winvmctl snapshot create prints the name"
    assert_eq "made by winvmctl" "$(snap_eval "S['cli-made']['Description']")" "with the description from -m"
    ctl jarrett snapshot create cli-made
    assert_ctl 8 "winvmctl snapshot create of an existing name exits 8"
    ctl jarrett snapshot delete cli-made
    assert_ctl 0 "winvmctl snapshot delete cli-made exits 0"
    ctl jarrett snapshot revert nope
    assert_ctl 4 "winvmctl snapshot revert of an unknown snapshot exits 4"
    ctl mallory snapshot delete "$CUR_SNAP"
    assert_ctl 3 "mallory: winvmctl snapshot delete exits 3"
    check_all "after the winvmctl calls"
}

# An empty name makes snapshot-YYYYMMDD-HHMMSS.
test_auto_name() {
    local t0 t1 name
    t0=$(date +%s)
    snap_create jarrett "" "named by the service"
    t1=$(date +%s)
    assert_call_ok "CreateSnapshot with an empty name"
    name=$SNAP_RESULT
    assert_name_time "$name" snapshot "$t0" "$t1" "an empty name becomes snapshot-YYYYMMDD-HHMMSS"
    if [[ -n $name ]]; then
        SNAP[$name]=$CUR
        ORDER+=("$name")
        cp "$NVRAM" "$REF/$name"
        CUR_SNAP=$name
    fi
    stage 8
    check_all "with the automatic name"
}

# Delete the first snapshot (two children), a leaf, then the rest down to none: every
# remaining snapshot and the current state keep their bytes all along.
test_delete_all() {
    drop s1
    check_all "after deleting the first snapshot s1"
    drop "$KEPT1"
    check_all "after deleting the leaf $KEPT1"
    local name
    for name in "${ORDER[@]}"; do
        drop "$name"
        check_all "after deleting $name"
    done
    expect_snapshots_signal "Snapshots signalled empty"
    assert_eq "" "$(vm_prop CurrentSnapshot)" "CurrentSnapshot is empty with no snapshots"
    local files
    files=$(find "$IMAGES" -maxdepth 1 -name 'windows11.*' -printf '%p\n')
    assert_eq "$(current_disk)" "$files" "only the current disk is left in the images folder"
    assert_eq "" "$(backing_of "$(current_disk)")" "and it has no backing file"
    assert_eq "" "$(find "$STATE" -mindepth 1 -type d 2>/dev/null)" "no snapshot folders are left in the state folder"
    assert_guest_boots "the guest boots from what is left"
}

monitor_start || exit 1
test_setup
test_create_chain
test_reverts
test_delete_middle
test_revert_each
test_cli
test_auto_name
test_delete_all
assert_winvmd_alive "$WINVMD_PID" "winvmd still serving"
monitor_stop
summary
