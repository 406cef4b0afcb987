# shellcheck shell=bash
# Sourced by the nix suite's tests: finds nix-instantiate and (need_nixpkgs_lib) nixpkgs' lib,
# or ends the test as failed, saying it did not run (a test that cannot run is not a test that
# passed). nixpkgs' lib: $NIXPKGS_LIB, else ../shared/nixpkgs-lib/lib beside the repository,
# else <nixpkgs/lib> from NIX_PATH.

not_run() {
    echo "NOT RUN: $*" >&2
    exit 1
}
fail() {
    echo "FAIL: $*" >&2
    exit 1
}

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck disable=SC2034 # for the scripts that source this
here=$top/tests/nix

command -v nix-instantiate >/dev/null || not_run "nix-instantiate is missing (scripts/install-deps installs nix-bin)"

# Sets nixpkgs_lib, or ends the test as not run.
need_nixpkgs_lib() {
    if [[ -n ${NIXPKGS_LIB:-} ]]; then
        [[ -f $NIXPKGS_LIB/default.nix ]] || not_run "NIXPKGS_LIB=$NIXPKGS_LIB has no default.nix"
        nixpkgs_lib=$NIXPKGS_LIB
    elif [[ -f $top/../shared/nixpkgs-lib/lib/default.nix ]]; then
        nixpkgs_lib=$(cd "$top/../shared/nixpkgs-lib/lib" && pwd)
    elif ! nixpkgs_lib=$(nix-instantiate --find-file nixpkgs/lib 2>/dev/null); then
        not_run "no nixpkgs lib: set NIXPKGS_LIB, put nixpkgs' lib in ../shared/nixpkgs-lib/lib beside the repository, or put nixpkgs in NIX_PATH"
    fi
}

# nix-instantiate --eval of FILE with lib = nixpkgs' lib (need_nixpkgs_lib first), the value
# as JSON; writes nothing to the store.
nix_eval() {
    local file=$1; shift
    nix-instantiate --eval --strict --json --readonly-mode --arg lib "import $nixpkgs_lib" "$@" "$file"
}
