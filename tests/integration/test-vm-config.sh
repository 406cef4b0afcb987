#!/usr/bin/env bash
# The VM's configuration as managed state, on a copy of the seed host's tree
# (tests/fixtures/hosts/intel-seed: an i7-14700KF, 8 P-cores with SMT and 12 E-cores) and the
# sandbox guest:
#   - ApplyPinning writes the plan into libvirt's definition, CheckPinning then passes, and
#     UndoChange restores the definition exactly;
#   - ExportDefinition writes the definition file (keeping the version before it), an edit of
#     the file shows in DefinitionDrift's diff, and Define applies it; a broken file, another
#     VM's name or uuid, and XML libvirt refuses change nothing;
#   - SetVirtiofsdPath takes only an allowed, executable virtiofsd;
#   - USB: an unplugged or unconfigured device is a clear error; the <hostdev> written for a
#     configured one is what libvirt's own parse of the definition shows, and the guest
#     starts while the device is unplugged;
#   - mallory is refused every change, and nothing changes;
#   - a VNC password survives a define from an exported file (which has none) and a revert.
set -uo pipefail
# shellcheck source=tests/sandbox/sandbox-lib.sh
. "$WINVM_SRC/tests/sandbox/sandbox-lib.sh"
# shellcheck source=tests/integration/lib.sh
. "$WINVM_SRC/tests/integration/lib.sh"

R=$WINVM_SANDBOX/host-root
DEFS=$WINVM_SANDBOX/config-repo
FILE=$DEFS/$GUEST.xml
CPU_IFACE=org.winvm1.Cpu
HOST=/org/winvm1/host
TABLET=256c:006d
SPACEMOUSE=256f:c635
NIX_VIRTIOFSD=/run/current-system/sw/bin/virtiofsd

setup() {
    cp -a "$WINVM_SRC/tests/fixtures/hosts/intel-seed" "$R"
    chmod 755 "$R"
    # The seed's shared folder, jarrett's (uid 1000 in the fixture's passwd): a share must be
    # a folder the desktop user owns.
    mkdir -p "$R/home/jarrett/windows-shared"
    chown 1000:100 "$R/home/jarrett" "$R/home/jarrett/windows-shared"
    # The fixture has the tablet plugged in, not the SpaceMouse.
    mkdir -p "$DEFS"
    cat >>"$WINVM_CONF" <<EOT
[Host]
Root=$R
DesktopUser=jarrett

[Cpu]
HostCPUs=0-3

[Virtiofs]
AllowedBinaries=$NIX_VIRTIOFSD /usr/libexec/virtiofsd

[Definitions]
$GUEST=$FILE
EOT
    restart_winvmd
}

definition() { virsh -c "$SB_URI" dumpxml --inactive "$GUEST"; }

# xml_norm: the definition on stdin with layout dropped, for comparing two of them.
xml_norm() {
    python3 -c '
import sys, xml.dom.minidom
d = xml.dom.minidom.parseString(sys.stdin.read())
def strip(n):
    for c in list(n.childNodes):
        if c.nodeType == c.TEXT_NODE and not c.data.strip():
            n.removeChild(c)
        else:
            strip(c)
strip(d)
print(d.documentElement.toprettyxml(indent=" "))'
}

# pinning_of: "vcpus;vcpu:cpuset ...;emulatorpin;sockets,dies,cores,threads" of the definition on stdin.
pinning_of() {
    python3 -c '
import sys, xml.etree.ElementTree as E
d = E.fromstring(sys.stdin.read())
pins = " ".join("%s:%s" % (p.get("vcpu"), p.get("cpuset")) for p in d.findall("cputune/vcpupin"))
emu = d.find("cputune/emulatorpin")
t = d.find("cpu/topology")
print("%s;%s;%s;%s" % (d.findtext("vcpu"), pins, emu.get("cpuset") if emu is not None else "-",
      ",".join(t.get(k, "") for k in ("sockets", "dies", "cores", "threads")) if t is not None else "-"))'
}

# checks_json METHOD ARGS...: the a(ssss) of a check call, as "id status" lines.
check_lines() {
    python3 -c '
import json, sys
for c in json.load(sys.stdin)["data"][0]:
    print(c[0], c[1])'
}

test_topology() {
    local out
    out=$(run_as mallory busctl --system --json=short call org.winvm1 $HOST $CPU_IFACE GetTopology)
    assert_eq 0 $? "mallory may read the topology"
    local summary
    summary=$(python3 -c '
import json, sys
d = json.load(sys.stdin)["data"]
cpus = d[1]
print(d[0], len(cpus), sum(c[3] == "P" for c in cpus), sum(c[3] == "E" for c in cpus), cpus[1][4], cpus[20][4])' <<<"$out")
    assert_eq "True 28 16 12 0-1 20" "$summary" "the seed host: hybrid, 28 CPUs, 16 P-threads, 12 E-cores, siblings 0-1"
}

test_check_seed_like_pinning() {
    # The guest as the seed pins it: 16 vCPUs as cores='8' threads='2', four of them on E-cores.
    local xml=$WINVM_SANDBOX/seed-pinned.xml
    definition | python3 -c '
import sys
s = sys.stdin.read()
pins = "".join("<vcpupin vcpu=\"%d\" cpuset=\"%d\"/>" % (v, c) for v, c in enumerate(list(range(4, 16)) + [16, 17, 18, 19]))
vcpu = "<vcpu placement=\x27static\x27>1</vcpu>"
assert vcpu in s
s = s.replace(vcpu, "<vcpu placement=\"static\">16</vcpu><cputune>%s<emulatorpin cpuset=\"0-3\"/></cputune>" % pins)
s = s.replace("</features>", "</features><cpu mode=\"host-passthrough\"><topology sockets=\"1\" dies=\"1\" cores=\"8\" threads=\"2\"/></cpu>")
open(sys.argv[1], "w").write(s)' "$xml"
    virsh -q -c "$SB_URI" define "$xml" >/dev/null
    assert_eq 0 $? "libvirt takes the seed-like pinning"
    local lines
    lines=$(run_as jarrett busctl --system --json=short call org.winvm1 $HOST $CPU_IFACE CheckPinning s "$GUEST" | check_lines)
    assert_contains "$lines" "cpu.e-core-threads warn" "CheckPinning flags vCPUs on E-cores declared as SMT threads"
    assert_contains "$lines" "cpu.smt-siblings warn" "CheckPinning flags declared siblings that are not host siblings"
    assert_contains "$lines" "cpu.pinned ok" "every vCPU is pinned"
    # The doctor reuses the same checks.
    local doctor
    doctor=$(run_as jarrett busctl --system --json=short call org.winvm1 /org/winvm1 org.winvm1.Manager Doctor s "" | check_lines)
    assert_contains "$doctor" "cpu.e-core-threads warn" "the doctor reports the pinning checks"
}

test_apply_and_undo_pinning() {
    local before plan_out plan_tune plan_topo after
    before=$(definition | xml_norm)
    plan_out=$(run_as jarrett busctl --system --json=short call org.winvm1 $HOST $CPU_IFACE PlanPinning uuu 6 4 2)
    assert_eq 0 $? "PlanPinning 6P+4E with 2 host P-cores"
    plan_tune=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0])' <<<"$plan_out")
    plan_topo=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][1])' <<<"$plan_out")
    assert_contains "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][2])' <<<"$plan_out")" "vCPU" \
        "the plan comes with a table"

    call mallory $HOST $CPU_IFACE.ApplyPinning "'$GUEST'" 6 4 2
    assert_call_error org.freedesktop.DBus.Error.AccessDenied "mallory is refused ApplyPinning"
    assert_eq "$before" "$(definition | xml_norm)" "mallory's ApplyPinning changed nothing"

    call jarrett $HOST $CPU_IFACE.ApplyPinning "'$GUEST'" 6 4 2
    assert_call_ok "jarrett applies the plan"
    after=$(definition | pinning_of)
    # What the plan said, as libvirt now has it.
    local want
    want=$(printf '<domain><vcpu>16</vcpu>%s<cpu>%s</cpu></domain>' "$plan_tune" "$plan_topo" | pinning_of)
    assert_eq "$want" "$after" "libvirt's definition has the planned pins, emulator pin and topology"
    assert_contains "$after" "16;" "16 vCPUs"
    local lines
    lines=$(run_as jarrett busctl --system --json=short call org.winvm1 $HOST $CPU_IFACE CheckPinning s "$GUEST" | check_lines)
    if grep -qE ' (fail|warn)$' <<<"$lines"; then
        fail "CheckPinning passes the applied plan" "$(grep -E ' (fail|warn)$' <<<"$lines")"
    else
        ok "CheckPinning passes the applied plan"
    fi
    ctl jarrett history
    assert_contains "$CTL_OUT" "before pinning" "winvmctl history lists the kept definition"

    call jarrett "$VM_PATH" org.winvm1.Definition.UndoChange
    assert_call_ok "UndoChange"
    assert_eq "$before" "$(definition | xml_norm)" "the undo restores the definition exactly"
    call jarrett "$VM_PATH" org.winvm1.Definition.UndoChange
    assert_call_error org.winvm1.Error.NotFound "nothing more to undo (the seed-like pinning came from virsh)"

    # Impossible plans are refused with a reason and change nothing.
    before=$(definition | xml_norm)
    call jarrett $HOST $CPU_IFACE.ApplyPinning "'$GUEST'" 8 0 2
    assert_call_error org.winvm1.Error.InvalidArgument "8 P-cores for the guest and 2 for the host do not fit in 8"
    call jarrett $HOST $CPU_IFACE.ApplyPinning "'$GUEST'" 99999 0 0
    assert_call_error org.winvm1.Error.InvalidArgument "an absurd core count is refused"
    call jarrett $HOST $CPU_IFACE.ApplyPinning "'Nope'" 1 0 0
    assert_call_error org.winvm1.Error.NoSuchVM "an unknown VM"
    assert_eq "$before" "$(definition | xml_norm)" "refused plans changed nothing"

    ctl jarrett cpu plan --p 6 --e 4 --host-p 2
    assert_ctl 0 "winvmctl cpu plan"
    assert_contains "$CTL_OUT" "<vcpupin" "winvmctl cpu plan prints the <cputune>"
}

test_export_drift_define() {
    local before
    call jarrett "$VM_PATH" org.winvm1.Definition.DefinitionDrift true
    assert_call_error org.winvm1.Error.NotFound "drift without a file says it is missing"

    call mallory "$VM_PATH" org.winvm1.Definition.ExportDefinition
    assert_call_error org.freedesktop.DBus.Error.AccessDenied "mallory is refused ExportDefinition"
    [[ ! -e $FILE ]] && ok "mallory's export wrote nothing" || fail "mallory's export wrote nothing"

    ctl jarrett export
    assert_ctl 0 "winvmctl export"
    assert_eq "$(definition | xml_norm)" "$(xml_norm <"$FILE")" "the file holds libvirt's definition"
    ctl jarrett diff
    assert_ctl 0 "winvmctl diff: no drift after an export"

    # Edit the file as a person would: a description, and a USB controller for passthrough.
    python3 - "$FILE" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
s = s.replace("</name>", "</name>\n  <description>edited in the configuration repository</description>", 1)
s = s.replace("<controller type='usb' index='0' model='none'/>", "<controller type='usb' index='0' model='qemu-xhci'/>")
s = s.replace("<controller type='usb' model='none'/>", "<controller type='usb' model='qemu-xhci'/>")
open(p, "w").write(s)
PY
    call jarrett "$VM_PATH" org.winvm1.Definition.DefinitionDrift true
    assert_call_ok "DefinitionDrift"
    assert_contains "$CALL_OUT" "(true," "drift: the file differs"
    assert_contains "$CALL_OUT" "+  <description>edited in the configuration repository</description>" \
        "the diff shows the added line"
    ctl jarrett diff
    assert_ctl 1 "winvmctl diff exits 1 when they differ"
    assert_contains "$CTL_OUT" "--- libvirt:$GUEST" "winvmctl diff prints a unified diff, libvirt first"

    before=$(definition | xml_norm)
    call mallory "$VM_PATH" org.winvm1.Definition.Define
    assert_call_error org.freedesktop.DBus.Error.AccessDenied "mallory is refused Define"
    assert_eq "$before" "$(definition | xml_norm)" "mallory's Define changed nothing"

    ctl jarrett define
    assert_ctl 0 "winvmctl define"
    assert_contains "$(definition)" "edited in the configuration repository" "libvirt has the edited definition"
    assert_contains "$(definition)" "qemu-xhci" "and its USB controller"
    # libvirt fills in what a person leaves out (addresses, defaults), so only those remain.
    call jarrett "$VM_PATH" org.winvm1.Definition.DefinitionDrift true
    assert_not_contains "$CALL_OUT" "+  <description>" "after define, the edit is no longer drift"

    # Define is a change like any other: it can be undone, and done again.
    call jarrett "$VM_PATH" org.winvm1.Definition.UndoChange
    assert_call_ok "UndoChange after define"
    assert_not_contains "$(definition)" "edited in the configuration repository" "the undo takes the define back"
    ctl jarrett define
    assert_ctl 0 "winvmctl define again"

    ctl jarrett export
    [[ -f $FILE.previous ]] && ok "an export keeps the file it replaces as .previous" ||
        fail "an export keeps the file it replaces as .previous"
    # Exporting what the file already says does not push the kept version out.
    local kept
    kept=$(<"$FILE.previous")
    ctl jarrett export
    assert_ctl 0 "winvmctl export again, nothing changed"
    assert_eq "$kept" "$(<"$FILE.previous")" "an export of the same definition leaves .previous as it was"

    # Files that must be refused, each leaving libvirt's definition as it is.
    local good=$WINVM_SANDBOX/good.xml
    cp "$FILE" "$good"
    before=$(definition | xml_norm)
    head -c 200 "$good" >"$FILE"
    call jarrett "$VM_PATH" org.winvm1.Definition.Define
    assert_call_error org.winvm1.Error.InvalidArgument "a truncated file is refused"
    assert_contains "$CALL_MSG" "not well-formed" "the refusal says why"
    sed "s|<name>$GUEST</name>|<name>Other</name>|" "$good" >"$FILE"
    call jarrett "$VM_PATH" org.winvm1.Definition.Define
    assert_call_error org.winvm1.Error.InvalidArgument "another VM's name is refused"
    sed "s|<uuid>.*</uuid>|<uuid>11111111-2222-3333-4444-555555555555</uuid>|" "$good" >"$FILE"
    call jarrett "$VM_PATH" org.winvm1.Definition.Define
    assert_call_error org.winvm1.Error.InvalidArgument "another uuid (a second VM) is refused"
    sed "s|<vcpu\([^>]*\)>[0-9]*</vcpu>|<vcpu\1>many</vcpu>|" "$good" >"$FILE"
    assert_contains "$(cat "$FILE")" ">many</vcpu>" "(the test's edit took)"
    call jarrett "$VM_PATH" org.winvm1.Definition.Define
    assert_call_error org.winvm1.Error.InvalidArgument "XML libvirt's validation refuses is refused"
    assert_eq "$before" "$(definition | xml_norm)" "no refused file changed the definition"
    cp "$good" "$FILE"
}

test_virtiofs() {
    local before
    call jarrett "$VM_PATH" org.winvm1.Shares.SetVirtiofsdPath "'/tmp/evil'"
    assert_call_error org.winvm1.Error.InvalidArgument "a virtiofsd outside the allow-list is refused"
    assert_contains "$CALL_MSG" "$NIX_VIRTIOFSD" "the refusal lists the allowed binaries"
    call jarrett "$VM_PATH" org.winvm1.Shares.SetVirtiofsdPath "'/usr/libexec/virtiofsd'"
    assert_call_error org.winvm1.Error.NotFound "an allowed path that is not on the host is refused"

    # The seed's share, with the NixOS path (the seed's own Nix store path is not allowed).
    python3 - "$FILE" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
s = s.replace("<devices>", "<devices>\n    <filesystem type='mount' accessmode='passthrough'>"
              "<driver type='virtiofs'/>"
              "<binary path='/run/current-system/sw/bin/virtiofsd'/>"
              "<source dir='/home/jarrett/windows-shared'/><target dir='shared'/></filesystem>", 1)
s = s.replace("</currentMemory>", "</currentMemory>\n  <memoryBacking><source type='memfd'/><access mode='shared'/></memoryBacking>", 1)
open(p, "w").write(s)
PY
    ctl jarrett define
    assert_ctl 0 "the guest gets a virtiofs share from its file"
    call mallory "$VM_PATH" org.winvm1.Shares.GetShares
    assert_call_ok "mallory may list the shares"
    assert_contains "$CALL_OUT" "'/home/jarrett/windows-shared', 'shared'" "GetShares lists the folder and tag"
    assert_contains "$CALL_OUT" "], true)" "shared memory backing is reported"

    # Debian's path, installed on the stand-in host now.
    mkdir -p "$R/usr/libexec"
    printf '#!/bin/sh\nexit 0\n' >"$R/usr/libexec/virtiofsd"
    chmod 0755 "$R/usr/libexec/virtiofsd"
    before=$(definition | xml_norm)
    call mallory "$VM_PATH" org.winvm1.Shares.SetVirtiofsdPath "'/usr/libexec/virtiofsd'"
    assert_call_error org.freedesktop.DBus.Error.AccessDenied "mallory is refused SetVirtiofsdPath"
    assert_eq "$before" "$(definition | xml_norm)" "mallory's SetVirtiofsdPath changed nothing"
    ctl jarrett shares --set-virtiofsd /usr/libexec/virtiofsd
    assert_ctl 0 "winvmctl shares --set-virtiofsd to the allowed Debian path"
    assert_contains "$(definition)" "<binary path='/usr/libexec/virtiofsd'" "libvirt's definition uses it"
    call jarrett "$VM_PATH" org.winvm1.Definition.UndoChange
    assert_call_ok "undo the virtiofsd change"
    assert_eq "$before" "$(definition | xml_norm)" "the undo restores the NixOS path"
}

# A definition file is a user's, a definition as strong as root: what it may bring in.
test_define_guard() {
    local good=$WINVM_SANDBOX/guard-good.xml before edit
    ctl jarrett export
    cp "$FILE" "$good"
    before=$(definition | xml_norm)
    local -a edits=(
        "s|<binary path='[^']*'|<binary path='/home/jarrett/evil'|"
        "s|<devices>|<devices><disk type='block' device='disk'><source dev='/dev/sda'/><target dev='vdz' bus='virtio'/></disk>|"
        "s|<source dir='/home/jarrett/windows-shared'/>|<source dir='/root'/>|"
        "s|</devices>|</devices><qemu:commandline xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'><qemu:arg value='-S'/></qemu:commandline>|"
    )
    for edit in "${edits[@]}"; do
        sed "$edit" "$good" >"$FILE"
        call jarrett "$VM_PATH" org.winvm1.Definition.Define
        assert_call_error org.freedesktop.DBus.Error.AccessDenied "Define refuses a file that brings in a host path ($edit)"
        assert_contains "$CALL_MSG" "org.winvm1.vm.define-unrestricted" "the refusal names the action that admits it"
    done
    assert_eq "$before" "$(definition | xml_norm)" "no refused file changed the definition"
    cp "$good" "$FILE"

    # The diff shows the file's text: only to who may define.
    call mallory "$VM_PATH" org.winvm1.Definition.DefinitionDrift true
    assert_call_error org.freedesktop.DBus.Error.AccessDenied "mallory is refused the diff"
    call mallory "$VM_PATH" org.winvm1.Definition.DefinitionDrift false
    assert_call_ok "mallory may ask whether it drifted"
}

# Snapshots own the disks: an undo keeps the disk a snapshot moved since, and a file from
# before the snapshot is refused.
test_undo_after_snapshot() {
    local disk_before disk_after
    ctl jarrett export
    disk_before=$(current_disk)
    assert_contains "$(definition)" "0x256c" "(the tablet is in the definition, from the undone detach)"
    ctl jarrett usb detach "$TABLET"
    assert_ctl 0 "detach the tablet (a change to undo)"
    snap_create jarrett after-detach
    assert_call_ok "a snapshot moves the disk to an overlay"
    disk_after=$(current_disk)
    [[ $disk_after != "$disk_before" ]] && ok "the disk moved to $disk_after" || fail "the snapshot moved the disk"
    call jarrett "$VM_PATH" org.winvm1.Definition.Define
    assert_call_error org.winvm1.Error.InvalidArgument "a file from before the snapshot is refused"
    assert_contains "$CALL_MSG" "has snapshots" "the refusal names the snapshots"
    call jarrett "$VM_PATH" org.winvm1.Definition.UndoChange
    assert_call_ok "undo the detach after the snapshot"
    assert_eq "$disk_after" "$(current_disk)" "the undo keeps the snapshot's overlay as the disk"
    assert_contains "$(definition)" "0x256c" "and brings the tablet back"
    assert_img_check "$disk_after" "qemu-img check of the overlay"
}

test_usb() {
    local before
    before=$(definition | xml_norm)
    call jarrett "$VM_PATH" org.winvm1.Usb.Attach "'$SPACEMOUSE'" 0
    assert_call_error org.winvm1.Error.NotFound "attaching an unplugged device is a clear error"
    assert_contains "$CALL_MSG" "not plugged into this host" "the error says it is not plugged in"
    call jarrett "$VM_PATH" org.winvm1.Usb.Attach "'1234:5678'" 0
    assert_call_error org.winvm1.Error.NotConfigured "an unconfigured id is refused"
    call jarrett "$VM_PATH" org.winvm1.Usb.Attach "'tablet'" 0
    assert_call_error org.winvm1.Error.InvalidArgument "a malformed id is refused"
    call jarrett "$VM_PATH" org.winvm1.Usb.Attach "'$TABLET'" 8
    assert_call_error org.winvm1.Error.InvalidArgument "unknown flags are refused"
    call mallory "$VM_PATH" org.winvm1.Usb.Attach "'$TABLET'" 0
    assert_call_error org.freedesktop.DBus.Error.AccessDenied "mallory is refused Attach"
    assert_eq "$before" "$(definition | xml_norm)" "refused attaches changed nothing"

    ctl jarrett usb attach "$TABLET"
    assert_ctl 0 "winvmctl usb attach the plugged-in tablet (guest off: the definition)"
    # libvirt's own parse of the definition now has exactly that device.
    local hostdev
    hostdev=$(definition | python3 -c '
import sys, xml.etree.ElementTree as E
d = E.fromstring(sys.stdin.read())
for h in d.findall("devices/hostdev"):
    s = h.find("source")
    print(h.get("mode"), h.get("type"), h.get("managed"), s.get("startupPolicy"),
          s.find("vendor").get("id"), s.find("product").get("id"))')
    assert_eq "subsystem usb yes optional 0x256c 0x006d" "$hostdev" "libvirt parsed the <hostdev> for 256c:006d"
    ctl jarrett usb list --json
    local rows
    rows=$(python3 -c '
import json, sys
for r in json.load(sys.stdin):
    print(r["id"], r["name"], r["plugged_in"], r["attached"], r["in_definition"])' <<<"$CTL_OUT")
    assert_contains "$rows" "$TABLET HUION Kamvas 16 True False True" "usb list: plugged in, in the definition, not live"
    assert_contains "$rows" "$SPACEMOUSE  False False False" "usb list: the SpaceMouse is not plugged in"
    ctl jarrett usb list
    assert_contains "$CTL_OUT" "HUION Kamvas 16" "winvmctl usb list names the device"


    call mallory "$VM_PATH" org.winvm1.Usb.Detach "'$TABLET'" 0
    assert_call_error org.freedesktop.DBus.Error.AccessDenied "mallory is refused Detach"
    ctl jarrett usb detach "$TABLET"
    assert_ctl 0 "winvmctl usb detach"
    assert_eq "$before" "$(definition | xml_norm)" "detach leaves the definition as before the attach"
    call jarrett "$VM_PATH" org.winvm1.Usb.Detach "'$TABLET'" 0
    assert_call_error org.winvm1.Error.NotFound "detaching what is not attached is a clear error"
    call jarrett "$VM_PATH" org.winvm1.Definition.UndoChange
    assert_call_ok "undo the detach"
    assert_contains "$(definition)" "0x256c" "the undo brings the tablet back"
}

test_mallory_undo() {
    local before
    before=$(definition | xml_norm)
    call mallory "$VM_PATH" org.winvm1.Definition.UndoChange
    assert_call_error org.freedesktop.DBus.Error.AccessDenied "mallory is refused UndoChange"
    assert_eq "$before" "$(definition | xml_norm)" "mallory's undo changed nothing"
    call mallory "$VM_PATH" org.winvm1.Definition.GetHistory
    assert_call_ok "mallory may read the history"
}

setup
# libvirt leaves graphics passwords out of a definition unless asked for them, so an exported
# file has none: defining the VM from it, or reverting a snapshot (which defines the VM
# again), must keep the password, not drop it.
test_graphics_passwords() {
    local f=$WINVM_SANDBOX/with-vnc.xml
    secure() { virsh -c "$SB_URI" dumpxml --inactive --security-info "$GUEST"; }
    secure | sed "s|</devices>|  <graphics type='vnc' port='-1' autoport='yes' passwd='s3cr3tpw'/>\n  </devices>|" >"$f"
    if virsh -q -c "$SB_URI" define "$f" >/dev/null 2>&1 && [[ $(secure) == *"passwd='s3cr3tpw'"* ]]; then
        ok "(the guest has a VNC password)"
    else
        fail "(the guest has a VNC password)" "$(secure | grep graphics)"
        return
    fi
    ctl jarrett export
    assert_ctl 0 "winvmctl export with a VNC password"
    assert_not_contains "$(cat "$FILE")" "s3cr3tpw" "the exported file has no password"
    python3 - "$FILE" <<'PY'
import re, sys
p = sys.argv[1]
s = open(p).read()
if "<description>" in s:
    s = re.sub(r"<description>[^<]*</description>", "<description>password kept</description>", s, count=1)
else:
    s = s.replace("</name>", "</name>\n  <description>password kept</description>", 1)
open(p, "w").write(s)
PY
    ctl jarrett define
    assert_ctl 0 "winvmctl define from the file without the password"
    assert_contains "$(definition)" "password kept" "the file's edit is defined"
    assert_contains "$(secure)" "passwd='s3cr3tpw'" "and the VNC password is kept"

    snap_revert jarrett after-detach 2
    assert_call_ok "revert to a snapshot (discarding the current state)"
    assert_contains "$(secure)" "passwd='s3cr3tpw'" "the VNC password survives the revert"
}

test_topology
test_check_seed_like_pinning
test_apply_and_undo_pinning
test_export_drift_define
test_virtiofs
test_define_guard
test_usb
test_mallory_undo
test_undo_after_snapshot
test_graphics_passwords
summary
