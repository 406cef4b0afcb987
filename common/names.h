/* VM names and their D-Bus object paths. */
#pragma once

#include <stdbool.h>

#define WINVM_OBJECT_ROOT "/org/winvm1"
#define WINVM_VM_PREFIX "/org/winvm1/vm"
#define VM_NAME_MAX 64

/* A VM name winvm accepts: 1..64 of [A-Za-z0-9._+-], not starting with '.' or '-'.
 * Stricter than libvirt so a name is always safe in paths, logs and polkit details. */
bool vm_name_is_valid(const char *name);

/* "/org/winvm1/vm/<name escaped as by sd_bus_path_encode>"; negative errno on failure. */
int vm_object_path(const char *name, char **ret_path);

/* The VM name of an object path below WINVM_VM_PREFIX; -ENXIO when it is not one. */
int vm_name_from_object_path(const char *path, char **ret_name);

#define SNAPSHOT_NAME_MAX 64
#define SNAPSHOT_DESCRIPTION_MAX 1024

/* A snapshot name: 1..64 of [A-Za-z0-9._-], not starting with '.' or '-'. It becomes part of
 * file names ("<image stem>.<name>") and key-file group names, so nothing else is allowed. */
bool snapshot_name_is_valid(const char *name);

/* At most 1024 bytes of UTF-8 without control characters other than newline and tab. */
bool snapshot_description_is_valid(const char *description);

/* A disk target as libvirt names them (vda, sdb, nvme0n1): 1..32 of [a-z0-9]. */
bool disk_target_is_valid(const char *target);
