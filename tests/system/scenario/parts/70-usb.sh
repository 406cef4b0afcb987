# shellcheck shell=bash disable=SC2154  # here: run-scenario sets it
# USB auto-attach from a real udev event: a USB gadget with the seed's tablet ids appears on
# dummy_hcd while the guest runs; udev starts winvm-usb-attach@256c:006d.service, which
# attaches it to the running guest. The rule names no ids: a gadget with an id winvm.conf does
# not name starts the unit too, which does nothing; once the administrator adds that id to
# [Usb] Devices (no rules file edited), plugging it in attaches it.

GADGET=/sys/kernel/config/usb_gadget/tablet
unit='winvm-usb-attach@256c:006d.service'
other=1209:0001
other_unit="winvm-usb-attach@$other.service"
# plug_usb VENDOR PRODUCT: the gadget appears on dummy_hcd with these ids (hex, 0x...).
plug_usb() {
    modprobe dummy_hcd && modprobe libcomposite || return 1
    mountpoint -q /sys/kernel/config || mount -t configfs none /sys/kernel/config
    mkdir -p $GADGET/strings/0x409 $GADGET/configs/c.1/strings/0x409 || return 1
    echo "$1" >$GADGET/idVendor
    echo "$2" >$GADGET/idProduct
    echo winvm-test >$GADGET/strings/0x409/manufacturer
    echo "tablet stand-in" >$GADGET/strings/0x409/product
    echo "tablet" >$GADGET/configs/c.1/strings/0x409/configuration
    [[ -d $GADGET/functions/acm.usb0 ]] || mkdir $GADGET/functions/acm.usb0 || return 1
    [[ -e $GADGET/configs/c.1/acm.usb0 ]] || ln -s $GADGET/functions/acm.usb0 $GADGET/configs/c.1/
    ls /sys/class/udc | head -n1 >$GADGET/UDC
}
plug_tablet() { plug_usb 0x256c 0x006d; }
unplug() { echo "" >$GADGET/UDC; }
attached_live() { local xml; xml=$(virsh dumpxml "$VM") && grep -q "vendor id='0x${1:-256c}'" <<<"$xml"; }
not_attached_live() { ! attached_live "$1"; }
tablet_gone() { ! lsusb -d 256c:006d >/dev/null; }
other_gone() { ! lsusb -d "$other" >/dev/null; }
# ran_ok UNIT N: the unit has run to a successful end at least N times this boot, as its journal says
# (systemd unloads a finished instance at once, and with it the properties systemctl shows).
ran_ok() { (($(journalctl -b -q -u "$1" -o cat | grep -c 'Deactivated successfully') >= $2)); }

check "start" wctl start
check "a USB gadget 256c:006d appears on dummy_hcd" plug_tablet
check "lsusb sees it" wait_for 10 lsusb -d 256c:006d
check "udev started $unit" wait_for 30 unit_started "$unit"
if wait_for 30 attached_live; then ok "the running guest has it attached (virsh dumpxml)"; else
    not_ok "the running guest has it attached (virsh dumpxml)" "$(journalctl -q -u "$unit" -o cat | tail -n 5)"; fi
check "the unit ran to a successful end" wait_for 30 ran_ok "$unit" 1
unplug
check "the tablet is unplugged" wait_for 10 tablet_gone
udevadm settle

# An id winvm.conf does not name: the unit starts all the same and does nothing.
check "a gadget with an id not in [Usb] Devices ($other) appears" plug_usb 0x1209 0x0001
check "lsusb sees it" wait_for 10 lsusb -d "$other"
check "udev started $other_unit (the rule names no ids), which succeeded" wait_for 30 ran_ok "$other_unit" 1
check_output "saying the id is not configured, nothing to do" 'not in \[Usb\] Devices.*nothing to do' \
    journalctl -b -q -u "$other_unit" -o cat
check "the guest did not get it" not_attached_live 1209
unplug
check "the gadget is unplugged" wait_for 10 other_gone
udevadm settle

# The administrator adds it to [Usb] Devices; winvmd reads winvm.conf when it starts.
check "winvm's udev rule names no id (nor $other)" bash -c "! grep -Eqs 'idVendor}==\"[0-9a-f]{4}|1209' /usr/lib/udev/rules.d/90-winvm-usb.rules /lib/udev/rules.d/90-winvm-usb.rules /etc/udev/rules.d/90-winvm-usb.rules"
sed -i "s/^Devices=256c:006d 256f:c635\$/Devices=256c:006d 256f:c635 $other/" /etc/winvm/winvm.conf
check_output "winvm.conf names it now" "^Devices=.*$other" cat /etc/winvm/winvm.conf
systemctl stop winvmd
check_output "winvmd, started again, lists it" "$other" wctl usb
check "plugged in again" plug_usb 0x1209 0x0001
check "udev started $other_unit again, which succeeded" wait_for 60 ran_ok "$other_unit" 2
if wait_for 30 attached_live 1209; then ok "now the running guest has $other attached (no rules file edited)"; else
    not_ok "now the running guest has $other attached (no rules file edited)" \
        "$(journalctl -b -q -u "$other_unit" -o cat | tail -n 5)"; fi
unplug
check "the gadget is unplugged" wait_for 10 other_gone
udevadm settle
# Back to the seed's devices for the parts that follow.
sed -i "s/^Devices=256c:006d 256f:c635 $other\$/Devices=256c:006d 256f:c635/" /etc/winvm/winvm.conf
systemctl stop winvmd

check "the guest still runs" vm_is running
check "winvmctl usb still answers" wctl usb
check "force-stop" wctl force-stop
