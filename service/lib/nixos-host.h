/* A NixOS host, read through the root prefix: /etc is built read-only from the system
 * configuration (/etc/static, a link into the Nix store, and /etc/NIXOS), programs are in
 * /run/current-system/sw/bin, and libvirtd's qemu.conf is generated into /var/lib/libvirt.
 * winvm writes nothing into such an /etc: it names the NixOS option instead, and applies a
 * change to the running system under /run, where udev and modprobe also look. */
#pragma once

#include <stdbool.h>

#define NIXOS_SW_BIN "/run/current-system/sw/bin"
#define NIXOS_QEMU_CONF "/var/lib/libvirt/qemu.conf"
/* Read by udev (before /etc/udev/rules.d of the same name) and by modprobe: gone at reboot,
 * when the system configuration's own files apply. */
#define NIXOS_RUN_UDEV_RULE "/run/udev/rules.d/99-kvmfr.rules"
#define NIXOS_RUN_MODPROBE "/run/modprobe.d/kvmfr.conf"

/* <root>/etc/NIXOS exists, or <root>/etc/static is a link into /nix/store. */
bool nixos_host(const char *root);

/* The qemu.conf libvirtd reads: configured, except that on NixOS the stock path
 * (/etc/libvirt/qemu.conf), when missing, means NIXOS_QEMU_CONF. */
const char *nixos_qemu_conf(const char *root, const char *configured);
