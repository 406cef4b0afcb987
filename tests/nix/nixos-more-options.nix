# NixOS options that the flake's system check and the VM test's node set besides those the
# module sets, declared loosely: here only their evaluation with the module is tested.
{ lib, ... }:
let
  inherit (lib) types mkOption;
  any = mkOption { type = types.anything; default = null; };
in
{
  options = {
    boot.loader.grub.enable = any;
    fileSystems = mkOption { type = types.attrsOf types.anything; default = { }; };
    users.users = mkOption { type = types.attrsOf types.anything; default = { }; };
    system.stateVersion = any;
    virtualisation.memorySize = any;
    # What nixos-rebuild builds; a stand-in path here.
    system.build.toplevel = mkOption {
      type = types.raw;
      default = { drvPath = "/nix/store/00000000000000000000000000000000-nixos-system-winvm.drv"; };
    };
  };
}
