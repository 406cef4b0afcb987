/* virtiofs sharing, the pure part: the guest's virtiofs <filesystem> shares, the virtiofsd
 * binary they use, whether a virtiofsd serves each (from /proc through a root prefix), the
 * shared-memory backing virtiofs needs, and the edit that points every share at another
 * binary. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "checks.h"

typedef struct VirtiofsShare {
        char *source;           /* <source dir> */
        char *tag;              /* <target dir>, the mount tag the guest sees */
        char *binary;           /* <binary path>, NULL when libvirt's default is used */
        bool running;           /* a virtiofsd process serves this source */
} VirtiofsShare;

typedef struct VirtiofsShares {
        VirtiofsShare *items;
        size_t n;
        bool shared_memory;     /* <memoryBacking> has <access mode='shared'/> */
        char *memory_source;    /* <memoryBacking><source type>, NULL when unset */
} VirtiofsShares;

/* The shares of a domain definition. -EINVAL when it does not parse. running stays false. */
int virtiofs_shares_from_xml(const char *domain_xml, VirtiofsShares *ret);
void virtiofs_shares_clear(VirtiofsShares *s);

/* Marks the shares a running virtiofsd serves, from <root>/proc/<pid>/cmdline. */
int virtiofs_shares_mark_running(const char *root, VirtiofsShares *s);

/* The pids (as text, NULL-terminated) of the running virtiofsd processes that serve one of the
 * shares, from <root>/proc/<pid>/cmdline. 0, or -errno when /proc cannot be listed. */
int virtiofs_running_pids(const char *root, const VirtiofsShares *s, char ***ret);

/* 1 when path is one of the allowed binaries (exact match), else 0. */
bool virtiofs_binary_allowed(char *const *allowed, const char *path);

/* A copy of domain_xml whose virtiofs shares all use binary; -ENOENT when it has none. */
int virtiofs_set_binary(const char *domain_xml, const char *binary, char **ret_xml);

/* virtiofs.shared-memory alone (nothing when the guest has no shares): what the doctor adds. */
int virtiofs_check_shared_memory(const VirtiofsShares *s, CheckList *out);

/* virtiofs.shared-memory, and per share virtiofs.binary.<tag>: the binary is allowed and
 * executable under root. Appends to out. */
int virtiofs_checks(const char *root, const VirtiofsShares *s, char *const *allowed, CheckList *out);
