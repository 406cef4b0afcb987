#!/usr/bin/env bash
# flake.nix and the VM test (nix/tests/vm-test.nix) evaluated as far as this machine can: with
# nixpkgs stood in for (flake-test.nix). Building the package and running the VM test need
# nixpkgs and a NixOS machine: `nix flake check` there.
set -euo pipefail
# shellcheck source=tests/nix/find-nix.sh
. "$(dirname "$0")/find-nix.sh"
need_nixpkgs_lib

failures=$(nix_eval "$here/flake-test.nix") || fail "flake-test.nix did not evaluate"
[[ $failures == "[]" ]] || fail "flake tests: $failures"
echo "flake-test.nix: every case passed"
