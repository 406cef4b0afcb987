/* File operations for state that must survive a crash: every write goes to a temporary
 * file in the same folder, is synced, and replaces the target by rename(). Nothing here
 * follows a symlink at the final component. Blocking: worker threads only. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Writes data to path atomically with the given mode. */
int write_file_atomic(const char *path, const char *data, size_t len, unsigned mode);

/* Reads a whole (small) file; -ENOENT when it is missing. */
int read_file(const char *path, char **ret);

/* Copies src over dst atomically. The copy gets src's mode and owner, or, when keep_dst_owner
 * is set and dst exists, dst's (a restored NVRAM file stays libvirt's). */
int copy_file_atomic(const char *src, const char *dst, bool keep_dst_owner);

/* Copies the folder tree src to dst (which must not exist), keeping modes and owners. */
int copy_tree(const char *src, const char *dst);

/* Removes a file or a folder tree; missing is fine. */
int remove_tree(const char *path);

/* Creates path and its parents with mode 0700 where missing. */
int mkdir_parents(const char *path);

/* Bytes allocated on disk by a file or folder tree (0 when missing). */
uint64_t disk_usage(const char *path);

/* Syncs the folder holding path, so a rename or unlink in it is durable. */
int sync_parent(const char *path);

bool path_exists(const char *path);

/* 1 when the file is marked NOCOW (chattr +C: no btrfs checksums), 0 when not, -errno. */
int file_nocow(const char *path);
