# shellcheck shell=bash disable=SC2154  # here: run-scenario sets it
# USB auto-attach from a real udev event: a USB gadget with the seed's tablet ids appears on
# dummy_hcd while the guest runs; udev starts winvm-usb-attach@256c:006d.service, which
# attaches it to the running guest.

GADGET=/sys/kernel/config/usb_gadget/tablet
unit='winvm-usb-attach@256c:006d.service'
plug_tablet() {
    modprobe dummy_hcd && modprobe libcomposite || return 1
    mountpoint -q /sys/kernel/config || mount -t configfs none /sys/kernel/config
    mkdir -p $GADGET/strings/0x409 $GADGET/configs/c.1/strings/0x409 || return 1
    echo 0x256c >$GADGET/idVendor
    echo 0x006d >$GADGET/idProduct
    echo winvm-test >$GADGET/strings/0x409/manufacturer
    echo "tablet stand-in" >$GADGET/strings/0x409/product
    echo "tablet" >$GADGET/configs/c.1/strings/0x409/configuration
    [[ -d $GADGET/functions/acm.usb0 ]] || mkdir $GADGET/functions/acm.usb0 || return 1
    [[ -e $GADGET/configs/c.1/acm.usb0 ]] || ln -s $GADGET/functions/acm.usb0 $GADGET/configs/c.1/
    ls /sys/class/udc | head -n1 >$GADGET/UDC
}
attached_live() { local xml; xml=$(virsh dumpxml "$VM") && grep -q "vendor id='0x256c'" <<<"$xml"; }
tablet_gone() { ! lsusb -d 256c:006d >/dev/null; }

check "start" wctl start
check "a USB gadget 256c:006d appears on dummy_hcd" plug_tablet
check "lsusb sees it" wait_for 10 lsusb -d 256c:006d
check "udev started $unit" wait_for 30 unit_started "$unit"
if wait_for 30 attached_live; then ok "the running guest has it attached (virsh dumpxml)"; else
    not_ok "the running guest has it attached (virsh dumpxml)" "$(journalctl -q -u "$unit" -o cat | tail -n 5)"; fi
check "the unit ran to its end" wait_for 30 unit_is "$unit" inactive
check_output "and succeeded" '^0$' unit_prop "$unit" ExecMainStatus
echo "" >$GADGET/UDC
check "the tablet is unplugged" wait_for 10 tablet_gone
udevadm settle
check "the guest still runs" vm_is running
check "winvmctl usb still answers" wctl usb
check "force-stop" wctl force-stop
