# What services.winvm makes of the seed's configuration, and of a few variations. Evaluates to
# the list of failed tests (lib.runTests): [] when all pass.
{ lib }:
let
  evalWith = configuration: import ./eval.nix { inherit lib; inherit configuration; };
  seed = evalWith ./seed-config.nix;
  seedWith = extra: evalWith { imports = [ ./seed-config.nix extra ]; };
  names = map (p: p.name);
  udevRules = config: map (p: { inherit (p) destination text; }) config.services.udev.packages;
  # The package's own hotplug rule (winvmd's default devices, the seed's), without comments.
  packagedUsbRule = lib.concatMapStrings (l: l + "\n")
    (lib.filter (l: l != "" && !lib.hasPrefix "#" l) (lib.splitString "\n" (builtins.readFile ../../systemd/90-winvm-usb.rules)));
in
lib.runTests {
  testWinvmConf = {
    expr = seed.environment.etc."winvm/winvm.conf".text;
    expected = builtins.readFile ./seed-winvm.conf;
  };
  testModprobeOptions = {
    expr = seed.boot.extraModprobeConfig;
    expected = "options kvmfr static_size_mb=128\n";
  };
  testKvmfrModule = {
    expr = { modules = seed.boot.kernelModules; packages = names seed.boot.extraModulePackages; size = seed.services.winvm.kvmfr.staticSizeMB; };
    expected = { modules = [ "kvmfr" ]; packages = [ "kvmfr-0.0.0" ]; size = 128; };
  };
  testUdevRules = {
    expr = udevRules seed;
    expected = [
      { destination = "/etc/udev/rules.d/90-winvm-usb.rules"; text = packagedUsbRule; }
      {
        destination = "/etc/udev/rules.d/99-kvmfr.rules";
        text = ''SUBSYSTEM=="kvmfr", OWNER="jarrett", GROUP="kvm", MODE="0660"'' + "\n";
      }
    ];
  };
  testGroupMembers = {
    expr = seed.users.groups;
    expected = { winvm.members = [ "jarrett" ]; };
  };
  testPackages = {
    expr = {
      system = names seed.environment.systemPackages;
      systemd = names seed.systemd.packages;
      dbus = map toString seed.services.dbus.packages;
      polkit = seed.security.polkit.enable;
    };
    expected = {
      system = [ "winvm-0.1.0" ];
      systemd = [ "winvm-0.1.0" ];
      dbus = [ "/nix/store/00000000000000000000000000000000-winvm-0.1.0" ];
      polkit = true;
    };
  };
  testScrub = {
    expr = seed.services.btrfs.autoScrub;
    expected = { enable = true; interval = "weekly"; fileSystems = [ "/" "/vm-storage/images" ]; };
  };
  testWinvmdUnit = {
    expr = { inherit (seed.systemd.services.winvmd) serviceConfig; path = names seed.systemd.services.winvmd.path; };
    expected = { serviceConfig.ReadWritePaths = [ "-/etc/nixos/systems/nixos/vms" ]; path = [ "qemu-9.0.0" ]; };
  };

  # Sizes as winvmd computes them (1440p 64, 4K HDR 256), and the owner given explicitly.
  testKvmfr1440p = {
    expr = (seedWith { services.winvm.kvmfr.resolution = lib.mkForce "2560x1440"; }).boot.extraModprobeConfig;
    expected = "options kvmfr static_size_mb=64\n";
  };
  testKvmfrHdr = {
    expr = (seedWith { services.winvm.kvmfr.hdr = true; }).services.winvm.settings.Kvmfr;
    expected = {
      Resolution = "3840x2160"; HDR = true; Owner = "jarrett"; Group = "kvm"; Mode = "0660";
      ModprobeOptions = "/etc/modprobe.d/nixos.conf"; Device = null; UdevRule = null; QemuConf = null;
    };
  };
  testKvmfrHdrSize = {
    expr = (seedWith { services.winvm.kvmfr.hdr = true; }).boot.extraModprobeConfig;
    expected = "options kvmfr static_size_mb=256\n";
  };
  # No users: no owner in the rule, an empty group.
  testNoUsers = {
    expr = let c = evalWith { imports = [ ./seed-config.nix ]; services.winvm.users = lib.mkForce [ ]; }; in
      { rule = (lib.last c.services.udev.packages).text; inherit (c.users) groups; };
    expected = { rule = ''SUBSYSTEM=="kvmfr", GROUP="kvm", MODE="0660"'' + "\n"; groups.winvm.members = [ ]; };
  };
  # kvmfr off: no kernel module, no kvmfr rule, no [Kvmfr] keys.
  testKvmfrOff = {
    expr = let c = seedWith { services.winvm.kvmfr.enable = lib.mkForce false; }; in
      { inherit (c.boot) kernelModules extraModprobeConfig; rules = map (r: r.destination) (udevRules c);
        conf = lib.hasInfix "[Kvmfr]" c.environment.etc."winvm/winvm.conf".text; };
    expected = { kernelModules = [ ]; extraModprobeConfig = ""; rules = [ "/etc/udev/rules.d/90-winvm-usb.rules" ]; conf = false; };
  };
  # A freeform key passes through to its group.
  testFreeform = {
    expr = lib.hasInfix "[Service]\nIdleTimeoutSec=0\nSomeNewKey=yes\n"
      (seedWith { services.winvm.settings.Service = { IdleTimeoutSec = 0; SomeNewKey = "yes"; }; }).environment.etc."winvm/winvm.conf".text;
    expected = true;
  };
  # Not enabled: nothing at all.
  testDisabled = {
    expr = let c = evalWith { services.winvm.users = [ "jarrett" ]; }; in
      { inherit (c.environment) etc systemPackages; inherit (c.users) groups; udev = c.services.udev.packages; };
    expected = { etc = { }; systemPackages = [ ]; groups = { }; udev = [ ]; };
  };
}
