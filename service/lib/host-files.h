/* Reading a host through a root prefix: every path is read as <root><path>, so tests point the
 * same code at a fixture tree. A root of NULL, "" or "/" means the real host.
 *
 * Symbolic links are resolved inside the root: an absolute target is taken relative to the
 * root and ".." stops at the root, so nothing outside the root is ever read (sysfs is full of
 * links: /sys/bus/pci/devices/X -> ../../../devices/pci0000:00/...). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* The biggest file host_read_file() reads without being asked for more. */
#define HOST_FILE_MAX (64u * 1024u)

/* true for NULL, "" or "/" (any number of slashes). */
bool host_root_is_host(const char *root);

/* <root><path> without resolving anything; path must be absolute. NULL on ENOMEM/EINVAL. */
char *host_path(const char *root, const char *path);

/* The real path of <root><path>, every link resolved inside the root (the last component too
 * when follow_last). A missing last component is fine (the caller gets ENOENT when it opens
 * it); a missing directory on the way is -ENOENT. -ELOOP after 40 links, -EINVAL when path is
 * not absolute. */
int host_resolve(const char *root, const char *path, bool follow_last, char **ret);

/* stat(2) (follow) or lstat(2) of path under the root. -errno. */
int host_stat(const char *root, const char *path, bool follow, struct stat *ret);
/* 1 when path exists under the root (following links inside it), 0 when not. */
bool host_exists(const char *root, const char *path);
/* A regular file with an execute bit, under the root (links followed inside it). */
bool host_is_executable(const char *root, const char *path);

/* A small file's contents (at most max bytes, 0 meaning HOST_FILE_MAX; the rest is ignored).
 * -errno. */
int host_read_file(const char *root, const char *path, size_t max, char **ret);
/* The first line of a file, surrounding whitespace removed ("0x10de\n" -> "0x10de"). */
int host_read_line(const char *root, const char *path, char **ret);
/* A file holding one number in hex ("0x030000\n"); -EINVAL when it holds something else. */
int host_read_hex(const char *root, const char *path, unsigned long *ret);

/* The target of the link at path (its directories resolved inside the root). -EINVAL when it is
 * not a link. */
int host_readlink(const char *root, const char *path, char **ret);
/* The last component of the link's target: "vfio-pci" for a driver link, "14" for an
 * iommu_group link. */
int host_link_basename(const char *root, const char *path, char **ret);

/* The names in a directory, sorted, without "." and "..", NULL-terminated. -errno. */
int host_list_dir(const char *root, const char *path, char ***ret);

/* --- users and groups, from <root>/etc/passwd and <root>/etc/group (never NSS) --- */

typedef struct HostUser {
        char *name;
        uid_t uid;
        gid_t gid;
        char *home;
} HostUser;

/* -ENOENT when the name or id is not listed (or the file is missing). */
int host_user_by_name(const char *root, const char *name, HostUser *ret);
int host_user_by_uid(const char *root, uid_t uid, HostUser *ret);
void host_user_clear(HostUser *u);
int host_group_by_name(const char *root, const char *name, gid_t *ret);
int host_group_by_gid(const char *root, gid_t gid, char **ret_name);
/* The user or group name of an id, or the id as a number when it is not listed. NULL on ENOMEM. */
char *host_uid_to_name(const char *root, uid_t uid);
char *host_gid_to_name(const char *root, gid_t gid);

/* --- device nodes ---
 * Facts about nodes that a git fixture cannot hold (character devices, owners, ACLs) come
 * through these hooks; NULL hooks (or a NULL HostOps) mean the real lstat(2) and lgetxattr(2) of
 * the path under the root. path is the host path ("/dev/kvmfr0"), not joined with the root. */
typedef struct HostOps {
        int (*lstat)(const char *root, const char *path, struct stat *ret, void *userdata);
        /* Like lgetxattr(2) but returns -errno; size 0 asks for the size. */
        ssize_t (*getxattr)(const char *root, const char *path, const char *name, void *buf, size_t size,
                            void *userdata);
        void *userdata;
} HostOps;

int host_ops_lstat(const HostOps *ops, const char *root, const char *path, struct stat *ret);
/* The whole value of an extended attribute, in a malloc'd buffer. -ENODATA when absent. */
int host_ops_getxattr(const HostOps *ops, const char *root, const char *path, const char *name, void **ret,
                      size_t *ret_size);
