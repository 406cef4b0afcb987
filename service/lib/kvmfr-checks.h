/* Looking Glass's kvmfr module: its configuration, the state of a host read through a root
 * prefix (see host-files.h), the files that configure it, and cross-checks with the domain XML.
 *
 * State read: <root>/sys/module/kvmfr (loaded), <root>/sys/module/kvmfr/parameters/static_size_mb,
 * the modprobe options file, /dev/kvmfrN (through HostOps: a git fixture cannot hold a character
 * device, so tests pass its facts in), its system.posix_acl_access, and <root>/etc/passwd and
 * <root>/etc/group for names. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "checks.h"
#include "host-files.h"

#define KVMFR_DEFAULT_WIDTH 3840u
#define KVMFR_DEFAULT_HEIGHT 2160u
#define KVMFR_DEFAULT_GROUP "kvm"
#define KVMFR_DEFAULT_MODE 0660u
#define KVMFR_DEFAULT_DEVICE "/dev/kvmfr0"
#define KVMFR_DEFAULT_UDEV_RULE_PATH "/etc/udev/rules.d/99-kvmfr.rules"
#define KVMFR_DEFAULT_MODPROBE_PATH "/etc/modprobe.d/kvmfr.conf"
#define KVMFR_DEFAULT_QEMU_CONF "/etc/libvirt/qemu.conf"

typedef struct KvmfrConfig {
        unsigned width, height; /* the Looking Glass resolution */
        bool hdr;
        const char *owner;      /* device owner user; NULL: none (root keeps it) */
        const char *group;      /* device group; NULL: KVMFR_DEFAULT_GROUP */
        unsigned mode;          /* permission bits, e.g. 0660 */
        const char *device;     /* the device the guest uses; NULL: KVMFR_DEFAULT_DEVICE */
        const char *udev_rule_path;     /* NULL: the defaults above */
        const char *modprobe_path;
        const char *qemu_conf_path;
} KvmfrConfig;

/* Fills in every default (owner none, group kvm, mode 0660, 3840x2160 SDR). */
void kvmfr_config_init(KvmfrConfig *c);

/* The shared memory Looking Glass needs: width * height * (hdr ? 8 : 4) * 2 bytes in MiB,
 * plus 10 MiB, rounded up to a power of two. 1080p 32, 1440p 64, 2160p 128; HDR doubles.
 * 0 when the result would not fit in 32 bits. */
unsigned kvmfr_required_size_mib(unsigned width, unsigned height, bool hdr);

/* A parsed POSIX ACL entry, in getfacl's text form: "user::rw-", "user:jarrett:rw-",
 * "group::rw-", "mask::rw-", "other::---". */
typedef struct KvmfrDevice {
        char *path;             /* host path: /dev/kvmfr0 */
        bool exists;
        bool is_char;           /* a character device (a regular file means QEMU created it) */
        unsigned major, minor;
        uid_t uid;
        gid_t gid;
        char *owner;            /* names from <root>/etc/passwd and group, or the number */
        char *group;
        unsigned mode;          /* permission bits */
        char **acl;             /* NULL-terminated, empty when the node has no ACL */
        char *acl_error;        /* why the ACL could not be read, or NULL */
} KvmfrDevice;

typedef struct KvmfrState {
        bool loaded;
        unsigned *static_sizes_mib;     /* of the loaded module, one per device */
        size_t n_static_sizes;
        unsigned *configured_sizes_mib; /* from `options kvmfr static_size_mb=` in the modprobe file */
        size_t n_configured_sizes;
        KvmfrDevice *devices;   /* the configured device first, then /dev/kvmfrN for each size, then
                                 * any other /dev/kvmfr* found */
        size_t n_devices;
} KvmfrState;

/* Reads the host. ops NULL: the real lstat/lgetxattr under the root. -ENOMEM or -EINVAL for a
 * bad config; missing files are facts, not errors. */
int kvmfr_state_read(const char *root, const KvmfrConfig *c, const HostOps *ops, KvmfrState *ret);
void kvmfr_state_clear(KvmfrState *s);

/* Parses "128" or "128,64" into sizes; -EINVAL on anything else (empty gives 0 sizes). */
int kvmfr_parse_sizes(const char *text, unsigned **ret, size_t *ret_n);

/* Decodes a system.posix_acl_access value (version 2, little-endian entries of tag, perm, id)
 * into getfacl text entries; names from <root>/etc/passwd and group. -EINVAL when malformed. */
int kvmfr_acl_decode(const char *root, const void *value, size_t size, char ***ret);

/* The udev rule line for the config:
 *   SUBSYSTEM=="kvmfr", OWNER="jarrett", GROUP="kvm", MODE="0660"
 * (OWNER left out when there is none), with a trailing newline. -EINVAL for a name that is
 * empty or holds quotes, spaces, commas, backslashes or control characters. */
int kvmfr_udev_rule(const KvmfrConfig *c, char **ret);
/* Whether NixOS makes the rule and the options on this host (<root>/etc/NIXOS exists): its /etc
 * is built from the system configuration, so winvmd must not write them there. */
bool kvmfr_managed_by_nixos(const char *root);
/* Where a NixOS host's owner of the kvmfr settings changes them (nix/module.nix). */
#define KVMFR_NIXOS_OPTIONS "services.winvm.kvmfr (resolution, hdr, owner, group, mode) and services.winvm.users"

/* "options kvmfr static_size_mb=128\n" (a comma list for several). -EINVAL for n == 0 or 0 sizes. */
int kvmfr_modprobe_options(const unsigned *sizes_mib, size_t n, char **ret);

/* The IVSHMEM device of a domain XML: the ivshmem-plain device's memory-backend-file from
 * <qemu:commandline> (QEMU's JSON form, as in the seed, or the key=value form), or libvirt's
 * <shmem> element. */
typedef enum KvmfrIvshmemKind {
        KVMFR_IVSHMEM_NONE,
        KVMFR_IVSHMEM_COMMANDLINE,      /* -object memory-backend-file + -device ivshmem-plain */
        KVMFR_IVSHMEM_SHMEM,            /* <shmem>: a /dev/shm file libvirt makes, not kvmfr */
} KvmfrIvshmemKind;

typedef struct KvmfrIvshmem {
        KvmfrIvshmemKind kind;
        char *backend_id;       /* memory-backend-file id, or the <shmem name> */
        char *mem_path;         /* mem-path; NULL for <shmem> */
        unsigned long long size;/* bytes, 0 when not given */
        bool share;
} KvmfrIvshmem;

/* -EINVAL when the XML does not parse; kind NONE when there is no IVSHMEM device. */
int kvmfr_ivshmem_from_xml(const char *domain_xml, KvmfrIvshmem *ret);
void kvmfr_ivshmem_clear(KvmfrIvshmem *i);

/* The entries of an uncommented cgroup_device_acl = [ ... ] in qemu.conf text, NULL-terminated;
 * -ENOENT when the setting is absent (libvirt's default list, which has no kvmfr device). */
int kvmfr_qemu_conf_device_acl(const char *text, char ***ret);

/* Adds kvmfr.loaded, kvmfr.size, kvmfr.device, kvmfr.permissions, kvmfr.cgroup-acl, and when
 * domain_xml is given (else skipped) kvmfr.ivshmem-path and kvmfr.ivshmem-size. root is used for
 * qemu.conf. */
int kvmfr_checks(const char *root, const KvmfrConfig *c, const KvmfrState *s, const char *domain_xml,
                 CheckList *l);
