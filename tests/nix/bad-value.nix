# The seed's configuration with override (a NixOS module) on top, and everything the module
# writes forced: a wrong value must stop the evaluation, as it would stop nixos-rebuild.
{ lib, override }:
let
  c = import ./eval.nix { inherit lib; configuration = { imports = [ ./seed-config.nix override ]; }; };
in
{
  conf = c.environment.etc."winvm/winvm.conf".text;
  modprobe = c.boot.extraModprobeConfig;
  udev = map (p: p.text) c.services.udev.packages;
  inherit (c.users) groups;
  inherit (c.services.btrfs) autoScrub;
  unit = c.systemd.services.winvmd;
}
