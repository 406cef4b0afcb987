# services.winvm: winvmd, its bus, polkit, systemd and udev files, /etc/winvm/winvm.conf, the
# polkit group, and the host setup winvm checks (kvmfr, USB hotplug, btrfs scrubs). What the
# module declares, winvm.conf says too, so winvmd's checks expect what NixOS made.
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption mkIf mkDefault;
  cfg = config.services.winvm;
  settingsLib = import ./settings.nix { inherit lib; };
  rules = import ./rules.nix { inherit lib; };
  polkitGroup = cfg.package.polkitGroup or "winvm";

  dims = map lib.toInt (lib.splitString "x" cfg.kvmfr.resolution);
  staticSizeMB = import ./kvmfr-size.nix {
    width = lib.elemAt dims 0;
    height = lib.elemAt dims 1;
    inherit (cfg.kvmfr) hdr;
  };

  # A scrubbed filesystem's name in winvm.conf: its mount point's last part ("root" for /).
  fsName = mount: if mount == "/" then "root" else lib.replaceStrings [ "." ] [ "_" ] (baseNameOf mount);
  fsNames = map fsName cfg.scrub.fileSystems;

  rulesPackage = name: text: pkgs.writeTextFile {
    name = "winvm-${lib.removeSuffix ".rules" name}";
    destination = "/etc/udev/rules.d/${name}";
    inherit text;
  };
  # NixOS writes boot.extraModprobeConfig here; winvmd reads static_size_mb from it.
  modprobeFile = "/etc/modprobe.d/nixos.conf";
in
{
  options.services.winvm = {
    enable = lib.mkEnableOption "winvm, the service that runs the Windows VM (winvmd) and its command line winvmctl";

    package = mkOption {
      type = types.package;
      default = pkgs.winvm or (pkgs.callPackage ./package.nix { });
      defaultText = lib.literalExpression "pkgs.winvm";
      description = "The winvm package.";
    };

    settings = mkOption {
      type = types.submodule {
        freeformType = types.attrsOf (types.attrsOf settingsLib.iniAtom);
        options = settingsLib.options;
      };
      default = { };
      example = lib.literalExpression ''{ Service.VMs = [ "Windows11" ]; Cpu.HostCPUs = "0-1,14-15"; }'';
      description = "/etc/winvm/winvm.conf, group by group (winvm.conf(5)); keys left null keep winvmd's default.";
    };

    users = mkOption {
      type = types.listOf settingsLib.account;
      default = [ ];
      example = [ "jarrett" ];
      description = "Users put in the polkit group, who may use every winvm action without a password.";
    };

    kvmfr = {
      enable = lib.mkEnableOption "the Looking Glass kvmfr module, sized for the resolution, with its udev rule";
      resolution = mkOption {
        type = settingsLib.resolution;
        default = "3840x2160";
        description = "The guest's largest resolution, which sizes /dev/kvmfr0.";
      };
      hdr = mkOption {
        type = types.bool;
        default = false;
        description = "Whether the guest sends HDR (twice the memory).";
      };
      owner = mkOption {
        type = types.nullOr settingsLib.account;
        default = if cfg.users == [ ] then null else lib.head cfg.users;
        defaultText = lib.literalExpression "the first of services.winvm.users";
        description = "The owner of /dev/kvmfr0 (looking-glass-client runs as this user).";
      };
      group = mkOption {
        type = settingsLib.account;
        default = "kvm";
        description = "The group of /dev/kvmfr0.";
      };
      mode = mkOption {
        type = types.strMatching "0[0-7]{3}";
        default = "0660";
        description = "The mode of /dev/kvmfr0.";
      };
      staticSizeMB = mkOption {
        type = types.int;
        readOnly = true;
        default = staticSizeMB;
        defaultText = lib.literalMD "computed from `resolution` and `hdr` as winvmd does";
        description = "kvmfr's static_size_mb: width x height x (4, or 8 for HDR) x 2 bytes in MiB, plus 10, rounded up to a power of two.";
      };
    };

    usbDevices = mkOption {
      type = types.listOf (settingsLib.hexId "USB");
      default = [ ];
      example = [ "256c:006d" "256f:c635" ];
      description = "USB devices winvm may pass through (vendor:product), [Usb] Devices; each is attached to the running guest when plugged in.";
    };

    scrub = {
      interval = mkOption {
        type = types.str;
        default = "weekly";
        description = "How often services.btrfs.autoScrub scrubs (a systemd calendar expression).";
      };
      fileSystems = mkOption {
        type = types.listOf settingsLib.path;
        default = [ ];
        example = [ "/" "/vm-storage/images" ];
        description = "btrfs mount points scrubbed on that schedule, which winvm may also scrub on request (named by their last part, / as root).";
      };
    };

    definitions = mkOption {
      type = types.attrsOf settingsLib.path;
      default = { };
      example = { Windows11 = "/etc/nixos/systems/nixos/vms/Windows11.xml"; };
      description = "Each VM's canonical XML file (winvmctl export writes it, define reads it); its folder is made writable for winvmd.";
    };
  };

  config = mkIf cfg.enable (lib.mkMerge [
    {
      assertions = [
        {
          assertion = config.virtualisation.libvirtd.enable;
          message = "services.winvm.enable needs virtualisation.libvirtd.enable = true: winvmd drives libvirt's qemu:///system.";
        }
        {
          assertion = lib.all (vm: builtins.match "[A-Za-z0-9_+][A-Za-z0-9._+-]{0,63}" vm != null) (lib.attrNames cfg.definitions);
          message = "services.winvm.definitions: a VM name is 1-64 of A-Z a-z 0-9 . _ + - starting with a letter, digit, _ or +.";
        }
        {
          # Lists add up: a device set there too would lack its hotplug rule.
          assertion = cfg.settings.Usb.Devices == cfg.usbDevices;
          message = "services.winvm.settings.Usb.Devices: set services.winvm.usbDevices instead, which also writes the hotplug rule.";
        }
        {
          assertion = lib.length (lib.unique fsNames) == lib.length fsNames;
          message = "services.winvm.scrub.fileSystems: two mount points end in the same name (${lib.concatStringsSep ", " fsNames}).";
        }
      ];

      environment.systemPackages = [ cfg.package ];
      systemd.packages = [ cfg.package ];
      services.dbus.packages = [ cfg.package ];
      security.polkit.enable = true;
      users.groups.${polkitGroup}.members = cfg.users;

      # The hotplug rule: it starts the attach unit for any USB device; winvmd acts on usbDevices.
      services.udev.packages = [ (rulesPackage "90-winvm-usb.rules" rules.usb) ];

      environment.etc."winvm/winvm.conf".text = settingsLib.render cfg.settings;
      services.winvm.settings = {
        Usb.Devices = cfg.usbDevices;
        Definitions = cfg.definitions;
        Host.DesktopUser = mkIf (cfg.users != [ ]) (mkDefault (lib.head cfg.users));
      };

      # qemu-img for snapshots, from libvirt's QEMU.
      systemd.services.winvmd = {
        path = [ config.virtualisation.libvirtd.qemu.package ];
        restartTriggers = [ config.environment.etc."winvm/winvm.conf".text ];
        # The unit keeps /etc read-only: Export writes the definition files' folders.
        serviceConfig.ReadWritePaths = map (file: "-${dirOf file}") (lib.unique (lib.attrValues cfg.definitions));
      };
    }

    (mkIf cfg.kvmfr.enable {
      boot.extraModulePackages = [ config.boot.kernelPackages.kvmfr ];
      boot.kernelModules = [ "kvmfr" ];
      boot.extraModprobeConfig = "options kvmfr static_size_mb=${toString staticSizeMB}\n";
      services.udev.packages = [
        (rulesPackage "99-kvmfr.rules" (rules.kvmfr { inherit (cfg.kvmfr) owner group mode; }))
      ];
      services.winvm.settings.Kvmfr = {
        Resolution = cfg.kvmfr.resolution;
        HDR = cfg.kvmfr.hdr;
        Owner = cfg.kvmfr.owner;
        Group = cfg.kvmfr.group;
        Mode = cfg.kvmfr.mode;
        ModprobeOptions = modprobeFile;
      };
    })

    (mkIf (cfg.scrub.fileSystems != [ ]) {
      services.btrfs.autoScrub = {
        enable = true;
        inherit (cfg.scrub) interval fileSystems;
      };
      services.winvm.settings.Storage.Filesystems = lib.zipListsWith (name: mount: "${name}:${mount}") fsNames cfg.scrub.fileSystems;
      # autoScrub scrubs on NixOS (winvm-scrub.timer, installed, is left disabled); winvm counts
      # its scrubs, and with the same interval the doctor's storage.scrub-overdue agrees with it.
      services.winvm.settings.Storage.ScrubInterval =
        mkIf (lib.elem cfg.scrub.interval [ "daily" "weekly" "monthly" ]) (mkDefault cfg.scrub.interval);
    })
  ]);
}
