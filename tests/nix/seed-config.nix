# The seed's setup as services.winvm (README.md shows the same module).
{
  virtualisation.libvirtd.enable = true;

  services.winvm = {
    enable = true;
    users = [ "jarrett" ];
    # Looking Glass at 4K SDR: static_size_mb=128, /dev/kvmfr0 jarrett:kvm 0660.
    kvmfr = {
      enable = true;
      resolution = "3840x2160";
    };
    # The Huion tablet and the SpaceMouse.
    usbDevices = [ "256c:006d" "256f:c635" ];
    scrub = {
      interval = "weekly";
      fileSystems = [ "/" "/vm-storage/images" ];
    };
    definitions.Windows11 = "/etc/nixos/systems/nixos/vms/Windows11.xml";
    settings = {
      Vfio.Devices = [ "10de:2489" "10de:228b" ]; # RTX 3060 Ti and its audio function
      Cpu.HostCPUs = "0-1,14-15,20-27"; # P-cores 0 and 7, E-cores 12-19
    };
  };
}
