/* What a definition file may change. Defining a libvirt domain is as strong as root: its XML
 * names programs libvirt runs (<emulator>, a virtiofs <binary>, an interface <script>), files
 * and devices QEMU opens (disks, NVRAM, serial files, host devices) and raw QEMU arguments. A
 * desktop user may edit the file, so Define (and Undo) let a definition introduce none of
 * those unless the current definition already has the same one, or winvm.conf allows it:
 * a virtiofsd from [Virtiofs] AllowedBinaries, a USB device from [Usb] Devices, a disk image
 * in a folder the VM's disks already use or under a [Storage] filesystem, a virtiofs share
 * of a folder in the desktop user's home. Pure. */
#pragma once

typedef struct DefinitionPolicy {
        char *const *virtiofsd_allowed;
        char *const *usb_ids;           /* vendor:product, lower-case hex */
        char *const *storage_dirs;      /* mount points of [Storage] Filesystems */
        char *const *share_dirs;        /* folders whose subfolders may be shared (the desktop user's home) */
} DefinitionPolicy;

/* 0 when new_xml introduces nothing of that kind; -EPERM with *ret_what naming the first
 * thing it introduces ("<disk><source file>='/dev/sda'"); -EINVAL when either does not
 * parse; -ENOMEM. */
int definition_guard_check(const char *current_xml, const char *new_xml, const DefinitionPolicy *policy,
                           char **ret_what);
