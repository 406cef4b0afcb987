#!/usr/bin/env bash
# What the desktop user may change in the VM's definition without an administrator, as
# jarrett (in the winvm group, no password, no polkit agent) through Define and UndoChange:
#   - the issue's three hostile definitions (a raw data disk read as qcow2, an ACPI table
#     from /etc/shadow, <seclabel type='none'/>) and more edits reaching every kind of host
#     reference in libvirt's domain schema are refused, naming the element and
#     org.winvm1.vm.define-unrestricted, and leave `virsh dumpxml --inactive` as it was;
#   - root (polkit admits an administrator) makes each of the same changes through Define;
#   - every item of the allowlist is accepted, libvirt keeps it, and the guest starts with
#     them;
#   - paths are resolved without following links and checked for their owner: a new image
#     behind a link, in a folder jarrett may write, or with a backing file in its header, and
#     a share behind a link or of a folder jarrett does not own, are refused;
#   - an undo back to a definition only an administrator admitted needs one again.
set -uo pipefail
# shellcheck source=tests/sandbox/sandbox-lib.sh
. "$WINVM_SRC/tests/sandbox/sandbox-lib.sh"
# shellcheck source=tests/integration/lib.sh
. "$WINVM_SRC/tests/integration/lib.sh"

DEFS=$WINVM_SANDBOX/config-repo
FILE=$DEFS/$GUEST.xml
GOOD=$WINVM_SANDBOX/allowlist-good.xml
IMAGES=$WINVM_IMAGES
DATA=$IMAGES/data.raw
VIRTIOFSD=/usr/lib/qemu/virtiofsd
ACTION=org.winvm1.vm.define-unrestricted
JHOME=$(getent passwd jarrett | cut -d: -f6)

definition() { virsh -c "$SB_URI" dumpxml --inactive "$GUEST"; }

setup() {
    # A raw data disk beside the system disk, as a person adds one: the issue's first example.
    qemu-img create -q -f raw "$DATA" 16M
    definition | python3 -c '
import sys
s = sys.stdin.read()
disk = ("<disk type=\"file\" device=\"disk\"><driver name=\"qemu\" type=\"raw\"/>"
        "<source file=\"%s\"/><target dev=\"vdb\" bus=\"virtio\"/></disk>" % sys.argv[1])
print(s.replace("</devices>", disk + "</devices>", 1))' "$DATA" >"$WINVM_SANDBOX/with-data.xml"
    virsh -q -c "$SB_URI" define "$WINVM_SANDBOX/with-data.xml" >/dev/null || fail "(the data disk is defined)"
    mkdir -p "$DEFS"
    cat >>"$WINVM_CONF" <<EOT
[Host]
DesktopUser=jarrett

[Storage]
Filesystems=images:$IMAGES

[Virtiofs]
AllowedBinaries=$VIRTIOFSD

[Definitions]
$GUEST=$FILE
EOT
    restart_winvmd
    ctl jarrett export
    assert_ctl 0 "(winvmctl export)"
    sed -i "s|<controller type='usb' index='0' model='none'/>|<controller type='usb' index='0' model='qemu-xhci'/>|" "$FILE"
    ctl jarrett define
    assert_ctl 0 "(a USB controller, for the USB items below)"
    ctl jarrett export
    cp "$FILE" "$GOOD"
}

# edited PYTHON: the good file with s edited by PYTHON (a statement on the string s), to $FILE.
edited() {
    python3 -c "
import sys
s = open(sys.argv[1]).read()
$1
open(sys.argv[2], 'w').write(s)" "$GOOD" "$FILE"
}

# Adds XML before </devices>, or (with a second argument "top") before </domain>.
add_device() { edited "s = s.replace('</devices>', '''$1''' + '</devices>', 1)"; }
add_top() { edited "s = s.replace('</domain>', '''$1''' + '</domain>', 1)"; }
# share_edit XML: a virtiofs share added, with the shared memory libvirt wants for it.
share_edit() {
    edited "s = s.replace('</currentMemory>', \"</currentMemory><memoryBacking><source type='memfd'/><access mode='shared'/></memoryBacking>\", 1).replace('</devices>', '''$1''' + '</devices>', 1)"
}

# hostile DESCRIPTION ELEMENT: $FILE holds a hostile edit. jarrett's Define is refused naming
# ELEMENT and the action, and changes nothing; root's Define (an administrator) goes through.
hostile() {
    local what=$1 element=$2 before
    before=$(definition)
    call jarrett "$VM_PATH" org.winvm1.Definition.Define
    assert_call_error org.freedesktop.DBus.Error.AccessDenied "jarrett is refused: $what"
    assert_contains "$CALL_MSG" "$element" "the refusal names $element"
    assert_contains "$CALL_MSG" "$ACTION" "the refusal names $ACTION"
    assert_eq "$before" "$(definition)" "the definition is unchanged after: $what"
    call root "$VM_PATH" org.winvm1.Definition.Define
    assert_call_ok "an administrator makes the same change: $what"
    if [[ $before != "$(definition)" ]]; then
        ok "libvirt has the administrator's change: $what"
    else
        fail "libvirt has the administrator's change: $what"
    fi
    # Back to where each edit starts, outside winvm.
    virsh -q -c "$SB_URI" define "$GOOD" >/dev/null
}

test_issue_examples() {
    edited "s = s.replace(\"<driver name='qemu' type='raw'/>\", \"<driver name='qemu' type='qcow2'/>\", 1)"
    assert_contains "$(cat "$FILE")" "type='qcow2'/>
      <source file='$DATA'" "(the data disk reads as qcow2 in the file)"
    hostile "a raw data disk defined as qcow2" "<disk><driver> type='qcow2'"
    edited "s = s.replace('</os>', \"<acpi><table type='slic'>/etc/shadow</table></acpi></os>\", 1)"
    hostile "an ACPI table from /etc/shadow" "<os><acpi>"
    add_top "<seclabel type='none'/>"
    hostile "no security label" "<seclabel>"
}

test_host_references() {
    edited "s = s.replace('</os>', '<kernel>/etc/shadow</kernel><initrd>/etc/gshadow</initrd></os>', 1)"
    hostile "a kernel and initrd from the host" "<os><kernel>"
    edited "s = s.replace('</os>', \"<loader readonly='yes' type='rom'>/etc/shadow</loader></os>\", 1)"
    hostile "a firmware loader" "<os><loader>"
    edited "s = s.replace('</os>', \"<loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader><nvram>/etc/shadow</nvram></os>\", 1)"
    hostile "UEFI variables in /etc/shadow" "<os><loader>"
    edited "s = s.replace('</os>', '<kernel>/etc/shadow</kernel><dtb>/etc/gshadow</dtb></os>', 1)"
    hostile "a device tree from the host" "<os><kernel>"
    # Another QEMU binary (the real one under another name, so that libvirt takes it from root).
    ln -sf /usr/bin/qemu-system-x86_64 "$WINVM_SANDBOX/other-qemu"
    edited "import re; s = re.sub(r'<emulator>[^<]*</emulator>', '<emulator>$WINVM_SANDBOX/other-qemu</emulator>', s, 1)"
    hostile "another emulator" "<emulator>='$WINVM_SANDBOX/other-qemu'"
    edited "s = s.replace(\"<source file='$DATA'/>\", \"<source file='/etc/shadow'/>\", 1)"
    hostile "a disk pointed at /etc/shadow" "<disk><source> file='/etc/shadow'"
    add_device "<disk type='block' device='disk'><driver name='qemu' type='raw'/><source dev='/dev/null'/><target dev='vdz' bus='virtio'/></disk>"
    hostile "a block device" "<disk>"
    add_device "<disk type='network' device='disk'><driver name='qemu' type='raw'/><source protocol='nbd' name='x'><host name='example.com' port='10809'/></source><target dev='vdy' bus='virtio'/></disk>"
    hostile "a network disk" "<disk>"
    add_device "<disk type='volume' device='disk'><driver name='qemu' type='raw'/><source pool='default' volume='v'/><target dev='vdx' bus='virtio'/></disk>"
    hostile "a storage volume" "<disk>"
    qemu-img create -q -f qcow2 "$IMAGES/overlay.qcow2" 16M
    add_device "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='$IMAGES/overlay.qcow2'/><backingStore type='file'><format type='raw'/><source file='/etc/shadow'/></backingStore><target dev='vdw' bus='virtio'/></disk>"
    hostile "a backing store" "<backingStore>"
    edited "s = s.replace(\"<source file='$DATA'/>\", \"<source file='$DATA'><seclabel model='dac' relabel='no'/></source>\", 1)"
    hostile "a disk without relabelling" "<disk><source>"
    add_device "<hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0000' bus='0x00' slot='0x1f' function='0x3'/></source></hostdev>"
    hostile "a PCI device" "<hostdev>"
    add_device "<hostdev mode='subsystem' type='scsi'><source><adapter name='scsi_host0'/><address bus='0' target='0' unit='0'/></source></hostdev>"
    hostile "a SCSI device" "<hostdev>"
    add_device "<hostdev mode='subsystem' type='mdev' model='vfio-pci'><source><address uuid='c2177883-f1bb-47f0-914d-32a22e3a8804'/></source></hostdev>"
    hostile "a mediated device" "<hostdev>"
    add_device "<hostdev mode='subsystem' type='usb'><source><vendor id='0x046d'/><product id='0xc52b'/></source></hostdev>"
    hostile "a USB device winvm.conf does not name" "not in [Usb] Devices"
    add_device "<serial type='file'><source path='/etc/shadow'/><target port='1'/></serial>"
    hostile "a serial port writing a host file" "<serial> type='file'"
    add_device "<console type='unix'><source mode='bind' path='/run/evil.sock'/><target type='virtio' port='1'/></console>"
    hostile "a console on a host socket" "<console> type='unix'"
    add_device "<channel type='unix'><source mode='bind' path='/etc/evil.sock'/><target type='virtio' name='org.qemu.guest_agent.0'/></channel>"
    hostile "a channel on a chosen socket" "path='/etc/evil.sock'"
    share_edit "<filesystem type='mount' accessmode='passthrough'><driver type='virtiofs'/><binary path='$VIRTIOFSD'/><source dir='/etc'/><target dir='etc'/></filesystem>"
    hostile "a share of /etc" "not a folder in the desktop user's home"
    share_edit "<filesystem type='mount' accessmode='passthrough'><driver type='virtiofs'/><binary path='/bin/sh'/><source dir='$JHOME'/><target dir='home'/></filesystem>"
    hostile "a virtiofsd that is not allowed" "AllowedBinaries"
    add_device "<interface type='ethernet'><script path='/tmp/evil.sh'/><model type='virtio'/></interface>"
    hostile "an interface running a script" "<interface> type='ethernet'"
    add_device "<interface type='bridge'><source bridge='br-admin'/><model type='virtio'/></interface>"
    hostile "an interface on a host bridge" "<interface> type='bridge'"
    add_device "<tpm model='tpm-tis'><backend type='passthrough'><device path='/dev/tpm0'/></backend></tpm>"
    hostile "the host's TPM" "<tpm><backend> type='passthrough'"
    add_device "<shmem name='evil'><model type='ivshmem-doorbell'/><server path='/tmp/evil.sock'/></shmem>"
    hostile "shared memory with a server socket" "<shmem>"
    add_device "<graphics type='vnc' socket='/tmp/vnc.sock'/>"
    hostile "graphics on a host socket" "socket='/tmp/vnc.sock'"
    add_device "<input type='evdev'><source dev='/dev/input/event0'/></input>"
    hostile "a host input device" "<input> type='evdev'"
    add_device "<input type='passthrough' bus='virtio'><source evdev='/dev/input/event0'/></input>"
    hostile "a host input device passed through" "<input> type='passthrough'"
    add_device "<smartcard mode='host'/>"
    hostile "the host's smartcard reader" "<smartcard>"
    add_device "<redirdev bus='usb' type='tcp'><source mode='connect' host='127.0.0.1' service='4000'/></redirdev>"
    hostile "USB redirected from a network socket" "<redirdev> type='tcp'"
    add_device "<lease><lockspace>winvm</lockspace><key>k</key><target path='/etc/shadow'/></lease>"
    hostile "a lease on a host file" "<lease>"
    add_device "<audio id='2' type='file' path='/etc/shadow'/>"
    hostile "guest audio written to a host file" "<audio> type='file'"
    add_device "<rng model='virtio'><backend model='random'>/dev/mem</backend></rng>"
    hostile "randomness from /dev/mem" "<rng><backend>='/dev/mem'"
    edited "s = s.replace('</currentMemory>', \"</currentMemory><memoryBacking><source type='file'/></memoryBacking>\", 1)"
    hostile "file-backed guest memory" "<memoryBacking><source> type='file'"
    add_top "<sysinfo type='fwcfg'><entry name='opt/com.example/x' file='/etc/shadow'/></sysinfo>"
    hostile "firmware config from a host file" "<sysinfo>"
    add_top "<blkiotune><device><path>/dev/null</path><weight>500</weight></device></blkiotune>"
    hostile "block I/O tuning of a host device" "<blkiotune>"
    edited "s = s.replace('<domain ', \"<domain xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0' \", 1).replace('</domain>', \"<qemu:commandline><qemu:arg value='-S'/></qemu:commandline></domain>\", 1)"
    hostile "raw QEMU arguments" "<qemu:commandline>"
    add_top "<seclabel type='static' model='dac' relabel='no'><label>+0:+0</label></seclabel>"
    hostile "QEMU run as root" "<seclabel>"
    edited "s = s.replace(\"<on_crash>destroy</on_crash>\", \"<on_crash>coredump-destroy</on_crash>\", 1)"
    hostile "guest memory dumped to a host file" "<on_crash>='coredump-destroy'"
}

# allowed DESCRIPTION NEEDLE: jarrett's Define of $FILE goes through and libvirt has NEEDLE.
allowed() {
    call jarrett "$VM_PATH" org.winvm1.Definition.Define
    assert_call_ok "jarrett may: $1"
    assert_contains "$(definition)" "$2" "libvirt keeps it: $1"
}

test_allowlist() {
    edited "
s = s.replace(\"<vcpu placement='static'>1</vcpu>\", \"<vcpu placement='static'>2</vcpu><cputune><vcpupin vcpu='0' cpuset='0'/><vcpupin vcpu='1' cpuset='1'/><emulatorpin cpuset='0-1'/></cputune>\", 1)
topology = \"<topology sockets='1' dies='1' cores='2' threads='1'/>\"
s = s.replace('</cpu>', topology + '</cpu>', 1) if '</cpu>' in s else s.replace('</features>', '</features><cpu>' + topology + '</cpu>', 1)
s = s.replace(\"<memory unit='KiB'>131072</memory>\", \"<memory unit='KiB'>196608</memory>\", 1)
s = s.replace(\"<currentMemory unit='KiB'>131072</currentMemory>\", \"<currentMemory unit='KiB'>196608</currentMemory>\", 1)
s = s.replace('</name>', '</name><title>Games</title><description>edited by jarrett</description>', 1)"
    allowed "vCPUs, pinning, topology, memory, title and description" "<vcpupin vcpu='1' cpuset='1'/>"
    assert_contains "$(definition)" "<topology sockets='1' dies='1' cores='2' threads='1'/>" "and the topology"
    assert_contains "$(definition)" "196608" "and the memory"
    cp "$FILE" "$GOOD"

    edited "s = s.replace('</features>', \"<hyperv mode='custom'><relaxed state='on'/><vendor_id state='on' value='winvmvendor'/></hyperv><kvm><hidden state='on'/></kvm></features>\", 1)"
    allowed "Hyper-V, vendor_id and <kvm><hidden>" "<hidden state='on'/>"
    virsh -q -c "$SB_URI" define "$GOOD" >/dev/null

    qemu-img create -q -f qcow2 "$IMAGES/new.qcow2" 16M
    edited "
s = s.replace(\"<memballoon model='none'/>\", \"<memballoon model='virtio'><stats period='5'/></memballoon>\", 1)
s = s.replace('</devices>', '''<input type='tablet' bus='usb'/><sound model='ich9'/>
<graphics type='vnc' port='-1' autoport='yes'><listen type='address' address='127.0.0.1'/></graphics>
<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='$IMAGES/new.qcow2'/><target dev='vdc' bus='virtio'/></disk>
<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>
</devices>''', 1)
s = s.replace(\"<model type='none'/>\", \"<model type='vga'/>\", 1)"
    allowed "memballoon, input, sound, video, VNC, rng, a new qcow2 image" "$IMAGES/new.qcow2"
    assert_contains "$(definition)" "<memballoon model='virtio'>" "and the memballoon"
    assert_contains "$(definition)" "<model type='vga'" "and the video"
    # They work: the guest starts with all of them.
    ctl jarrett start
    assert_ctl 0 "the guest starts with every device the allowlist admitted"
    assert_libvirt running "it runs"
    guest_off

    # A configured USB device (libvirt looks for it in /sys when the guest starts, which the
    # sandbox does not have: defined only).
    edited "s = s.replace('</devices>', \"<hostdev mode='subsystem' type='usb' managed='yes'><source startupPolicy='optional'><vendor id='0x256c'/><product id='0x006d'/></source></hostdev></devices>\", 1)"
    allowed "a USB device of [Usb] Devices" "0x256c"

    # A share of a folder jarrett owns, with the allowed virtiofsd.
    mkdir -p "$JHOME/share"
    chown jarrett: "$JHOME/share"
    edited "
s = s.replace('</currentMemory>', \"</currentMemory><memoryBacking><source type='memfd'/><access mode='shared'/></memoryBacking>\", 1)
s = s.replace('</devices>', \"<filesystem type='mount' accessmode='passthrough'><driver type='virtiofs'/><binary path='$VIRTIOFSD'/><source dir='$JHOME/share'/><target dir='share'/></filesystem></devices>\", 1)"
    allowed "a virtiofs share of jarrett's folder" "<source dir='$JHOME/share'/>"

    # An undo of an admitted change is admitted.
    call jarrett "$VM_PATH" org.winvm1.Definition.UndoChange
    assert_call_ok "jarrett may undo the share"
    assert_not_contains "$(definition)" "virtiofs" "the undo took it back"
    virsh -q -c "$SB_URI" define "$GOOD" >/dev/null
}

# Paths are resolved, not compared as text.
test_paths() {
    local before
    qemu-img create -q -f qcow2 "$IMAGES/real.qcow2" 16M
    ln -s "$IMAGES/real.qcow2" "$IMAGES/link.qcow2"
    add_device "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='$IMAGES/link.qcow2'/><target dev='vdc' bus='virtio'/></disk>"
    hostile "an image behind a symbolic link" "symbolic link"
    mkdir -p "$IMAGES/jarrett"
    chown jarrett: "$IMAGES/jarrett"
    qemu-img create -q -f qcow2 "$IMAGES/jarrett/img.qcow2" 16M
    add_device "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='$IMAGES/jarrett/img.qcow2'/><target dev='vdc' bus='virtio'/></disk>"
    hostile "an image in a folder jarrett may write" "may be written by others"
    qemu-img create -q -f qcow2 -F raw -b /etc/shadow "$IMAGES/backed.qcow2" 16M
    add_device "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='$IMAGES/backed.qcow2'/><target dev='vdc' bus='virtio'/></disk>"
    hostile "an image whose header names a backing file" "has a backing file"
    add_device "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='$DATA'/><target dev='vdc' bus='virtio'/></disk>"
    hostile "the raw data disk again, as qcow2" "already uses"
    add_device "<disk type='file' device='disk'><source file='$IMAGES/real.qcow2'/><target dev='vdc' bus='virtio'/></disk>"
    hostile "an image without its format" "format"
    # Shares: behind a link, or a folder jarrett does not own.
    mkdir -p "$JHOME/real-share" "$JHOME/roots"
    chown jarrett: "$JHOME/real-share"
    ln -sfn "$JHOME/real-share" "$JHOME/link-share"
    share_edit "<filesystem type='mount' accessmode='passthrough'><driver type='virtiofs'/><binary path='$VIRTIOFSD'/><source dir='$JHOME/link-share'/><target dir='s'/></filesystem>"
    hostile "a share behind a symbolic link" "symbolic link"
    share_edit "<filesystem type='mount' accessmode='passthrough'><driver type='virtiofs'/><binary path='$VIRTIOFSD'/><source dir='$JHOME/roots'/><target dir='s'/></filesystem>"
    hostile "a share of a folder jarrett does not own" "owned by uid 0"
    before=$(definition)
    assert_eq "$before" "$(definition)" "(nothing left over)"
}

# A kept version only an administrator admitted: an undo back to it needs one again.
test_undo_needs_admin() {
    local before
    add_device "<serial type='file'><source path='/tmp/serial.log'/><target port='1'/></serial>"
    call root "$VM_PATH" org.winvm1.Definition.Define
    assert_call_ok "an administrator adds a serial port writing a host file"
    cp "$GOOD" "$FILE"
    call jarrett "$VM_PATH" org.winvm1.Definition.Define
    assert_call_ok "jarrett takes it out again (taking a device out is admitted)"
    before=$(definition)
    call jarrett "$VM_PATH" org.winvm1.Definition.UndoChange
    assert_call_error org.freedesktop.DBus.Error.AccessDenied "jarrett's undo back to the administrator's definition is refused"
    assert_contains "$CALL_MSG" "<serial>" "the refusal names the element"
    assert_eq "$before" "$(definition)" "the refused undo changed nothing"
    call root "$VM_PATH" org.winvm1.Definition.UndoChange
    assert_call_ok "an administrator's undo goes through"
    assert_contains "$(definition)" "/tmp/serial.log" "and brings the serial port back"
    virsh -q -c "$SB_URI" define "$GOOD" >/dev/null
}

setup
test_issue_examples
test_host_references
test_allowlist
test_paths
test_undo_needs_admin
summary
