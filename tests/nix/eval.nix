# nix/module.nix evaluated with configuration (a NixOS module), the NixOS option declarations
# of nixos-options.nix and stand-in packages; a failed assertion fails it as nixos-rebuild does.
# pkgs: stand-ins with more in them (the flake test's).
{ lib, configuration, pkgs ? import ./stub-pkgs.nix { inherit lib; } }:
let
  eval = lib.evalModules {
    modules = [
      ./nixos-options.nix
      ../../nix/module.nix
      configuration
      {
        _module.args.pkgs = pkgs;
        boot.kernelPackages = pkgs.linuxPackages;
      }
    ];
  };
  failed = lib.filter (a: !a.assertion) eval.config.assertions;
in
if failed == [ ] then eval.config
else throw "Failed assertions:\n${lib.concatMapStrings (a: "- ${a.message}\n") failed}"
