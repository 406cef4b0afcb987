/* What the desktop user may change in a VM's definition without an administrator. Defining a
 * libvirt domain is as strong as root: its XML names programs libvirt runs, files and devices
 * QEMU opens (and libvirt chowns to the QEMU user), security labels and raw QEMU arguments, and
 * libvirt's schema has more such places than any list of them would hold. So the guard is an
 * allowlist: it compares the new definition with the current one, element by element, and
 * admits the change only when everything that differs is on the list of what is safe
 * (definition-allowlist.c): vCPUs, pinning and topology, memory size, features, clock, boot
 * order, memballoon, input, video, sound, graphics without sockets or host paths, USB hostdevs
 * of configured ids, a virtiofs share of a folder the desktop user owns with an allowed
 * virtiofsd, the Looking Glass IVSHMEM <qemu:commandline> exactly as winvm writes it, a disk image on a [Storage] filesystem with its format given and no backing file,
 * and guest-facing details of existing devices. Anything else needs an administrator
 * (org.winvm1.vm.define-unrestricted). Pure, apart from what check_path does. */
#pragma once

#include <stdbool.h>

typedef enum GuardPathKind {
        GUARD_PATH_IMAGE,       /* a disk image: owned by root or the QEMU user, in folders only they may write */
        GUARD_PATH_SHARE,       /* a virtiofs share: a folder the desktop user owns */
} GuardPathKind;

typedef struct DefinitionPolicy {
        char *const *virtiofsd_allowed;
        char *const *usb_ids;           /* vendor:product, lower-case hex */
        char *const *storage_dirs;      /* mount points of [Storage] Filesystems */
        char *const *share_dirs;        /* folders whose subfolders may be shared (the desktop user's home) */
        /* The one <qemu:commandline> admitted: the IVSHMEM construct winvm writes
         * (ivshmem-construct.h) for this kvmfr device and size in bytes. NULL or 0: none. */
        const char *ivshmem_device;
        unsigned long long ivshmem_size;
        /* Checks a path on the host after the text rules passed: resolved without following
         * links, owned as kind says (owned-path.h). format is the image's given format (NULL
         * for a share); in_use the files the current definition uses, which a new image may not
         * be. 0, or -EPERM with *why. NULL: the text rules alone (tests, fuzzers). */
        int (*check_path)(void *userdata, GuardPathKind kind, const char *path, const char *format,
                          char *const *in_use, char **why);
        void *userdata;
} DefinitionPolicy;

/* 0 when every difference between current_xml and new_xml is on the allowlist; -EPERM with
 * *ret_what naming the first one that is not ("<os><acpi><table>='/etc/shadow'"); -EINVAL
 * when either does not parse; -ENOMEM. */
int definition_guard_check(const char *current_xml, const char *new_xml, const DefinitionPolicy *policy,
                           char **ret_what);

/* For the allowlist's rules and the path checks: sets *why (replacing what it held) to the
 * reason a difference is refused and returns -EPERM; -ENOMEM when it cannot. */
int guard_refuse(char **why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
