# The NixOS options nix/module.nix sets, declared as NixOS declares them (types trimmed to
# what the module uses), so lib.evalModules can run the module without nixpkgs.
{ lib, pkgs, ... }:
let
  inherit (lib) types mkOption;
  opt = type: default: mkOption { inherit type default; };
  unitOptions = types.submodule {
    options = {
      path = opt (types.listOf (types.either types.package types.str)) [ ];
      restartTriggers = opt (types.listOf types.unspecified) [ ];
      # NixOS merges unit settings: lists add up.
      serviceConfig = opt (types.attrsOf (types.oneOf [ types.str types.int types.bool (types.listOf types.str) ])) { };
    };
  };
in
{
  options = {
    assertions = opt (types.listOf types.unspecified) [ ];
    environment.systemPackages = opt (types.listOf types.package) [ ];
    environment.etc = opt (types.attrsOf (types.submodule { options.text = opt types.lines ""; })) { };
    systemd.packages = opt (types.listOf types.package) [ ];
    systemd.services = opt (types.attrsOf unitOptions) { };
    services.dbus.packages = opt (types.listOf types.path) [ ];
    services.udev.packages = opt (types.listOf types.path) [ ];
    security.polkit.enable = opt types.bool false;
    users.groups = opt (types.attrsOf (types.submodule { options.members = opt (types.listOf types.str) [ ]; })) { };
    boot.kernelPackages = opt types.raw { };
    boot.extraModulePackages = opt (types.listOf types.package) [ ];
    boot.kernelModules = opt (types.listOf types.str) [ ];
    boot.extraModprobeConfig = opt types.lines "";
    services.btrfs.autoScrub = {
      enable = opt types.bool false;
      interval = opt types.str "monthly";
      fileSystems = opt (types.listOf types.path) [ ];
    };
    virtualisation.libvirtd.enable = opt types.bool false;
    virtualisation.libvirtd.qemu.package = opt types.package pkgs.qemu;
  };
}
