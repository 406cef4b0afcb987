# flake.nix's outputs, with nixpkgs stood in for (the lib, stand-in packages, runNixOSTest and
# nixosSystem evaluating their modules with the test's NixOS declarations): the package's name,
# the module, the overlay, and each check evaluates; the VM test's node makes the seed's
# winvm.conf. Evaluates to the list of failed cases (lib.runTests).
{ lib }:
let
  system = "x86_64-linux";
  stubs = import ./stub-pkgs.nix { inherit lib; };
  evalNixos = modules: import ./eval.nix {
    inherit lib pkgs;
    configuration = { imports = modules ++ [ ./nixos-more-options.nix ]; };
  };
  pkgs = stubs // {
    callPackage = file: args: import file (lib.mapAttrs (name: _: name) (lib.filterAttrs (_: d: !d) (builtins.functionArgs (import file)))
      // { inherit lib; stdenv.mkDerivation = attrs: attrs; } // args);
    runCommand = name: env: script: { type = "derivation"; inherit name script; };
    writeText = name: text: { type = "derivation"; inherit name text; };
    testers.runNixOSTest = test: test;
  };
  nixpkgs = {
    lib = lib // { nixosSystem = { system, modules }: { config = evalNixos modules; }; };
    legacyPackages.${system} = pkgs;
  };
  flake = import ../../flake.nix;
  outputs = flake.outputs { self = outputs; inherit nixpkgs; };
  vm = outputs.checks.${system}.vm;
  machine = evalNixos [ vm.nodes.machine ];
in
lib.runTests {
  testPackage = {
    expr = { inherit (outputs.packages.${system}.default) pname version; };
    expected = { pname = "winvm"; version = "0.1.0"; };
  };
  testOverlay = {
    expr = (outputs.overlays.default pkgs pkgs).winvm.pname;
    expected = "winvm";
  };
  testModule = {
    expr = outputs.nixosModules.default;
    expected = ../../nix/module.nix;
  };
  testChecks = {
    expr = lib.attrNames outputs.checks.${system};
    expected = [ "module" "nixos" "package" "vm" ];
  };
  # The module's evaluation tests pass through the flake's check.
  testModuleCheck = {
    expr = outputs.checks.${system}.module.script;
    expected = "touch $out";
  };
  testNixosCheck = {
    expr = outputs.checks.${system}.nixos.text;
    expected = "/nix/store/00000000000000000000000000000000-nixos-system-winvm.drv";
  };
  testVmNode = {
    expr = machine.environment.etc."winvm/winvm.conf".text;
    expected = builtins.readFile ./seed-winvm.conf;
  };
  testVmScript = {
    expr = { inherit (vm) name; winvmd = lib.head (lib.splitString "\n" (vm.testScript { nodes.machine = machine; })); };
    expected = { name = "winvm"; winvmd = ''winvmd = "/nix/store/00000000000000000000000000000000-winvm-0.1.0/sbin/winvmd"''; };
  };
}
