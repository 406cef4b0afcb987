# shellcheck shell=bash disable=SC2154  # here: run-scenario sets it
# The machine's administrator sets it up, once, as the seed describes and the README says:
# the desktop user in winvm's group, the VM storage on btrfs, winvm.conf, the definitions
# folder with its drop-in, libvirt's qemu.conf for the kvmfr device, and the VM itself.

# The package's sysusers.d file made the group at boot; nobody ran groupadd.
check "the winvm group exists after installing (sysusers.d)" getent group winvm

useradd -m -s /bin/bash jarrett && usermod -aG winvm jarrett
useradd -m -s /bin/bash mallory
# Their user managers stay up between the scenario's logins.
loginctl enable-linger jarrett mallory

mkfs.btrfs -q /dev/vdb
mkdir -p "$IMAGES"
echo "/dev/vdb $IMAGES btrfs noatime 0 0" >>/etc/fstab
systemctl daemon-reload
mount "$IMAGES"
check "the VM storage is a mounted btrfs" test "$(findmnt -no FSTYPE "$IMAGES")" = btrfs

mkdir -p /etc/winvm/vms
cat >/etc/winvm/winvm.conf <<CONF
[Service]
VMs=$VM
IdleTimeoutSec=$((8 * SLOW))
ShutdownTimeoutSec=$((10 * SLOW))

[Storage]
Filesystems=images:$IMAGES

[Host]
DesktopUser=jarrett

[Kvmfr]
Resolution=3840x2160
Owner=jarrett
Group=kvm
Mode=0660

[Vfio]
# The e1000e the test machine has in place of the seed's GPU.
Devices=8086:10d3

[Usb]
Devices=256c:006d 256f:c635

[Virtiofs]
AllowedBinaries=/usr/lib/qemu/virtiofsd

[Definitions]
$VM=/etc/winvm/vms/$VM.xml
CONF
# The README: a definitions folder under /etc needs ReadWritePaths= in a drop-in.
mkdir -p /etc/systemd/system/winvmd.service.d
printf '[Service]\nReadWritePaths=/etc/winvm/vms\n' >/etc/systemd/system/winvmd.service.d/definitions.conf
systemctl daemon-reload

# libvirt lets QEMU open the kvmfr device (the doctor's kvmfr.cgroup-acl remedy).
cat >>/etc/libvirt/qemu.conf <<'QCONF'
cgroup_device_acl = [
    "/dev/null", "/dev/full", "/dev/zero",
    "/dev/random", "/dev/urandom",
    "/dev/ptmx", "/dev/kvm",
    "/dev/userfaultfd", "/dev/kvmfr0"
]
QCONF
systemctl restart libvirtd

qemu-img create -q -f qcow2 "$IMAGES/windows11.qcow2" 1G
chown libvirt-qemu:libvirt-qemu "$IMAGES/windows11.qcow2"
check "the administrator defines the VM with virsh (the seed's way)" virsh define "$here/windows11.xml"
