/* Changing the kvmfr module and its configuration files: blocking, worker threads only.
 * Every function returns 0 or a negative errno with a message for the caller in *ret_message. */
#pragma once

#include "kvmfr-checks.h"

/* Loads kvmfr through libkmod with static_size_mb=size_mib. -ENOENT when the module is not
 * installed for the running kernel, -EALREADY when it is loaded (with other sizes: unload it
 * first). root must be the real host. */
int kvmfr_load(const char *root, unsigned size_mib, char **ret_message);

/* Unloads kvmfr; 0 when it was not loaded, -EBUSY when the kernel says it is in use. */
int kvmfr_unload(const char *root, char **ret_message);

/* Writes the udev rule and the modprobe options file to their configured paths under root,
 * each atomically (a temporary file renamed over it). Refuses a path whose final component
 * is not a regular file (a symlink placed there is never followed or replaced) and a folder
 * that others than root may write to. *ret_files: the paths written, NULL-terminated. */
int kvmfr_write_config_files(const char *root, const KvmfrConfig *c, unsigned size_mib, char ***ret_files,
                             char **ret_message);

/* Reloads udev's rules and gives an existing device node the rule's owner, group and mode
 * now (a udev trigger would need /sys writable). Only on the real host; for a stand-in root it
 * says so and does nothing. */
int kvmfr_reload_udev(const char *root, const KvmfrConfig *c, char **ret_message);
