#!/usr/bin/env bash
# winvm adopts the snapshots a desktop user made before it: the seed's chain, made with
# virsh snapshot-create-as --disk-only under the seed's names while winvmd does not run,
# with a stage of bytes written before each snapshot, plus one overlay made by hand with no
# metadata at all (named <stem>.<name>, as the rule requires). When winvmd starts it adopts
# them: names, descriptions, creation times and parents from libvirt's metadata, the rest
# from the chain; libvirt's metadata is removed with a copy kept, so virsh snapshot-list is
# empty. Then every adopted snapshot reads exactly its bytes, a revert to fresh-install reads
# exactly its bytes, and deleting the middle snapshot keeps every other snapshot's bytes.
# winvmd is killed (-9) once in the middle of adopting and finishes when started again.
# Afterwards: a virsh snapshot taken later is adopted by `winvmctl snapshot adopt`, and a
# chain that breaks the naming rule is refused with nothing changed.
set -uo pipefail
# shellcheck source=tests/sandbox/sandbox-lib.sh
. "$WINVM_SRC/tests/sandbox/sandbox-lib.sh"
# shellcheck source=tests/integration/lib.sh
. "$WINVM_SRC/tests/integration/lib.sh"

declare -A SNAP=() DESC=() CREATED=()
CUR=''
ORDER=()
STATE=$(snap_state_dir)
COPIES=$(conf_value StateDirectory)/libvirt-snapshot-metadata/$GUEST
IMAGES=$WINVM_IMAGES
BASE=$IMAGES/windows11.qcow2
K=0

next_stage() {
    K=$((K + 1))
    stage_write "$K"
    CUR="${CUR:+$CUR }$K"
}

# virsh_snapshot NAME DESCRIPTION: what the seed's user did, the guest off.
virsh_snapshot() {
    local out
    if out=$(virsh -q -c "$SB_URI" snapshot-create-as "$GUEST" "$1" "$2" --disk-only --atomic 2>&1); then
        ok "virsh snapshot-create-as $1 --disk-only"
    else
        fail "virsh snapshot-create-as $1 --disk-only" "$out"
    fi
    SNAP[$1]=$CUR
    DESC[$1]=$2
    CREATED[$1]=$(virsh -q -c "$SB_URI" snapshot-dumpxml "$GUEST" "$1" |
        sed -n 's:.*<creationTime>\([0-9]*\)</creationTime>.*:\1:p')
    ORDER+=("$1")
}

virsh_snapshots() { virsh -q -c "$SB_URI" snapshot-list --name "$GUEST" 2>&1 | sed '/^$/d' | tr '\n' ' ' | sed 's/ $//'; }

no_virsh_snapshots() { [[ -z $(virsh_snapshots) ]]; }

check_bytes() {
    local when=$1 name
    assert_eq "${ORDER[*]}" "$(snap_names)" "$when: ListSnapshots names, oldest first"
    for name in "${ORDER[@]}"; do
        assert_image_reads "$(snap_image "$name")" "${SNAP[$name]}" "$when: snapshot $name reads stages '${SNAP[$name]}'"
    done
    assert_image_reads "$(current_disk)" "$CUR" "$when: the current disk reads stages '$CUR'"
    assert_snap_consistent "$when: records, definition and files agree"
    assert_eq "" "$(virsh_snapshots)" "$when: virsh snapshot-list is empty (winvm holds the snapshots)"
}

test_seed_chain() {
    guest_destroy
    stop_winvmd || fail "stop winvmd"
    rm -rf "$STATE" "$COPIES"
    assert_eq "$BASE" "$(current_disk)" "the guest starts from $BASE"
    next_stage
    virsh_snapshot fresh-install "Clean Windows 11 install"
    next_stage
    virsh_snapshot snapshot-20260124-210227 "GPU drivers and Looking Glass host"
    next_stage
    virsh_snapshot snapshot-20260125-093000 "before the Windows update"
    assert_eq "$IMAGES/windows11.snapshot-20260125-093000" "$(current_disk)" \
        "virsh named the overlays <stem>.<name> as in the seed"
    next_stage
    # A snapshot without any metadata: an overlay made by hand under the rule's name.
    local top=$IMAGES/windows11.snapshot-20260125-093000 manual=$IMAGES/windows11.manual-1
    qemu-img create -q -f qcow2 -b "$top" -F qcow2 "$manual" || fail "create $manual"
    guest_set_disk "$manual" || fail "point the guest at $manual"
    SNAP[manual-1]=$CUR
    ORDER+=(manual-1)
    next_stage
    assert_eq "fresh-install snapshot-20260124-210227 snapshot-20260125-093000" "$(virsh_snapshots)" \
        "libvirt lists the three virsh snapshots before winvmd runs"

    # A crash (kill -9) after the records are saved, before libvirt's metadata is removed.
    (WINVMD_TEST_CRASH_AT=adopt:saved start_winvmd) >/dev/null 2>&1
    WINVMD_PID=$(<"$WINVM_SANDBOX/winvmd.pid")
    if wait_until 30 winvmd_dead; then
        ok "adopt:saved: winvmd dies at the step"
    else
        fail "adopt:saved: winvmd dies at the step" "it still runs"
    fi
    if [[ -f $STATE/snapshots.ini ]] && grep -q '^\[Snapshot manual-1\]' "$STATE/snapshots.ini"; then
        ok "adopt:saved: the records were saved before the crash"
    else
        fail "adopt:saved: the records were saved before the crash" "$(cat "$STATE/snapshots.ini" 2>&1)"
    fi
    assert_eq "fresh-install snapshot-20260124-210227 snapshot-20260125-093000" "$(virsh_snapshots)" \
        "adopt:saved: libvirt's metadata is still there after the crash"
    assert_image_reads "$(current_disk)" "$CUR" "adopt:saved: the disk is untouched"
    # shellcheck disable=SC2119
    start_winvmd || fail "winvmd starts"
    if wait_until 30 no_virsh_snapshots; then
        ok "started again, winvmd finishes the adoption (libvirt's metadata removed)"
    else
        fail "started again, winvmd finishes the adoption (libvirt's metadata removed)" "virsh snapshot-list: $(virsh_snapshots)"
    fi
    check_bytes "adopted at start"
    assert_eq "manual-1" "$(vm_prop CurrentSnapshot)" "CurrentSnapshot is the one the current disk grew from"
    local name parent=''
    for name in "${ORDER[@]}"; do
        assert_eq True "$(snap_eval "S['$name'].get('Adopted')")" "$name is marked Adopted"
        assert_eq "$parent" "$(snap_eval "S['$name']['Parent']")" "$name's Parent is '$parent'"
        parent=$name
    done
    for name in fresh-install snapshot-20260124-210227 snapshot-20260125-093000; do
        assert_eq "${DESC[$name]}" "$(snap_eval "S['$name']['Description']")" "$name keeps libvirt's description"
        assert_eq "$((CREATED[$name] * 1000000))" "$(snap_eval "S['$name']['CreationTime']")" "$name keeps libvirt's creation time"
        if [[ -s $COPIES/$name.xml ]] && grep -q "<name>$name</name>" "$COPIES/$name.xml"; then
            ok "a copy of libvirt's metadata of $name is kept"
        else
            fail "a copy of libvirt's metadata of $name is kept" "no $COPIES/$name.xml"
        fi
    done
    assert_eq "$IMAGES/windows11.qcow2" "$(snap_image fresh-install)" "fresh-install holds windows11.qcow2"
    assert_eq "$IMAGES/windows11.snapshot-20260125-093000" "$(snap_image manual-1)" \
        "manual-1 (no metadata) holds the image under windows11.manual-1"

    ctl jarrett snapshot list
    assert_ctl 0 "winvmctl snapshot list"
    if [[ $CTL_OUT == *"fresh-install"*"adopted"* ]]; then
        ok "winvmctl snapshot list marks adopted snapshots"
    else
        fail "winvmctl snapshot list marks adopted snapshots" "$CTL_OUT"
    fi
    ctl jarrett snapshot adopt
    assert_ctl 0 "winvmctl snapshot adopt again"
    assert_eq "$GUEST has no snapshots winvm does not know already." "$CTL_OUT" "adopting again finds nothing new"
    # shellcheck disable=SC2119
    restart_winvmd || fail "restart winvmd"
    check_bytes "after a restart"
}

test_revert_and_delete() {
    local kept
    snap_revert jarrett fresh-install 0
    assert_call_ok "RevertSnapshot(fresh-install) of an adopted snapshot"
    kept=$SNAP_RESULT
    SNAP[$kept]=$CUR
    ORDER+=("$kept")
    CUR=${SNAP[fresh-install]}
    assert_image_reads "$(current_disk)" "1" "after the revert, the disk reads exactly fresh-install's bytes (stage 1)"
    check_bytes "after reverting to fresh-install"
    next_stage

    snap_delete jarrett snapshot-20260124-210227
    assert_call_ok "DeleteSnapshot(snapshot-20260124-210227), the middle one"
    local i
    for i in "${!ORDER[@]}"; do [[ ${ORDER[i]} == snapshot-20260124-210227 ]] && unset 'ORDER[i]'; done
    ORDER=("${ORDER[@]}")
    assert_eq "fresh-install" "$(snap_eval "S['snapshot-20260125-093000']['Parent']")" \
        "snapshot-20260125-093000 now grows from fresh-install"
    check_bytes "after deleting the middle snapshot"
}

# A snapshot taken with virsh after winvm adopted the rest: adopted on request, on top.
test_later_virsh_snapshot() {
    local parent
    parent=$(vm_prop CurrentSnapshot)
    virsh_snapshot later "taken with virsh after winvm took over"
    next_stage
    vm_call jarrett AdoptSnapshots
    assert_call_ok "AdoptSnapshots as jarrett"
    assert_eq "(['later'],)" "$CALL_OUT" "AdoptSnapshots returns the one new snapshot"
    if grep -q "VM $GUEST: adopted 1 existing snapshot(s): later" "$WINVM_SANDBOX/winvmd.log"; then
        ok "winvmd logs the adoption, naming the snapshot"
    else
        fail "winvmd logs the adoption, naming the snapshot" "$(grep -i adopt "$WINVM_SANDBOX/winvmd.log" | tail -n 3)"
    fi
    assert_eq "$parent" "$(snap_eval "S['later']['Parent']")" "later grows from the snapshot it was taken after ($parent)"
    check_bytes "after adopting a later virsh snapshot"
}

# An overlay that breaks the rule: refused, nothing changed.
test_refused() {
    local odd=$IMAGES/elsewhere.qcow2 top before after
    top=$(current_disk)
    qemu-img create -q -f qcow2 -b "$top" -F qcow2 "$odd" || fail "create $odd"
    guest_set_disk "$odd" || fail "point the guest at $odd"
    before=$(world_state)
    vm_call jarrett AdoptSnapshots
    assert_call_error org.winvm1.Error.Failed "an overlay not named <stem>.<name> is refused"
    if [[ $CALL_MSG == *"not named"* ]]; then ok "the refusal says why"; else fail "the refusal says why" "$CALL_MSG"; fi
    after=$(world_state)
    assert_eq "$before" "$after" "the refused adoption changed nothing"
    guest_set_disk "$top" || fail "point the guest back at $top"
    rm -f "$odd"
    vm_call mallory AdoptSnapshots
    if ((CALL_RC != 0)); then ok "mallory may not adopt"; else fail "mallory may not adopt" "$CALL_OUT"; fi
}

test_seed_chain
test_revert_and_delete
test_later_virsh_snapshot
test_refused
assert_guest_boots "the guest boots from the adopted chain"
guest_destroy
assert_winvmd_alive "$WINVMD_PID" "winvmd serving at the end"
summary
