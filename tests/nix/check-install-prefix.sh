#!/usr/bin/env bash
# A meson install with nix/package.nix's meson flags and a store-path prefix puts every file
# under the prefix (nothing in another package's folder, nothing in /etc or /lib), each of the
# files NixOS picks up where it looks, and the units and the activation file name the
# prefix's binaries.
#   check-install-prefix.sh
set -euo pipefail
# shellcheck source=tests/nix/find-nix.sh
. "$(dirname "$0")/find-nix.sh"
need_nixpkgs_lib

prefix=/nix/store/00000000000000000000000000000000-winvm-0.1.0
mapfile -t flags < <(nix_eval "$here/package-flags.nix" | python3 -c 'import json, sys; print("\n".join(json.load(sys.stdin)))')
[[ ${#flags[@]} -gt 5 ]] || fail "nix/package.nix gave no meson flags"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# As nixpkgs' meson hook configures (--buildtype=plain), without the unit tests.
meson setup "$work/build" "$top" --prefix="$prefix" --buildtype=plain -Dtests=false "${flags[@]}" >"$work/setup.log" 2>&1 ||
    fail "meson setup: $(tail -n 20 "$work/setup.log")"
meson compile -C "$work/build" >"$work/compile.log" 2>&1 || fail "meson compile: $(tail -n 20 "$work/compile.log")"
DESTDIR="$work/dest" meson install -C "$work/build" --no-rebuild >"$work/install.log" 2>&1 ||
    fail "meson install: $(tail -n 20 "$work/install.log")"

outside=$(cd "$work/dest" && find . \( -type f -o -type l \) ! -path ".$prefix/*")
[[ -z $outside ]] || fail "installed outside $prefix: $outside"

# Where NixOS looks: systemd.packages, services.dbus.packages, polkit (share/polkit-1 of
# environment.systemPackages), the man pages and completions of the system profile.
for f in sbin/winvmd bin/winvmctl bin/snapshot-win-vm \
         lib/systemd/system/winvmd.service lib/systemd/system/winvm-usb-attach@.service \
         lib/systemd/catalog/winvm.catalog lib/udev/rules.d/90-winvm-usb.rules \
         share/dbus-1/system.d/org.winvm1.conf share/dbus-1/system-services/org.winvm1.service \
         share/dbus-1/system-services/org.winvm1.Members.service \
         share/dbus-1/interfaces/org.winvm1.Manager.xml \
         share/polkit-1/actions/org.winvm1.policy share/polkit-1/rules.d/org.winvm1.rules \
         share/bash-completion/completions/winvmctl share/zsh/site-functions/_winvmctl \
         share/man/man8/winvmd.8 share/man/man1/winvmctl.1 share/man/man5/winvm.conf.5; do
    [[ -e $work/dest$prefix/$f || -L $work/dest$prefix/$f ]] || fail "not installed: $prefix/$f"
done

# name FILE LINE: FILE has exactly LINE.
has_line() {
    grep -qxF -- "$2" "$work/dest$prefix/$1" || fail "$1 lacks the line '$2': $(cat "$work/dest$prefix/$1")"
}
has_line lib/systemd/system/winvmd.service "ExecStart=$prefix/sbin/winvmd"
has_line lib/systemd/system/winvm-usb-attach@.service \
    "ExecStart=$prefix/bin/winvmctl --no-ask-password --if-running --if-configured --live usb attach %I"
has_line share/dbus-1/system-services/org.winvm1.service "Exec=$prefix/sbin/winvmd"
has_line share/dbus-1/system-services/org.winvm1.Members.service "Exec=$prefix/sbin/winvmd"
has_line share/dbus-1/system.d/org.winvm1.conf '  <policy group="winvm">'
echo "$(cd "$work/dest" && find . \( -type f -o -type l \) | wc -l) files, all under $prefix"
