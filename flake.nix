{
  description = "winvm: a Windows VM with GPU passthrough run by a polkit-checked D-Bus service";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs = { self, nixpkgs }:
    let
      system = "x86_64-linux";
      pkgs = nixpkgs.legacyPackages.${system};
      inherit (nixpkgs) lib;
      moduleFailures = import ./tests/nix/module-test.nix { inherit lib; };
    in
    {
      packages.${system}.default = pkgs.callPackage ./nix/package.nix { };

      overlays.default = final: prev: { winvm = final.callPackage ./nix/package.nix { }; };

      # services.winvm; its package is pkgs.winvm where the overlay is applied, else built from
      # nix/package.nix.
      nixosModules.default = ./nix/module.nix;

      checks.${system} = {
        package = self.packages.${system}.default;
        # The module's evaluation tests (tests/nix/module-test.nix), run when the check is
        # evaluated: a failure stops `nix flake check` with the failed cases.
        module = pkgs.runCommand "winvm-module-eval" { }
          (if moduleFailures == [ ] then "touch $out"
           else throw "services.winvm module tests failed: ${builtins.toJSON moduleFailures}");
        # The seed's configuration in a whole NixOS system (real option declarations, not the
        # test's stand-ins): evaluating the system's derivation is the check.
        nixos = pkgs.writeText "winvm-nixos-eval" (builtins.unsafeDiscardStringContext
          (lib.nixosSystem {
            inherit system;
            modules = [
              self.nixosModules.default
              ./tests/nix/seed-config.nix
              {
                boot.loader.grub.enable = false;
                fileSystems."/" = { device = "/dev/vda"; fsType = "btrfs"; };
                users.users.jarrett.isNormalUser = true;
                system.stateVersion = "25.05";
              }
            ];
          }).config.system.build.toplevel.drvPath);
        vm = import ./nix/tests/vm-test.nix { inherit pkgs; };
      };
    };
}
