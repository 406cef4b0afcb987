#!/usr/bin/env bash
# Host readiness against a stand-in host tree (tests/fixtures/hosts/intel-seed, copied so
# winvmd may write into it): the doctor reports every seed check with the right status and a
# remedy, the demo guest's definition fails the XML checks until it is fixed, a real device
# node gets the kvmfr device checks right, ApplyPermissions writes the rule and options files
# (never through a symlink, never into a folder others may write) but none on a NixOS host,
# and mallory may read but not load, unload or apply.
set -uo pipefail
# shellcheck source=tests/sandbox/sandbox-lib.sh
. "$WINVM_SRC/tests/sandbox/sandbox-lib.sh"
# shellcheck source=tests/integration/lib.sh
. "$WINVM_SRC/tests/integration/lib.sh"

R=$WINVM_SANDBOX/host-root
DOCTOR=$WINVM_SANDBOX/doctor.json

setup_root() {
    cp -a "$WINVM_SRC/tests/fixtures/hosts/intel-seed" "$R"
    chmod 755 "$R"
    cat >>"$WINVM_CONF" <<EOT
[Host]
Root=$R
DesktopUser=jarrett
EOT
    sed -i -e 's|^UdevRule=.*|UdevRule=/etc/udev/rules.d/99-kvmfr.rules|' \
        -e 's|^ModprobeOptions=.*|ModprobeOptions=/etc/modprobe.d/kvmfr.conf|' \
        -e 's|^\[Kvmfr\]|[Kvmfr]\nOwner=jarrett|' "$WINVM_CONF"
    restart_winvmd
}

# doctor USER: Manager.Doctor("") as JSON in $DOCTOR; CALL_RC as call() sets it.
doctor() {
    run_as "$1" busctl --system --json=short call org.winvm1 /org/winvm1 org.winvm1.Manager Doctor s "" \
        >"$DOCTOR" 2>"$WINVM_SANDBOX/doctor.err"
    CALL_RC=$?
}

# field ID N: field N (1 status, 2 message, 3 remedy) of the check ID in the last doctor.
field() {
    python3 - "$DOCTOR" "$1" "$2" <<'PY'
import json, sys
checks = json.load(open(sys.argv[1]))["data"][0]
hits = [c for c in checks if c[0] == sys.argv[2]]
print(hits[0][int(sys.argv[3])] if hits else "<missing>")
PY
}

# expect ID STATUS [REMEDY_SUBSTRING]: the check has the status, and a non-ok check a remedy.
expect() {
    local id=$1 status=$2 got remedy
    got=$(field "$id" 1)
    assert_eq "$status" "$got" "doctor: $id is $status ($(field "$id" 2))"
    if [[ $status == fail || $status == warn ]]; then
        remedy=$(field "$id" 3)
        if [[ -n $remedy ]]; then ok "doctor: $id has a remedy"; else fail "doctor: $id has a remedy"; fi
        [[ -z ${3:-} ]] || assert_contains "$remedy" "$3" "doctor: $id's remedy says $3"
    fi
}

test_seed_host_demo_guest() {
    doctor jarrett
    assert_eq 0 "$CALL_RC" "Doctor answers jarrett"
    local id
    for id in vfio.iommu-enabled vfio.cmdline.iommu vfio.cmdline.iommu-pt vfio.cmdline.vfio-pci-ids \
        vfio.driver.10de:2489 vfio.group.10de:2489 vfio.driver.10de:228b vfio.group.10de:228b \
        kvmfr.loaded kvmfr.size kvmfr.cgroup-acl vm.memballoon vm.virtiofsd vm.session-duplicate; do
        expect "$id" ok
    done
    # No device node can live in git, and the demo guest has no passthrough, IVSHMEM or tuning.
    expect kvmfr.device fail kvmfr
    expect kvmfr.ivshmem-path fail ivshmem
    expect vm.hyperv warn "<hyperv"
    expect vm.kvm-hidden warn "<hidden state='on'/>"
    expect vm.vendor-id warn vendor_id
    expect vm.cpu-pinning warn "doctor --fix vm.cpu-pinning"
    local summary
    summary=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["data"][1]["fail"])' "$DOCTOR")
    assert_eq 2 "$summary" "the summary counts the two failures"
}

test_session_duplicate() {
    mkdir -p "$R/home/jarrett/.config/libvirt/qemu"
    cp "$WINVM_SANDBOX/windows11.xml" "$R/home/jarrett/.config/libvirt/qemu/$GUEST.xml"
    doctor jarrett
    expect vm.session-duplicate warn
    [[ $(field vm.session-duplicate 1) != ok ]] || fail "the duplicate in jarrett's session is reported"
    rm -r "$R/home/jarrett/.config"
    doctor jarrett
    expect vm.session-duplicate ok
}

test_device_node() {
    mkdir -p "$R/dev"
    if ! mknod "$R/dev/kvmfr0" c 511 0 2>/dev/null; then
        fail "mknod a stand-in /dev/kvmfr0" "mknod refused here"
        return
    fi
    chown 0:302 "$R/dev/kvmfr0"   # kvm in the fixture's /etc/group
    chmod 0660 "$R/dev/kvmfr0"
    doctor jarrett
    expect kvmfr.device ok
    expect kvmfr.permissions fail jarrett   # Owner=jarrett is configured, root owns it
    chown 1000:302 "$R/dev/kvmfr0"
    doctor jarrett
    expect kvmfr.permissions ok
    rm "$R/dev/kvmfr0"
    : >"$R/dev/kvmfr0"   # what QEMU leaves when it starts before the module loads
    doctor jarrett
    expect kvmfr.device fail
    assert_contains "$(field kvmfr.device 2)" "regular file" "doctor: a regular /dev/kvmfr0 is named as such"
    rm "$R/dev/kvmfr0"
}

test_fixed_guest_passes() {
    local xml=$WINVM_SANDBOX/fixed.xml before=$WINVM_SANDBOX/before.xml
    virsh -q dumpxml --inactive "$GUEST" >"$before"
    python3 - "$before" "$xml" <<'PY'
import sys
s = open(sys.argv[1]).read()
s = s.replace("<domain type=", "<domain xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0' type=", 1)
s = s.replace("<vcpu placement='static'>1</vcpu>",
              "<vcpu placement='static'>1</vcpu>\n  <cputune><vcpupin vcpu='0' cpuset='0'/>"
              "<emulatorpin cpuset='0'/></cputune>")
s = s.replace("<apic/>",
              "<apic/>\n    <hyperv mode='custom'><relaxed state='on'/><vapic state='on'/>"
              "<spinlocks state='on' retries='8191'/><vendor_id state='on' value='AuthenticAMD'/></hyperv>"
              "\n    <kvm><hidden state='on'/></kvm>")
s = s.replace("</devices>",
              "</devices>\n  <qemu:commandline>\n"
              "    <qemu:arg value='-device'/>\n"
              "    <qemu:arg value='{\"driver\":\"ivshmem-plain\",\"id\":\"shmem0\",\"memdev\":\"looking-glass\"}'/>\n"
              "    <qemu:arg value='-object'/>\n"
              "    <qemu:arg value='{\"qom-type\":\"memory-backend-file\",\"id\":\"looking-glass\","
              "\"mem-path\":\"/dev/kvmfr0\",\"size\":134217728,\"share\":true}'/>\n"
              "  </qemu:commandline>")
open(sys.argv[2], "w").write(s)
PY
    virsh -q define "$xml" >/dev/null
    assert_eq 0 $? "the fixed guest definition is accepted by libvirt"
    doctor jarrett
    local id
    for id in vm.memballoon vm.hyperv vm.kvm-hidden vm.vendor-id vm.cpu-pinning kvmfr.ivshmem-path kvmfr.ivshmem-size; do
        expect "$id" ok
    done
    virsh -q define "$before" >/dev/null
    doctor jarrett
    expect vm.hyperv warn
}

test_apply_permissions() {
    local rule=$R/etc/udev/rules.d/99-kvmfr.rules options=$R/etc/modprobe.d/kvmfr.conf
    call jarrett /org/winvm1/host org.winvm1.Kvmfr.ApplyPermissions
    assert_call_ok "ApplyPermissions as jarrett"
    assert_contains "$CALL_OUT" "$rule" "ApplyPermissions names the rule file"
    assert_contains "$(cat "$rule" 2>&1)" 'SUBSYSTEM=="kvmfr", OWNER="jarrett", GROUP="kvm", MODE="0660"' \
        "the rule carries the configured owner, group and mode"
    assert_contains "$(cat "$options" 2>&1)" "options kvmfr static_size_mb=128" \
        "the options file sets static_size_mb=128 (3840x2160 SDR)"
    assert_eq "644 root" "$(stat -c '%a %U' "$rule")" "the rule file is root's, mode 644"
    local leftovers
    leftovers=$(find "$R/etc" -name '*.tmp-*' | wc -l)
    assert_eq 0 "$leftovers" "no temporary files are left beside them"

    # A symlink in place of the rule is never followed nor replaced.
    local victim=$WINVM_SANDBOX/victim
    echo untouched >"$victim"
    rm "$rule"
    ln -s "$victim" "$rule"
    call jarrett /org/winvm1/host org.winvm1.Kvmfr.ApplyPermissions
    assert_call_error org.winvm1.Error.Failed "ApplyPermissions refuses a symlinked rule file"
    assert_eq untouched "$(cat "$victim")" "the symlink's target is unchanged"
    [[ -L $rule ]] && ok "the symlink itself is left in place" || fail "the symlink itself is left in place"
    rm "$rule"

    # A folder others may write to could be swapped under winvmd: refused.
    chmod 0777 "$R/etc/modprobe.d"
    call jarrett /org/winvm1/host org.winvm1.Kvmfr.ApplyPermissions
    assert_call_error org.winvm1.Error.Failed "ApplyPermissions refuses a world-writable folder"
    assert_contains "$CALL_MSG" "writable only by root" "the refusal says why"
    chmod 0755 "$R/etc/modprobe.d"
}

# On NixOS (/etc/NIXOS) the rule and the options are the system configuration's: nothing is
# written into /etc, the running system gets them in /run, and the reply names the NixOS
# options to change instead.
test_apply_permissions_nixos() {
    local rule=$R/etc/udev/rules.d/99-kvmfr.rules options=$R/etc/modprobe.d/kvmfr.conf before
    rm -f "$rule"
    echo "options kvmfr static_size_mb=64" >"$options"
    before=$(stat -c '%Y %s' "$options")
    touch "$R/etc/NIXOS"
    call jarrett /org/winvm1/host org.winvm1.Kvmfr.ApplyPermissions
    assert_call_ok "ApplyPermissions as jarrett on a NixOS host"
    assert_contains "$CALL_OUT" "(['$R/run/udev/rules.d/99-kvmfr.rules', '$R/run/modprobe.d/kvmfr.conf'], " \
        "only the running system's files in /run are reported written"
    assert_contains "$CALL_OUT" "services.winvm.kvmfr (resolution, hdr, owner, group, mode) and services.winvm.users" \
        "the reply names the NixOS options"
    if [[ -e $rule ]]; then fail "no udev rule is written"; else ok "no udev rule is written"; fi
    assert_eq "$before" "$(stat -c '%Y %s' "$options")" "the modprobe options file is left as it was"
    rm -rf "$R/etc/NIXOS" "$R/run/udev" "$R/run/modprobe.d"
}

test_access() {
    local m
    for m in Load Unload ApplyPermissions; do
        call mallory /org/winvm1/host "org.winvm1.Kvmfr.$m"
        assert_call_error org.freedesktop.DBus.Error.AccessDenied "mallory is refused Kvmfr.$m"
        assert_contains "$CALL_MSG" org.winvm1.kvmfr.manage "the refusal names org.winvm1.kvmfr.manage"
    done
    call mallory /org/winvm1/host org.winvm1.Kvmfr.Check
    assert_call_ok "mallory may run Kvmfr.Check"
    call mallory /org/winvm1/host org.winvm1.Vfio.GetDevices
    assert_call_ok "mallory may read Vfio.GetDevices"
    assert_contains "$CALL_OUT" "0000:01:00.0" "GetDevices finds the GPU at 0000:01:00.0"
    call mallory /org/winvm1/host org.freedesktop.DBus.Properties.GetAll org.winvm1.Kvmfr
    assert_call_ok "mallory may read the Kvmfr properties"
    assert_contains "$CALL_OUT" "'Loaded': <true>" "Loaded is true on the stand-in host"
    assert_contains "$CALL_OUT" "'StaticSizesMiB': <[uint32 128]>" "StaticSizesMiB is [128]"
    doctor mallory
    assert_eq 0 "$CALL_RC" "mallory may run the doctor"
    # jarrett may ask, but modules load only on the real host.
    call jarrett /org/winvm1/host org.winvm1.Kvmfr.Load
    assert_call_error org.winvm1.Error.Failed "Load on a stand-in root is refused"
    assert_contains "$CALL_MSG" "stand-in" "the refusal says the root is a stand-in"
}

setup_root
test_seed_host_demo_guest
test_session_duplicate
test_device_node
test_fixed_guest_passes
test_apply_permissions
test_apply_permissions_nixos
test_access
summary
