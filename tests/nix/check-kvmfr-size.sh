#!/usr/bin/env bash
# nix/kvmfr-size.nix (the module's static_size_mb) gives what winvmd's kvmfr_required_size_mib
# gives: for the usual sizes, and for frames whose size sits on an edge of the formula (2048x1408
# is 22 MiB exactly, so 32 after adding 10; 2048x1409 is a little more, rounded up to 23 MiB,
# so 64; 2048x1472 is 23 MiB, 33 with the 10, so 64).
#   check-kvmfr-size.sh KVMFR_SIZE_PROGRAM
set -euo pipefail
# shellcheck source=tests/nix/find-nix.sh
. "$(dirname "$0")/find-nix.sh"
need_nixpkgs_lib
program=$1

cases=(1920x1080 2560x1440 3840x2160 3840x2160:hdr 1920x1080:hdr 2560x1440:hdr 320x200 7680x4320
       16384x16384 16384x16384:hdr 1366x768 3440x1440 5120x1440:hdr 1024x768 1x1
       2048x1408 2048x1409 2048x1472 1024x1472:hdr 1024x704:hdr)
expected=$("$program" "${cases[@]}")
[[ $(head -n4 <<<"$expected" | tr '\n' ' ') == "32 64 128 256 " ]] || fail "winvmd's sizes for 1080p, 1440p, 4K, 4K HDR: $expected"
[[ $(tail -n5 <<<"$expected" | tr '\n' ' ') == "32 64 64 64 32 " ]] || fail "winvmd's sizes for the edge cases: $expected"

list=$(printf '"%s" ' "${cases[@]}")
got=$(nix-instantiate --eval --strict --readonly-mode --arg lib "import $nixpkgs_lib" -E "{ lib }: lib.concatMapStrings (c:
    let parts = lib.splitString \":\" c; dims = map lib.toInt (lib.splitString \"x\" (lib.head parts));
    in toString (import $top/nix/kvmfr-size.nix { width = lib.elemAt dims 0; height = lib.elemAt dims 1; hdr = lib.length parts == 2; }) + \"\\n\") [ $list ]" |
    python3 -c 'import json, sys; print(json.loads(sys.stdin.read()), end="")')
if [[ $got != "$expected"$'\n' && $got != "$expected" ]]; then
    fail "nix/kvmfr-size.nix and winvmd differ:$(diff <(echo "$expected") <(echo "$got"))"
fi
echo "the same size for ${#cases[@]} resolutions: $(tr '\n' ' ' <<<"$expected")"
