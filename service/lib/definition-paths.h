/* The host side of the definition guard (definition-guard.h): where a new disk image or a
 * virtiofs share may be, checked on the host as root will open it. Blocking: worker only. */
#pragma once

#include <sys/types.h>

#include "definition-guard.h"

typedef struct DefinitionPaths {
        char *const *storage_dirs;      /* [Storage] mount points */
        uid_t desktop_uid;              /* (uid_t) -1: no desktop user, so no shares */
        uid_t qemu_uid;                 /* (uid_t) -1: unknown, only root may own images */
        /* [Host] Root: where the desktop user's home is, as for every other read of the
         * host's users and files; "/" on a real host. */
        const char *share_root;
} DefinitionPaths;

/* A DefinitionPolicy.check_path with userdata a DefinitionPaths: an image is a regular file
 * owned by root or the QEMU user, every folder from its [Storage] filesystem down owned by
 * them and writable by nobody else, not a file the VM uses already, and, given as qcow2, a
 * qcow2 image without a backing or external data file; a share is a folder the desktop user
 * owns. No link anywhere on the way. */
int definition_paths_check(void *userdata, GuardPathKind kind, const char *path, const char *format,
                           char *const *in_use, char **why);

/* The uid libvirt runs QEMU as, from the host's users (libvirt-qemu, qemu-libvirtd, qemu);
 * (uid_t) -1 when none exists. */
uid_t definition_paths_qemu_uid(void);
