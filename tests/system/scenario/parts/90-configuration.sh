# shellcheck shell=bash disable=SC2154  # here: run-scenario sets it
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

# A change outside the allowlist (a serial port writing a host file): refused without a
# password, naming the element and the action; with an administrator's password typed into
# the agent that winvmctl starts at a terminal, defined; then undone.
virsh dumpxml --inactive "$VM" >"$STATE/before-serial.xml"
wctl export >/dev/null
sed -i "s|</devices>|<serial type='file'><source path='/var/log/winvm-test-serial.log'/><target port='1'/></serial></devices>|" \
    "/etc/winvm/vms/$VM.xml"
check_refused "define of a serial file is refused without a password, naming the element and action" \
    "serial.*org.winvm1.vm.define-unrestricted|org.winvm1.vm.define-unrestricted.*serial" wctl define
check "libvirt's definition is unchanged" bash -c "virsh dumpxml --inactive $VM | cmp -s - $(printf '%q' "$STATE/before-serial.xml")"
check "with an administrator's password at the agent, jarrett defines it" \
    su -l jarrett -c "$(printf '%q' "$here/answer-password.py") winvm-admin winvmctl define"
check_output "libvirt has the serial file" 'winvm-test-serial.log' virsh dumpxml --inactive "$VM"
check "undo, without a password (removing a device is on the allowlist)" wctl undo
check "the serial file is gone from the definition" bash -c "! virsh dumpxml --inactive $VM | grep -q winvm-test-serial.log"

wctl doctor >"$STATE/doctor.txt" 2>&1
check_output "the doctor runs every check" 'kvmfr' cat "$STATE/doctor.txt"
