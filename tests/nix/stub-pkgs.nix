# Stand-ins for the nixpkgs packages nix/module.nix names: derivation-shaped attribute sets that
# keep their arguments, so a test reads a rule's text without building anything.
{ lib }:
let
  drv = name: extra: {
    type = "derivation";
    inherit name;
    outPath = "/nix/store/00000000000000000000000000000000-${name}";
  } // extra;
in
{
  winvm = drv "winvm-0.1.0" { polkitGroup = "winvm"; };
  qemu = drv "qemu-9.0.0" { };
  writeTextFile = { name, text, destination ? "", ... }: drv name { inherit text destination; };
  linuxPackages.kvmfr = drv "kvmfr-0.0.0" { };
}
