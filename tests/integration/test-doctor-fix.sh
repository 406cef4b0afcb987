#!/usr/bin/env bash
# The doctor's repairs and its NixOS, virtiofsd and desktop-user checks, against the real
# libvirtd, polkitd and dbus-daemon, on a copy of the nixos fixture host
# (tests/fixtures/hosts/nixos) with no [Host] DesktopUser and no [Kvmfr] Owner:
#   - doctor names jarrett, the winvm group's only member, as the desktop user, and runs the
#     checks that need one;
#   - each repair, as jarrett with `winvmctl doctor --fix ID`, turns its check to ok in
#     libvirt's definition, and `winvmctl undo` turns it back, byte for byte; mallory is
#     refused and changes nothing; an unknown id is a clear error;
#   - a repair while the guest runs says it takes effect at the next start;
#   - the virtiofsd repair moves the seed's Nix store path to the stable NixOS path; going
#     back to a binary outside [Virtiofs] AllowedBinaries needs an administrator;
#   - a running virtiofsd (a real process) executes the configured binary, then, once the
#     configured file is replaced, an old one;
#   - ApplyPermissions on NixOS writes nothing into /etc, applies the rule and options in /run
#     and names the NixOS options.
set -uo pipefail
# shellcheck source=tests/sandbox/sandbox-lib.sh
. "$WINVM_SRC/tests/sandbox/sandbox-lib.sh"
# shellcheck source=tests/integration/lib.sh
. "$WINVM_SRC/tests/integration/lib.sh"

R=$WINVM_SANDBOX/host-root
DOCTOR=$WINVM_SANDBOX/doctor.json
NIX_VIRTIOFSD=/run/current-system/sw/bin/virtiofsd
SYSTEM_VIRTIOFSD=/nix/store/3ysd0a8gk0mh5qj6dbj0v8y9j9ffl6yk-system-path/bin/virtiofsd
STORE_VIRTIOFSD=/nix/store/vw6vbapxh9dwaw8mhs3pyzlbr7bks6kk-virtiofsd-1.13.2-looking-glass/bin/virtiofsd
SHARE=/home/jarrett/windows-shared
FAKE_PID=''

setup() {
    cp -a "$WINVM_SRC/tests/fixtures/hosts/nixos" "$R"
    chmod 755 "$R"
    mkdir -p "$R$SHARE"
    chown 1000:100 "$R/home/jarrett" "$R$SHARE"
    # As nix/module.nix configures it: the rule and options named in /etc, where NixOS keeps them.
    sed -i -e 's|^UdevRule=.*|UdevRule=/etc/udev/rules.d/99-kvmfr.rules|' \
        -e 's|^ModprobeOptions=.*|ModprobeOptions=/etc/modprobe.d/nixos.conf|' "$WINVM_CONF"
    cat >>"$WINVM_CONF" <<EOT
[Host]
Root=$R

[Virtiofs]
AllowedBinaries=$NIX_VIRTIOFSD
EOT
    restart_winvmd
}

definition() { virsh -c "$SB_URI" dumpxml --inactive "$GUEST"; }

# qemu_args: the <qemu:arg value>s of libvirt's definition, one a line.
qemu_args() {
    definition | python3 -c '
import sys, xml.etree.ElementTree as ET
ns = "{http://libvirt.org/schemas/domain/qemu/1.0}"
for a in ET.fromstring(sys.stdin.read()).iter(ns + "arg"):
    print(a.get("value"))'
}

# doctor USER: winvmctl --json doctor into $DOCTOR.
doctor() {
    run_as "$1" winvmctl --json doctor >"$DOCTOR" 2>"$WINVM_SANDBOX/doctor.err"
}

# check ID [FIELD]: the status (or message, remedy) of check ID in the last doctor.
check() {
    python3 - "$DOCTOR" "$1" "${2:-status}" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print(next((c[sys.argv[3]] for c in d["checks"] if c["id"] == sys.argv[2]), "absent"))
PY
}

# assert_doctor ID STATUS DESCRIPTION: after a fresh doctor as jarrett.
assert_doctor() {
    doctor jarrett
    assert_eq "$2" "$(check "$1")" "$3"
}

test_desktop_user() {
    doctor jarrett
    assert_eq ok "$(check host.desktop-user)" "doctor finds a desktop user"
    assert_contains "$(check host.desktop-user message)" "jarrett, the only member of the winvm group" \
        "it is jarrett, the winvm group's only member ([Host] DesktopUser is unset)"
    assert_eq ok "$(check vm.session-duplicate)" "the duplicate-session check runs for jarrett instead of being skipped"
    assert_eq ok "$(check kvmfr.cgroup-acl)" "kvmfr.cgroup-acl reads NixOS's /var/lib/libvirt/qemu.conf"
    assert_contains "$(check kvmfr.cgroup-acl message)" /var/lib/libvirt/qemu.conf "and says so"
}

# repair_round ID DESCRIPTION: the check is not ok; jarrett's doctor --fix ID makes it ok in
# libvirt's definition; undo restores the definition exactly and the check is not ok again.
repair_round() {
    local id=$1 what=$2 before bad=warn
    [[ $id == kvmfr.* ]] && bad=fail
    before=$(definition)
    assert_doctor "$id" "$bad" "$what: $id is $bad before the repair"
    assert_contains "$(check "$id" remedy)" "winvmctl --vm $GUEST doctor --fix $id" "its remedy names the repair and the VM, not virsh edit"
    ctl jarrett doctor --fix "$id"
    assert_ctl 0 "jarrett: winvmctl doctor --fix $id"
    assert_contains "$CTL_OUT" "repaired: $id" "it says what it repaired"
    assert_doctor "$id" ok "$what: $id is ok after the repair"
    ctl jarrett history
    assert_contains "$CTL_OUT" "before repair" "the replaced definition is kept for undo"
    ctl jarrett undo
    assert_ctl 0 "jarrett: winvmctl undo"
    assert_eq "$before" "$(definition)" "the undo restores libvirt's definition exactly"
    assert_doctor "$id" "$bad" "$what: $id is $bad again after the undo"
}

test_repairs() {
    # The sandbox guest has a memballoon none; give it the virtio one libvirt adds by default.
    domain_edit 'root.find("devices").find("memballoon").set("model", "virtio")'
    repair_round vm.memballoon "memory balloon"
    domain_edit 'root.find("devices").find("memballoon").set("model", "none")'
    repair_round vm.hyperv "Hyper-V enlightenments"
    repair_round vm.kvm-hidden "KVM signature"
    repair_round vm.vendor-id "vendor_id"
    domain_edit 'import xml.etree.ElementTree as ET; ET.SubElement(root.find("devices"), "input", {"type": "tablet", "bus": "virtio"})'
    repair_round vm.input "virtio keyboard and mouse"
    repair_round kvmfr.ivshmem-path "IVSHMEM on /dev/kvmfr0"
    ctl jarrett doctor --fix kvmfr.ivshmem-size
    assert_contains "$(qemu_args)" "'mem-path':'/dev/kvmfr0','size':134217728,'share':true" \
        "the IVSHMEM construct in libvirt's definition has the formula's size for 3840x2160"
    ctl jarrett undo
    repair_round vm.cpu-pinning "vCPU pinning"

    # Every repair at once, then one undo takes them all back.
    local before
    before=$(definition)
    ctl jarrett doctor --fix
    assert_ctl 0 "winvmctl doctor --fix with no ids"
    doctor jarrett
    local id bad=''
    for id in vm.memballoon vm.hyperv vm.kvm-hidden vm.vendor-id vm.input kvmfr.ivshmem-path vm.cpu-pinning; do
        [[ $(check "$id") == ok ]] || bad+=" $id=$(check "$id")"
    done
    assert_eq '' "$bad" "every repairable check is ok after doctor --fix"
    ctl jarrett doctor --fix
    assert_contains "$CTL_OUT" "nothing to repair" "a second doctor --fix changes nothing"
    ctl jarrett undo
    assert_eq "$before" "$(definition)" "one undo takes every repair back"

    # Refusals: mallory, an unknown id; nothing changes.
    before=$(definition)
    ctl mallory --no-ask-password doctor --fix vm.hyperv
    assert_ctl 3 "mallory is refused doctor --fix"
    ctl jarrett doctor --fix kvmfr.loaded
    assert_ctl 2 "an id without a repair is refused"
    assert_contains "$CTL_ERR" "no repair exists for 'kvmfr.loaded'" "naming it"
    ctl jarrett doctor vm.hyperv
    assert_ctl 2 "ids without --fix are a usage error"
    assert_eq "$before" "$(definition)" "refused repairs changed nothing"
}

# A running guest: the repair goes into the persistent definition, the running guest keeps
# its own until the next start, and the result says so.
test_repair_running() {
    virsh -q -c "$SB_URI" start "$GUEST" >/dev/null
    assert_eq running "$(virsh_state "$GUEST")" "the guest runs"
    local before
    before=$(definition)
    ctl jarrett doctor --fix vm.kvm-hidden
    assert_ctl 0 "doctor --fix vm.kvm-hidden while the guest runs"
    assert_contains "$CTL_OUT" "the guest is running: the change takes effect at the guest's next start" \
        "it says the change waits for the next start"
    assert_contains "$(definition)" "<hidden state='on'/>" "the persistent definition has it"
    assert_not_contains "$(virsh -c "$SB_URI" dumpxml "$GUEST")" "<hidden state='on'/>" "the running guest does not yet"
    # Pinning is the one repair libvirt could apply to a running guest too; the plan is for the
    # fixture's 28 CPUs (an E-core, CPU 16, for the one vCPU), which this machine does not
    # have, so here the running guest keeps its pins and the result does not claim otherwise.
    ctl jarrett doctor --fix vm.cpu-pinning
    assert_ctl 0 "doctor --fix vm.cpu-pinning while the guest runs"
    assert_contains "$(definition)" "<vcpupin vcpu='0' cpuset='16'/>" "the plan is in the persistent definition"
    assert_not_contains "$CTL_OUT" "pinned now already" "no live pin is claimed that libvirt could not make"
    ctl jarrett undo
    guest_off
    ctl jarrett undo
    assert_eq "$before" "$(definition)" "undo restores the definition"
}

test_virtiofsd_repair() {
    # The seed's share with its Nix store virtiofsd, as the seed's guest has it (root's edit).
    domain_edit '
import xml.etree.ElementTree as ET
fs = ET.SubElement(root.find("devices"), "filesystem", {"type": "mount", "accessmode": "passthrough"})
ET.SubElement(fs, "driver", {"type": "virtiofs"})
ET.SubElement(fs, "binary", {"path": args[0]})
ET.SubElement(fs, "source", {"dir": args[1]})
ET.SubElement(fs, "target", {"dir": "shared"})
mb = ET.SubElement(root, "memoryBacking")
ET.SubElement(mb, "source", {"type": "memfd"})
ET.SubElement(mb, "access", {"mode": "shared"})' "$STORE_VIRTIOFSD" "$SHARE"
    local before
    before=$(definition)
    assert_doctor vm.virtiofsd warn "the seed's store path virtiofsd warns"
    assert_eq skipped "$(check vm.virtiofsd-version)" "a virtiofsd outside [Virtiofs] AllowedBinaries is not run"
    ctl jarrett doctor --fix vm.virtiofsd
    assert_ctl 0 "jarrett: doctor --fix vm.virtiofsd"
    assert_contains "$(definition)" "<binary path='$NIX_VIRTIOFSD'/>" "libvirt's definition uses the stable NixOS path"
    assert_doctor vm.virtiofsd ok "vm.virtiofsd is ok"
    assert_eq ok "$(check vm.virtiofsd-version)" "the system's build (1.13.2-dev, vm-memory 0.17.1) passes the version check"
    assert_contains "$(check vm.virtiofsd-version message)" "built with vm-memory 0.17.1" "read from the binary"
    # Back to a binary [Virtiofs] AllowedBinaries does not list: an administrator's.
    ctl jarrett --no-ask-password undo
    assert_ctl 3 "jarrett's undo back to the store path needs an administrator"
    assert_contains "$(definition)" "<binary path='$NIX_VIRTIOFSD'/>" "and changed nothing"
    ctl root undo
    assert_ctl 0 "root's undo"
    assert_eq "$before" "$(definition)" "restores the store path exactly"
    ctl jarrett doctor --fix vm.virtiofsd
}

# A real virtiofsd stand-in: a copy of bash, started as libvirt starts virtiofsd (argv[0]
# virtiofsd, --shared-dir=the share), blocked reading a FIFO.
test_running_virtiofsd() {
    umount "$R/proc" 2>/dev/null
    mkdir -p "$R/proc"
    mount --bind /proc "$R/proc"
    cp /bin/bash "$R$SYSTEM_VIRTIOFSD"
    local fifo=$WINVM_SANDBOX/virtiofsd.fifo
    mkfifo "$fifo"
    (exec -a virtiofsd "$R$SYSTEM_VIRTIOFSD" -c 'read -r _ <>"$0"' "$fifo" "--shared-dir=$SHARE") &
    FAKE_PID=$!
    if wait_until 10 sh -c "[ \"\$(readlink /proc/$FAKE_PID/exe)\" = '$R$SYSTEM_VIRTIOFSD' ]"; then
        ok "the stand-in virtiofsd runs its copied binary"
    else
        fail "the stand-in virtiofsd runs its copied binary" "exe: $(readlink "/proc/$FAKE_PID/exe")"
    fi
    assert_doctor vm.virtiofsd-running ok "the running virtiofsd executes the configured binary"
    assert_contains "$(check vm.virtiofsd-running message)" "runs the configured $NIX_VIRTIOFSD" "and says so"
    # A rebuild replaces the file under the running process.
    cp /bin/bash "$R$SYSTEM_VIRTIOFSD.new"
    mv "$R$SYSTEM_VIRTIOFSD.new" "$R$SYSTEM_VIRTIOFSD"
    assert_doctor vm.virtiofsd-running warn "after the file is replaced, the running virtiofsd is an old one"
    assert_contains "$(check vm.virtiofsd-running message)" "the file was replaced since it started" "named as such"
    assert_contains "$(check vm.virtiofsd-running remedy)" "restart libvirtd" "the remedy: restart the VM (or libvirtd)"
    kill "$FAKE_PID" 2>/dev/null
    wait "$FAKE_PID" 2>/dev/null
    FAKE_PID=''
    # Another build from the store serving the share (the one before a rebuild).
    local other=/nix/store/q9f3c2l7w1m5d8x0z4b6n2k7j3h5g1a9-virtiofsd-1.12.0/bin/virtiofsd
    cp /bin/bash "$R$other"
    (exec -a virtiofsd "$R$other" -c 'read -r _ <>"$0"' "$fifo" "--shared-dir=$SHARE") &
    FAKE_PID=$!
    wait_until 10 sh -c "[ \"\$(readlink /proc/$FAKE_PID/exe)\" = '$R$other' ]"
    assert_doctor vm.virtiofsd-running warn "a running virtiofsd executing another binary than the configured one"
    assert_contains "$(check vm.virtiofsd-running message)" "runs $other, not the configured $NIX_VIRTIOFSD" "names both"
    kill "$FAKE_PID" 2>/dev/null
    wait "$FAKE_PID" 2>/dev/null
    FAKE_PID=''
    assert_doctor vm.virtiofsd-running ok "with it gone, nothing old runs"
    umount "$R/proc"
}

test_apply_permissions_nixos() {
    ctl root kvmfr apply-permissions
    assert_ctl 0 "ApplyPermissions on the NixOS host"
    assert_contains "$CTL_OUT" "nothing written into /etc" "it writes nothing into NixOS's /etc"
    assert_contains "$CTL_OUT" "services.winvm.kvmfr" "it names the NixOS module's options"
    assert_contains "$CTL_OUT" "nixos-rebuild switch" "and how to apply them"
    if [[ -e $R/etc/udev/rules.d/99-kvmfr.rules ]]; then
        fail "no udev rule in /etc"
    else
        ok "no udev rule in /etc"
    fi
    assert_eq "options kvmfr static_size_mb=128" "$(grep -v '^#' "$R/etc/modprobe.d/nixos.conf")" \
        "NixOS's modprobe file is untouched"
    assert_contains "$(cat "$R/run/udev/rules.d/99-kvmfr.rules" 2>&1)" \
        'SUBSYSTEM=="kvmfr", OWNER="jarrett", GROUP="kvm", MODE="0660"' \
        "the running system's rule in /run, owned by the desktop user by default"
    assert_contains "$(cat "$R/run/modprobe.d/kvmfr.conf" 2>&1)" "options kvmfr static_size_mb=128" \
        "the running system's module options in /run"
}

# winvmd stops on SIGTERM, and its log holds no sanitizer report (an ASan/UBSan build
# reports leaks and errors there at exit).
test_clean_exit() {
    local lines
    if stop_winvmd; then ok "winvmd stops on SIGTERM"; else fail "winvmd stops on SIGTERM"; fi
    mapfile -t lines < <(grep -E -A12 'Sanitizer|runtime error' "$WINVM_SANDBOX/winvmd.log" | head -n 30)
    if ((${#lines[@]} == 0)); then
        ok "no sanitizer report in winvmd.log"
    else
        fail "no sanitizer report in winvmd.log" "${lines[@]}"
    fi
}

cleanup() {
    [[ -n $FAKE_PID ]] && kill "$FAKE_PID" 2>/dev/null
    umount "$R/proc" 2>/dev/null
    true
}
trap cleanup EXIT

setup
test_desktop_user
test_repairs
test_repair_running
test_virtiofsd_repair
test_running_virtiofsd
test_apply_permissions_nixos
test_clean_exit
summary
