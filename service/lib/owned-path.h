/* A path on the host resolved the way root must resolve a path a user wrote: from /, one
 * component at a time, never following a symbolic link (a link anywhere on the way is
 * refused, as openat2's RESOLVE_NO_SYMLINKS would), and checked for who owns it and who may
 * write the folders it sits in. Blocking: worker threads only. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct OwnedPathRule {
        const uid_t *owners;    /* who may own the object (and the trusted folders) */
        size_t n_owners;
        bool directory;         /* the object is a folder; else a regular file with one link */
        /* From this folder down to the object's folder, every folder must be owned by one of
         * owners and writable by nobody else (no group or other write), so nobody else can swap
         * what the path names after the check. NULL: no such folder. */
        const char *trusted_top;
} OwnedPathRule;

/* 0 with *ret_fd an O_PATH descriptor of the object (may be NULL); -ELOOP (a link on the way),
 * -EPERM (owner, mode, kind), -EINVAL (not a plain absolute path) or another -errno, each with
 * *why saying what and where. */
int owned_path_open(const char *path, const OwnedPathRule *rule, int *ret_fd, char **why);
