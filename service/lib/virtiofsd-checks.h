/* The virtiofsd a VM's shares run, as in the seed's incident: upstream virtiofsd (vm-memory
 * 0.16) fails `vhost_set_mem_table` when the guest also maps Looking Glass's /dev/kvmfr0 through
 * IVSHMEM; the Looking Glass-compatible build is 1.13.2 with vm-memory 0.17 or later. And after
 * a rebuild, a running virtiofsd may still be the old binary, which a restart of the VM (or of
 * libvirtd) replaces.
 *
 * virtiofsd_facts_read() runs the binary (`--version`, on a worker: it spawns) and reads
 * /proc through the root prefix; virtiofsd_checks() is pure. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "checks.h"

/* The build the seed needs with IVSHMEM on kvmfr. */
#define VIRTIOFSD_LG_VERSION "1.13.2"
#define VIRTIOFSD_LG_VM_MEMORY "0.17"

typedef struct VirtiofsdFacts {
        char *binary;           /* the <binary path> of the VM's shares; NULL: none named */
        char *resolved;         /* it, every link resolved inside the root (root-relative) */
        char *version;          /* "1.13.2-dev" from `virtiofsd --version`; NULL when it did not run */
        char *version_error;    /* why not */
        char *vm_memory;        /* "0.17.1": the vm-memory crate its code names; NULL unknown */
        bool has_shares;
        bool ivshmem_kvmfr;     /* the definition maps a /dev/kvmfrN through IVSHMEM */
        char **running;         /* the exe (root-relative, maybe " (deleted)") of each running
                                 * virtiofsd serving one of the VM's shares; NULL-terminated */
        char *unreadable;       /* "/proc/PID/exe: why" of one whose binary could not be read
                                 * (a process with capabilities winvmd lacks: reading its exe
                                 * needs CAP_SYS_PTRACE, which winvmd's unit does not give);
                                 * NULL: none */
        char **started_as;      /* for those, argv[0] from /proc/PID/cmdline: the <binary path>
                                 * libvirt started it with; NULL-terminated */
        uint64_t first_unreadable_start; /* when the earliest of those started (Unix seconds,
                                          * /proc/PID/stat and /proc/stat's btime); 0: unknown */
        uint64_t binary_changed;         /* the ctime of the file the configured path leads to;
                                          * 0: unknown */
} VirtiofsdFacts;

/* Reads the facts for a domain definition. Runs `<root><binary> --version` (at most 5 s, with
 * the capabilities of file access only) and reads the binary, but only a binary in allowed
 * ([Virtiofs] AllowedBinaries): root runs nothing else a definition names. 0 or -ENOMEM;
 * -EINVAL when the XML does not parse. */
int virtiofsd_facts_read(const char *root, const char *domain_xml, char *const *allowed, VirtiofsdFacts *ret);
void virtiofsd_facts_clear(VirtiofsdFacts *f);

/* When process PID (a decimal string) started, in Unix seconds, from <root>/proc; 0 unknown. */
uint64_t virtiofsd_process_start(const char *root, const char *pid);

/* "virtiofsd 1.13.2-dev" or "virtiofsd backend 1.10.1" -> "1.13.2-dev"; NULL when no version. */
char *virtiofsd_parse_version(const char *output);
/* Compares dotted versions numerically, ignoring a -suffix: <0, 0, >0. */
int virtiofsd_version_cmp(const char *a, const char *b);
/* The newest "vm-memory-X.Y.Z" a binary's bytes name (Rust keeps its crates' source paths for
 * panic messages); NULL when none. */
char *virtiofsd_vm_memory_from_bytes(const char *data, size_t size);

/* Adds vm.virtiofsd-version and vm.virtiofsd-running. */
int virtiofsd_checks(const VirtiofsdFacts *f, const char *vm, CheckList *l);
