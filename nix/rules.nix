# The udev rules the module installs, in the words winvmd uses (kvmfr_udev_rule in
# service/lib/kvmfr-checks.c, systemd/90-winvm-usb.rules), so its checks find what they expect.
{ lib }:
{
  # /dev/kvmfrN's owner (or none), group and mode.
  kvmfr = { owner, group, mode }:
    ''SUBSYSTEM=="kvmfr", ${lib.optionalString (owner != null) ''OWNER="${owner}", ''}GROUP="${group}", MODE="${mode}"'' + "\n";

  # The hotplug rule, the package's (systemd/90-winvm-usb.rules): it names no ids, since
  # winvm-usb-attach@.service does nothing for a device not in [Usb] Devices.
  usb = ''ACTION=="add", SUBSYSTEM=="usb", ENV{DEVTYPE}=="usb_device", ATTR{bDeviceClass}!="09", ATTR{idVendor}=="?*", ATTR{idProduct}=="?*", TAG+="systemd", ENV{SYSTEMD_WANTS}+="winvm-usb-attach@$attr{idVendor}:$attr{idProduct}.service"'' + "\n";
}
