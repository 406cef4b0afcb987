# winvm for Nix: `pkgs.callPackage ./nix/package.nix { }`. Everything installs under $out: the
# meson options name each folder that pkg-config would take from another package's store path
# (systemd's, udev's, bash-completion's). Not built on the project's machines (no nixpkgs
# there); README.md says what is tested.
{
  lib,
  stdenv,
  meson,
  ninja,
  pkg-config,
  python3,
  scdoc,
  glib,
  json-glib,
  libvirt,
  polkit,
  systemd,
  btrfs-progs,
  libxml2,
  kmod,
  check,
  # The group whose members may use every winvm action (the rules file and the module use it).
  polkitGroup ? "winvm",
}:

let
  # The version meson.build declares, so the two never differ.
  mesonVersion = lib.head (
    lib.findFirst (m: m != null) (throw "nix/package.nix: no version: line in meson.build")
      (map (builtins.match " *version: '([0-9.]+)',.*") (lib.splitString "\n" (builtins.readFile ../meson.build)))
  );
  top = toString ../.;
  # The repository without build folders and the extension's node_modules.
  source = lib.cleanSourceWith {
    src = lib.cleanSource ../.;
    filter = path: type:
      let rel = lib.removePrefix (top + "/") (toString path);
      in !(type == "directory" && (lib.hasPrefix "build" rel && !lib.hasInfix "/" rel || baseNameOf path == "node_modules"));
  };
in
stdenv.mkDerivation {
  pname = "winvm";
  version = mesonVersion;
  src = source;

  nativeBuildInputs = [
    meson
    ninja
    pkg-config
    python3 # man/gen-scd.py
    scdoc # the man pages
    glib # glib-compile-schemas for the GNOME extension's settings
  ];
  buildInputs = [
    systemd # libsystemd (sd-bus, sd-event)
    glib
    json-glib
    polkit # polkit-gobject-1
    libvirt
    libxml2
    btrfs-progs # libbtrfsutil
    kmod # libkmod
    check # the unit tests
  ];

  mesonFlags = [
    (lib.mesonOption "polkit_group" polkitGroup)
    (lib.mesonOption "systemd_system_unit_dir" "lib/systemd/system")
    (lib.mesonOption "systemd_catalog_dir" "lib/systemd/catalog")
    (lib.mesonOption "systemd_sysusers_dir" "lib/sysusers.d")
    (lib.mesonOption "udev_rules_dir" "lib/udev/rules.d")
    (lib.mesonOption "dbus_system_policy_dir" "share/dbus-1/system.d")
    (lib.mesonOption "dbus_system_services_dir" "share/dbus-1/system-services")
    (lib.mesonOption "dbus_interfaces_dir" "share/dbus-1/interfaces")
    (lib.mesonOption "polkit_actions_dir" "share/polkit-1/actions")
    (lib.mesonOption "polkit_rules_dir" "share/polkit-1/rules.d")
    (lib.mesonOption "bash_completion_dir" "share/bash-completion/completions")
    (lib.mesonOption "zsh_completion_dir" "share/zsh/site-functions")
    # A newer compiler than the project's may warn about new things: not a reason to fail a
    # user's system build (the project's own builds keep -Werror).
    (lib.mesonBool "werror" false)
  ];

  # The pure modules' check tests; the other suites need the sandbox of real daemons, gjs,
  # npm or nix, none of which a Nix build has.
  doCheck = true;
  mesonCheckFlags = [ "--suite" "unit" ];

  passthru = { inherit polkitGroup; };

  meta = {
    description = "D-Bus service and command line for a Windows VM with GPU passthrough, with polkit in charge";
    license = lib.licenses.lgpl21Plus;
    platforms = lib.platforms.linux;
    mainProgram = "winvmctl";
  };
}
