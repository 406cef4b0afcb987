# The meson flags nix/package.nix gives meson, taken from the derivation itself (its inputs
# stubbed: only the flags are read), so the install test uses exactly those.
{ lib }:
let
  package = import ../../nix/package.nix;
  # Each input without a default, as a stand-in string; lib and stdenv as far as the flags need.
  inputs = lib.mapAttrs (name: _: name) (lib.filterAttrs (_: hasDefault: !hasDefault) (builtins.functionArgs package));
in
(package (inputs // { inherit lib; stdenv.mkDerivation = attrs: attrs; })).mesonFlags
