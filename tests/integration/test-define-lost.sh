#!/usr/bin/env bash
# A rebuild (NixOS) or `virsh undefine` leaves libvirt without the VM, its files kept. Then
# `winvmctl define` creates it again from its definition file, checked against the last
# definition winvm kept: the snapshots' disk sources are carried over (the file was exported
# before the snapshots moved the disk), so every snapshot reads its bytes, the disk reads the
# current state and a revert works. A hostile file in the same situation is refused, naming
# the element and org.winvm1.vm.define-unrestricted, and libvirt still has no VM; an
# administrator may define it.
set -uo pipefail
# shellcheck source=tests/sandbox/sandbox-lib.sh
. "$WINVM_SRC/tests/sandbox/sandbox-lib.sh"
# shellcheck source=tests/integration/lib.sh
. "$WINVM_SRC/tests/integration/lib.sh"

DEFS=$WINVM_SANDBOX/config-repo
FILE=$DEFS/$GUEST.xml
GOOD=$WINVM_SANDBOX/define-lost-good.xml
IMAGES=$WINVM_IMAGES
BASE=$IMAGES/windows11.qcow2
ACTION=org.winvm1.vm.define-unrestricted
declare -A SNAP=()
CUR=''
K=0

next_stage() {
    K=$((K + 1))
    stage_write "$K"
    CUR="${CUR:+$CUR }$K"
}

take() {
    snap_create jarrett "$1" ""
    assert_call_ok "CreateSnapshot($1)"
    SNAP[$1]=$CUR
}

state_is() { [[ $(winvmd_state) == "$1" ]]; }

# wait_winvmd_state STATE DESCRIPTION: winvmd's State property reaches STATE.
wait_winvmd_state() {
    if wait_until 30 state_is "$1"; then ok "$2"; else fail "$2" "State is $(winvmd_state), not $1"; fi
}

defined() { virsh -q -c "$SB_URI" list --all --name | grep -qx "$GUEST"; }

lose_vm() {
    guest_destroy
    if virsh -q -c "$SB_URI" undefine "$GUEST" >/dev/null 2>&1 && ! defined; then
        ok "$1: libvirt lost the VM (virsh undefine, files kept)"
    else
        fail "$1: libvirt lost the VM (virsh undefine, files kept)"
    fi
    wait_winvmd_state undefined "$1: winvmd sees the VM undefined"
}

check_snapshots() {
    local when=$1 name
    for name in s1 s2; do
        assert_image_reads "$(snap_image "$name")" "${SNAP[$name]}" "$when: snapshot $name reads stages '${SNAP[$name]}'"
    done
    assert_image_reads "$(current_disk)" "$CUR" "$when: the disk reads the current state '$CUR'"
    assert_snap_consistent "$when: records, definition and files agree"
}

setup() {
    mkdir -p "$DEFS"
    cat >>"$WINVM_CONF" <<EOT
[Host]
DesktopUser=jarrett

[Storage]
Filesystems=images:$IMAGES

[Definitions]
$GUEST=$FILE
EOT
    # shellcheck disable=SC2119
    restart_winvmd || fail "restart winvmd"
    guest_destroy
    ctl jarrett export
    assert_ctl 0 "winvmctl export (the disk is $BASE in the file)"
    cp "$FILE" "$GOOD"
    next_stage
    take s1
    next_stage
    take s2
    next_stage
    assert_eq "$IMAGES/windows11.s2" "$(current_disk)" "the snapshots moved the disk to windows11.s2"
}

test_hostile_refused() {
    lose_vm "hostile"
    python3 -c "
import sys
s = open(sys.argv[1]).read()
open(sys.argv[2], 'w').write(s.replace('</domain>', \"<seclabel type='none'/></domain>\", 1))" "$GOOD" "$FILE"
    call jarrett "$VM_PATH" org.winvm1.Definition.Define
    assert_call_error org.freedesktop.DBus.Error.AccessDenied "jarrett's define of a hostile file is refused"
    assert_contains "$CALL_MSG" "<seclabel>" "the refusal names <seclabel>"
    assert_contains "$CALL_MSG" "$ACTION" "the refusal names $ACTION"
    if defined; then fail "libvirt still has no VM after the refusal"; else ok "libvirt still has no VM after the refusal"; fi
    ctl jarrett define
    if [[ $CTL_RC != 0 ]]; then ok "winvmctl define of the hostile file fails"; else fail "winvmctl define of the hostile file fails" "$CTL_OUT"; fi
    cp "$GOOD" "$FILE"
}

test_define_again() {
    ctl jarrett define
    assert_ctl 0 "winvmctl define brings the VM back"
    assert_contains "$CTL_OUT" "defined again" "it says the VM was defined again"
    if defined; then ok "libvirt has the VM again"; else fail "libvirt has the VM again"; fi
    wait_winvmd_state shutoff "winvmd sees the VM defined (shut off)"
    assert_eq "$IMAGES/windows11.s2" "$(current_disk)" "the snapshots' disk source is carried over, not the file's $BASE"
    check_snapshots "defined again"
    snap_revert jarrett s1 2
    assert_call_ok "RevertSnapshot(s1) after the define"
    CUR=${SNAP[s1]}
    check_snapshots "reverted to s1"
    assert_guest_boots "the guest boots"
    guest_destroy
}

test_administrator() {
    lose_vm "administrator"
    python3 -c "
import sys
s = open(sys.argv[1]).read()
open(sys.argv[2], 'w').write(s.replace('</domain>', \"<seclabel type='none'/></domain>\", 1))" "$GOOD" "$FILE"
    call root "$VM_PATH" org.winvm1.Definition.Define
    assert_call_ok "an administrator defines the file libvirt lost, unrestricted"
    if defined; then ok "libvirt has the VM again (administrator)"; else fail "libvirt has the VM again (administrator)"; fi
    assert_contains "$(virsh -q -c "$SB_URI" dumpxml --inactive "$GUEST")" "seclabel type='none'" "libvirt has the administrator's definition"
    cp "$GOOD" "$FILE"
}

setup
test_hostile_refused
test_define_again
test_administrator
assert_winvmd_alive "$WINVMD_PID" "winvmd serving at the end"
summary
