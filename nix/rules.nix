# The udev rules the module installs, in the words winvmd uses (kvmfr_udev_rule in
# service/kvmfr-checks.c, systemd/90-winvm-usb.rules), so its checks find what they expect.
{ lib }:
{
  # /dev/kvmfrN's owner (or none), group and mode.
  kvmfr = { owner, group, mode }:
    ''SUBSYSTEM=="kvmfr", ${lib.optionalString (owner != null) ''OWNER="${owner}", ''}GROUP="${group}", MODE="${mode}"'' + "\n";

  # One line per vendor:product: plugged in, the device is attached to the running guest.
  usb = ids: lib.concatMapStrings (id:
    let
      parts = lib.splitString ":" id;
      vendor = lib.elemAt parts 0;
      product = lib.elemAt parts 1;
    in
    ''ACTION=="add", SUBSYSTEM=="usb", ENV{DEVTYPE}=="usb_device", ATTR{idVendor}=="${vendor}", ATTR{idProduct}=="${product}", TAG+="systemd", ENV{SYSTEMD_WANTS}+="winvm-usb-attach@${id}.service"'' + "\n") ids;
}
