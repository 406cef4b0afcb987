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
