#!/usr/bin/env bash
# services.winvm (nix/module.nix) evaluated with lib.evalModules: module-test.nix's cases on
# the seed's configuration, winvmd's verdict on the winvm.conf it writes, and wrong values
# refused with the option's name in the message.
#   check-module.sh WINVMD
set -euo pipefail
# shellcheck source=tests/nix/find-nix.sh
. "$(dirname "$0")/find-nix.sh"
need_nixpkgs_lib
winvmd=$1

failures=$(nix_eval "$here/module-test.nix") || fail "module-test.nix did not evaluate"
[[ $failures == "[]" ]] || fail "module tests: $failures"
echo "module-test.nix: every case passed"

# winvmd reads the file the module writes for the seed without an error or a warning.
out=$("$winvmd" --config "$here/seed-winvm.conf" --check-config 2>&1) || fail "winvmd --check-config: $out"
[[ -z $out ]] || fail "winvmd --check-config warned: $out"
echo "winvmd --check-config accepts seed-winvm.conf"

# README.md's NixOS example is the configuration tested here.
example=$(awk '/^<!-- tests\/nix\/seed-config.nix -->$/ { marked = 1; next }
               marked && /^```nix$/ { inside = 1; next }
               inside && /^```$/ { exit }
               inside { print }' "$top/README.md")
[[ -n $example ]] || fail "README.md has no example after <!-- tests/nix/seed-config.nix -->"
[[ $example == "$(cat "$here/seed-config.nix")" ]] ||
    fail "README.md's NixOS example differs from tests/nix/seed-config.nix: $(diff <(echo "$example") "$here/seed-config.nix")"
echo "README.md's NixOS example is tests/nix/seed-config.nix"

# The seed's configuration itself evaluates here (so the refusals below are about the value).
nix_eval "$here/bad-value.nix" --arg override '{ }' >/dev/null || fail "the seed's configuration does not evaluate"

err=$(mktemp)
trap 'rm -f "$err"' EXIT
# refused MESSAGE OVERRIDE: the seed's configuration with OVERRIDE fails with MESSAGE, which
# names the option.
refused() {
    local message=$1 override=$2
    if nix_eval "$here/bad-value.nix" --arg override "$override" >/dev/null 2>"$err"; then
        fail "accepted: $override"
    fi
    grep -qF -- "$message" "$err" || fail "refused without saying \"$message\": $override: $(cat "$err")"
    echo "refused ($message): $override"
}
type_error() { refused "option \`$1' is not of type" "$2"; }
first_entry='."[definition 1-entry 1]"'
type_error services.winvm.kvmfr.resolution '{ lib, ... }: { services.winvm.kvmfr.resolution = lib.mkForce "4k"; }'
type_error services.winvm.kvmfr.resolution '{ lib, ... }: { services.winvm.kvmfr.resolution = lib.mkForce "100x100"; }'
type_error "services.winvm.usbDevices$first_entry" '{ services.winvm.usbDevices = [ "256c:6d" ]; }'
type_error "services.winvm.usbDevices$first_entry" '{ services.winvm.usbDevices = [ "256C:006D" ]; }'
type_error "services.winvm.users$first_entry" '{ services.winvm.users = [ "-jarrett" ]; }'
type_error services.winvm.settings.Service.IdleTimeoutSec '{ services.winvm.settings.Service.IdleTimeoutSec = 100000; }'
type_error "services.winvm.settings.Vfio.Devices$first_entry" '{ lib, ... }: { services.winvm.settings.Vfio.Devices = lib.mkForce [ "10de-2489" ]; }'
type_error services.winvm.definitions.Windows11 '{ lib, ... }: { services.winvm.definitions.Windows11 = lib.mkForce "vms/Windows11.xml"; }'
refused "services.winvm.definitions: a VM name is" '{ services.winvm.definitions."Windows 11" = "/etc/nixos/w.xml"; }'
refused "services.winvm.scrub.fileSystems: two mount points end in the same name" \
    '{ services.winvm.scrub.fileSystems = [ "/mnt/images" ]; }'
refused "services.winvm.settings.Usb.Devices: set services.winvm.usbDevices instead" \
    '{ services.winvm.settings.Usb.Devices = [ "046d:c52b" ]; }'
refused "needs virtualisation.libvirtd.enable = true" '{ lib, ... }: { virtualisation.libvirtd.enable = lib.mkForce false; }'
