# winvm.conf as NixOS options: one typed option per key winvmd knows (service/lib/config.c,
# winvm.conf(5)), each checked as winvmd checks it, and freeform keys beside them. `render`
# writes the file with lib.generators.toINI; a key left null is left out (winvmd's default).
{ lib }:
let
  inherit (lib) types mkOption;

  # Values as winvmd parses them.
  absolutePath = types.strMatching "/([^/]+(/[^/]+)*)?" // { description = "absolute path"; };
  noDotDot = t: types.addCheck t (p: !(lib.hasInfix "/.." p)) // { description = "${t.description} without /.."; };
  path = noDotDot absolutePath;
  pathEnding = suffix: types.addCheck path (lib.hasSuffix suffix) // { description = "absolute path ending in ${suffix}"; };
  account = types.strMatching "[A-Za-z0-9._][A-Za-z0-9._-]{0,31}" // {
    description = "user or group name (1-32 of A-Z a-z 0-9 . _ -, not starting with -)";
  };
  vmName = types.strMatching "[A-Za-z0-9_+][A-Za-z0-9._+-]{0,63}" // {
    description = "VM name (1-64 of A-Z a-z 0-9 . _ + -, starting with a letter, digit, _ or +)";
  };
  hexId = what: types.strMatching "[0-9a-f]{4}:[0-9a-f]{4}" // { description = "${what} id vendor:product in lower-case hex"; };
  resolution = types.addCheck (types.strMatching "[0-9]{3,5}x[0-9]{3,5}") (r:
    let m = map lib.toInt (lib.splitString "x" r); w = lib.elemAt m 0; h = lib.elemAt m 1;
    in w >= 320 && h >= 200 && w <= 16384 && h <= 16384) // {
    description = "resolution WIDTHxHEIGHT (320x200 to 16384x16384)";
  };
  fsEntry = types.addCheck (types.strMatching "[A-Za-z0-9_-]{1,32}:/.*") (e: !(lib.hasInfix "/.." e) && !(lib.hasInfix "//" e)) // {
    description = "NAME:/mount/point";
  };
  iniAtom = types.oneOf [ types.str types.int types.bool ];

  key = type: description: mkOption { type = types.nullOr type; default = null; inherit description; };
  # A [Group] with its typed keys; other keys pass through (winvmd warns about unknown ones).
  group = description: keys: mkOption {
    type = types.submodule { freeformType = types.attrsOf iniAtom; options = keys; };
    default = { };
    inherit description;
  };

  # A value as winvm.conf writes it: lists separated by spaces.
  value = v: if lib.isList v then lib.concatStringsSep " " v else v;
in
{
  options = {
    Service = group "[Service]: the libvirt connection, the VMs, timeouts." {
      LibvirtURI = key (types.strMatching ".+:.*") "libvirt connection (winvmd's default: qemu:///system).";
      VMs = key (types.nonEmptyListOf vmName) "The libvirt domains winvm manages (default: Windows11).";
      StateDirectory = key path "Where winvm keeps its state (default: /var/lib/winvm).";
      IdleTimeoutSec = key (types.ints.between 0 86400) "Exit after this many idle seconds; 0 never (default: 60).";
      ShutdownTimeoutSec = key (types.ints.between 1 3600) "How long Shutdown waits for the guest (default: 120).";
      StartupReadWaitSec = key (types.ints.between 0 60) "How long a read at start-up waits for libvirt (default: 2).";
    };
    Storage = group "[Storage]: the btrfs filesystems winvm may scrub." {
      Filesystems = key (types.listOf fsEntry) "NAME:/mount/point entries (the module sets it from scrub.fileSystems).";
      ScrubInterval = key (types.strMatching "0|off|daily|weekly|monthly|[1-9][0-9]{0,5}[hdw]" // {
        description = "scrub interval (0, off, daily, weekly, monthly, or N h, d or w)";
      }) "How often each filesystem is scrubbed, and when the doctor calls a scrub overdue (the module sets it from scrub.interval when that is daily, weekly or monthly).";
    };
    Host = group "[Host]: where the host checks read." {
      Root = key path "The host's root for the readiness checks (default: /).";
      DesktopUser = key account "The user whose libvirt session is checked for a second definition.";
    };
    Kvmfr = group "[Kvmfr]: Looking Glass's shared-memory device (the module sets most from kvmfr.*)." {
      Resolution = key resolution "The guest's largest resolution (default: 3840x2160).";
      HDR = key types.bool "Whether the guest sends HDR (default: false).";
      Owner = key account "The device's owner in the udev rule.";
      Group = key account "The device's group (default: kvm).";
      Mode = key (types.strMatching "0?[0-7]{3}") "The device's mode (default: 0660).";
      Device = key (types.strMatching "/dev/kvmfr[0-9]{1,3}") "The device QEMU maps (default: /dev/kvmfr0).";
      UdevRule = key (pathEnding ".rules") "The udev rule file winvmd checks and writes.";
      ModprobeOptions = key (pathEnding ".conf") "The modprobe options file with static_size_mb.";
      QemuConf = key path "libvirt's qemu.conf, read for cgroup_device_acl.";
    };
    Vfio = group "[Vfio]: the passthrough PCI devices." {
      Devices = key (types.listOf (hexId "PCI")) "PCI ids (default: 10de:2489 10de:228b).";
    };
    Cpu = group "[Cpu]: CPUs kept for the host." {
      HostCPUs = key (types.strMatching "[0-9,-]{0,256}") "A CPU list such as 0-1,14-15.";
    };
    Usb = group "[Usb]: the USB devices winvm may pass through (the module sets it from usbDevices)." {
      Devices = key (types.listOf (hexId "USB")) "USB ids.";
    };
    Virtiofs = group "[Virtiofs]: the virtiofsd binaries a share may use." {
      AllowedBinaries = key (types.listOf path) "Absolute paths of virtiofsd binaries.";
    };
    Definitions = mkOption {
      type = types.attrsOf path;
      default = { };
      description = "[Definitions]: VM name = the file with its canonical XML (the module sets it from definitions).";
    };
  };

  inherit iniAtom path account vmName hexId resolution;

  # winvm.conf's text: null keys and empty groups left out.
  render = settings:
    let
      groups = lib.mapAttrs (_: keys: lib.mapAttrs (_: value) (lib.filterAttrs (_: v: v != null) keys)) settings;
    in
    "# Written by NixOS from services.winvm.settings; see winvm.conf(5).\n"
    + lib.generators.toINI { } (lib.filterAttrs (_: keys: keys != { }) groups);
}
