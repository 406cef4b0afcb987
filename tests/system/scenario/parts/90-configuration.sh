# shellcheck shell=bash
# The configuration methods under the unit: CPU pinning, the virtiofsd of a share, and
# Export/Define/Undo with the definition file in /etc/winvm/vms (the drop-in's folder).

check "cpu plan --p 1 --host-p 1 --apply" wctl cpu plan --p 1 --host-p 1 --apply
check_output "the definition has the pinning" '<vcpupin' virsh dumpxml --inactive "$VM"

# The administrator adds the seed's share, with the seed's hard-coded virtiofsd path.
mkdir -p /home/jarrett/windows-shared && chown jarrett: /home/jarrett/windows-shared
virsh dumpxml --inactive "$VM" | python3 "$here/add-share.py" >"$STATE/with-share.xml"
check "the administrator adds a virtiofs share (virsh define)" virsh define "$STATE/with-share.xml"
check_output "winvmctl shares lists it" 'windows-shared' wctl shares
check "shares --set-virtiofsd /usr/lib/qemu/virtiofsd" wctl shares --set-virtiofsd /usr/lib/qemu/virtiofsd
check_output "the definition names that virtiofsd" "<binary path='/usr/lib/qemu/virtiofsd'" virsh dumpxml --inactive "$VM"
check "the guest starts with the share" wctl start
check_output "libvirt runs that virtiofsd for it (the seed's pgrep -a virtiofsd)" '/usr/lib/qemu/virtiofsd' pgrep -a virtiofsd
check "force-stop" wctl force-stop

check "export writes the definition file" wctl export
check "the file is there" test -s "/etc/winvm/vms/$VM.xml"
sed -i "s|<memory unit='KiB'>131072</memory>|<memory unit='KiB'>196608</memory>|; s|<currentMemory unit='KiB'>131072</currentMemory>|<currentMemory unit='KiB'>196608</currentMemory>|" \
    "/etc/winvm/vms/$VM.xml"
check "define from the edited file" wctl define
check_output "libvirt has the new memory size" "<memory unit='KiB'>196608</memory>" virsh dumpxml --inactive "$VM"
check "undo" wctl undo
check_output "libvirt has the old memory size again" "<memory unit='KiB'>131072</memory>" virsh dumpxml --inactive "$VM"
wctl doctor >"$STATE/doctor.txt" 2>&1
check_output "the doctor runs every check" 'kvmfr' cat "$STATE/doctor.txt"
