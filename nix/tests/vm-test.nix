# The NixOS VM test of services.winvm with the seed's configuration, for a NixOS machine:
#   nix build .#checks.x86_64-linux.vm     (or: nix-build nix/tests/vm-test.nix)
# It boots a guest with libvirtd, kvmfr and winvm, and checks what the module promises: the
# configuration winvmd reads, kvmfr's size and device permissions, the polkit group, D-Bus
# activation, apply-permissions leaving NixOS's files alone, polkit refusing mallory, the
# hotplug and scrub units. Not run on the project's Debian machines (see README.md).
{ pkgs ? import <nixpkgs> { } }:
pkgs.testers.runNixOSTest {
  name = "winvm";

  nodes.machine = { ... }: {
    imports = [ ../module.nix ../../tests/nix/seed-config.nix ];
    # kvmfr's 128 MiB device and a guest's worth of libvirt.
    virtualisation.memorySize = 2048;
    users.users.jarrett.isNormalUser = true;
    users.users.mallory.isNormalUser = true;
  };

  testScript = { nodes, ... }: ''
    winvmd = "${nodes.machine.services.winvm.package}/sbin/winvmd"
    machine.wait_for_unit("multi-user.target")
    machine.wait_for_unit("libvirtd.service")

    with subtest("winvmd accepts the configuration the module wrote"):
        machine.succeed("grep -qx 'Devices=256c:006d 256f:c635' /etc/winvm/winvm.conf")
        machine.succeed(f"{winvmd} --check-config")

    with subtest("kvmfr is loaded with 128 MiB and its device belongs to jarrett"):
        machine.succeed("grep -qx 128 /sys/module/kvmfr/parameters/static_size_mb")
        machine.wait_until_succeeds("test \"$(stat -c '%U:%G %a' /dev/kvmfr0)\" = 'jarrett:kvm 660'")

    with subtest("jarrett is in the polkit group, mallory is not"):
        machine.succeed("id -nG jarrett | grep -qw winvm")
        machine.fail("id -nG mallory | grep -qw winvm")

    with subtest("D-Bus activation starts winvmd, which sees what NixOS made"):
        machine.succeed("su - jarrett -c 'winvmctl list vms' | grep -qx Windows11")
        machine.wait_for_unit("winvmd.service")
        machine.succeed("su - jarrett -c 'winvmctl --json kvmfr status' | grep -q '\"required_size_mib\" *: *128'")

    with subtest("apply-permissions leaves NixOS's files alone and names the options"):
        out = machine.succeed("su - jarrett -c 'winvmctl --no-ask-password kvmfr apply-permissions'")
        assert "services.winvm.kvmfr" in out, out
        assert "Wrote" not in out, out

    with subtest("polkit refuses mallory a change (exit 3, access denied)"):
        status, _ = machine.execute("su - mallory -c 'winvmctl --no-ask-password kvmfr apply-permissions'")
        assert status == 3, f"mallory's apply-permissions exited {status}, not 3"

    with subtest("the hotplug rule and unit, and the scrub timers, are in place"):
        machine.succeed("grep -qF 'winvm-usb-attach@$attr{idVendor}:$attr{idProduct}.service' /etc/udev/rules.d/90-winvm-usb.rules")
        machine.succeed("systemctl cat winvm-usb-attach@256c:006d.service")
        machine.succeed("systemctl list-unit-files 'btrfs-scrub-*.timer' | grep -q vm")
        machine.succeed("systemctl cat winvm-scrub.timer winvm-scrub.service")
        machine.succeed("grep -qx 'ScrubInterval=weekly' /etc/winvm/winvm.conf")
  '';
}
