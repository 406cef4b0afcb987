#include "virtiofsd-checks.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host-files.h"
#include "ivshmem-construct.h"
#include "kvmfr-checks.h"
#include "spawn.h"
#include "util.h"
#include "virtiofs-shares.h"

/* How much of a binary is searched for its vm-memory crate (virtiofsd is ~5 MiB). */
#define BINARY_SCAN_MAX (64u * 1024u * 1024u)

void virtiofsd_facts_clear(VirtiofsdFacts *f) {
        if (!f)
                return;
        free(f->binary);
        free(f->resolved);
        free(f->version);
        free(f->version_error);
        free(f->vm_memory);
        strv_free(f->running);
        free(f->unreadable);
        strv_free(f->started_as);
        *f = (VirtiofsdFacts) { 0 };
}

char *virtiofsd_parse_version(const char *output) {
        /* The first word that starts with a digit and has a dot. */
        for (const char *p = output; p && *p;) {
                p += strspn(p, " \t\r\n");
                size_t len = strcspn(p, " \t\r\n");
                if (len > 0 && len < 64 && p[0] >= '0' && p[0] <= '9' && memchr(p, '.', len))
                        return strndup(p, len);
                p += len;
        }
        return NULL;
}

int virtiofsd_version_cmp(const char *a, const char *b) {
        while (a && b && (*a || *b)) {
                if ((*a == '-' || *a == '+' || !*a) && (*b == '-' || *b == '+' || !*b))
                        return 0;
                unsigned long x = strtoul(a, (char **) &a, 10), y = strtoul(b, (char **) &b, 10);
                if (x != y)
                        return x < y ? -1 : 1;
                if (*a == '.')
                        a++;
                if (*b == '.')
                        b++;
                if ((*a < '0' || *a > '9') && (*b >= '0' && *b <= '9'))
                        return -1;
                if ((*b < '0' || *b > '9') && (*a >= '0' && *a <= '9'))
                        return 1;
        }
        return 0;
}

char *virtiofsd_vm_memory_from_bytes(const char *data, size_t size) {
        static const char key[] = "vm-memory-";
        char *best = NULL;
        for (const char *p = data; p && (size_t) (p - data) + sizeof(key) < size;) {
                const char *hit = memmem(p, size - (size_t) (p - data), key, sizeof(key) - 1);
                if (!hit)
                        break;
                const char *v = hit + sizeof(key) - 1;
                size_t len = 0;
                while ((size_t) (v - data) + len < size && len < 32 &&
                       ((v[len] >= '0' && v[len] <= '9') || v[len] == '.'))
                        len++;
                while (len > 0 && v[len - 1] == '.')
                        len--;
                if (len > 0 && v[0] >= '0' && v[0] <= '9' && memchr(v, '.', len)) {
                        char *cand = strndup(v, len);
                        if (cand && (!best || virtiofsd_version_cmp(cand, best) > 0)) {
                                free(best);
                                best = cand;
                        } else
                                free(cand);
                }
                p = hit + 1;
        }
        return best;
}

static char *vm_memory_of_file(const char *full) {
        int fd = open(full, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return NULL;
        char *best = NULL;
        static const size_t chunk = 1024 * 1024, overlap = 64;
        char *buf = malloc(chunk + overlap);
        size_t have = 0, total = 0;
        while (buf && total < BINARY_SCAN_MAX) {
                ssize_t n = read(fd, buf + have, chunk);
                if (n <= 0)
                        break;
                total += (size_t) n;
                have += (size_t) n;
                char *v = virtiofsd_vm_memory_from_bytes(buf, have);
                if (v && (!best || virtiofsd_version_cmp(v, best) > 0)) {
                        free(best);
                        best = v;
                } else
                        free(v);
                /* Keep the tail, so a name across two reads is still found. */
                size_t keep = have < overlap ? have : overlap;
                memmove(buf, buf + have - keep, keep);
                have = keep;
        }
        free(buf);
        close(fd);
        return best;
}

/* The exe of each running virtiofsd serving one of the shares, root-relative. */
static int strv_add(char ***l, const char *s) {
        size_t n = strv_length(*l);
        char **grown = realloc(*l, (n + 2) * sizeof(char *));
        if (!grown)
                return -ENOMEM;
        *l = grown;
        grown[n + 1] = NULL;
        return (grown[n] = strdup(s)) ? 0 : -ENOMEM;
}

/* Its start in clock ticks after boot is the 22nd field of /proc/PID/stat, counted after the
 * command name in parentheses (which may hold spaces and parentheses itself). */
uint64_t virtiofsd_process_start(const char *root, const char *pid) {
        _cleanup_free_ char *path = NULL, *stat = NULL, *procstat = NULL;
        if (asprintf(&path, "/proc/%s/stat", pid) < 0 || host_read_file(root, path, 0, &stat) < 0 ||
            host_read_file(root, "/proc/stat", 0, &procstat) < 0)
                return 0;
        const char *btime = strstr(procstat, "\nbtime ");
        const char *p = strrchr(stat, ')');
        if (!btime || !p)
                return 0;
        unsigned long long ticks = 0;
        /* After ')': state (field 3) ... starttime (field 22), so 20 fields on. */
        for (int field = 3; field <= 22 && p; field++) {
                p = strchr(p + 1, ' ');
                if (p && field == 22)
                        ticks = strtoull(p + 1, NULL, 10);
        }
        long hz = sysconf(_SC_CLK_TCK);
        unsigned long long boot = strtoull(btime + strlen("\nbtime "), NULL, 10);
        return p && hz > 0 && boot > 0 ? boot + ticks / (unsigned long long) hz : 0;
}

/* The ctime of the file PATH leads to: a package upgrade or a NixOS rebuild that changes
 * virtiofsd gives a new file. Not the links on the way: a NixOS rebuild makes them anew even when
 * virtiofsd stays the same store file. 0 unknown. */
static uint64_t binary_changed(const char *root, const char *path) {
        struct stat file;
        return host_stat(root, path, true, &file) < 0 ? 0 : (uint64_t) file.st_ctime;
}

static int running_exes(const char *root, const VirtiofsShares *s, char ***ret, char **ret_unreadable,
                        char ***ret_started_as, uint64_t *ret_first_unreadable_start) {
        _cleanup_(strv_freep) char **pids = NULL;
        size_t n = 0;
        char **out = calloc(1, sizeof(char *));
        if (!out)
                return -ENOMEM;
        int r = virtiofs_running_pids(root, s, &pids);
        _cleanup_free_ char *prefix = host_root_is_host(root) ? strdup("") : strdup(root);
        if (prefix)
                while (*prefix && prefix[strlen(prefix) - 1] == '/')
                        prefix[strlen(prefix) - 1] = '\0';
        for (char **p = pids; r >= 0 && p && *p; p++) {
                _cleanup_free_ char *path = NULL, *exe = NULL;
                if (asprintf(&path, "/proc/%s/exe", *p) < 0)
                        return strv_free(out), -ENOMEM;
                int k = host_readlink(root, path, &exe);
                if (k < 0) {
                        /* Its command line is readable: argv[0] is the path libvirt started. */
                        _cleanup_free_ char *cl_path = NULL, *cmdline = NULL;
                        if (!*ret_unreadable && asprintf(ret_unreadable, "%s: %s", path, strerror(-k)) < 0)
                                *ret_unreadable = NULL;
                        uint64_t start = virtiofsd_process_start(root, *p);
                        if (start > 0 && (*ret_first_unreadable_start == 0 || start < *ret_first_unreadable_start))
                                *ret_first_unreadable_start = start;
                        if (asprintf(&cl_path, "/proc/%s/cmdline", *p) >= 0 &&
                            host_read_file(root, cl_path, 0, &cmdline) == 0 && cmdline[0] == '/' &&
                            strv_add(ret_started_as, cmdline) < 0)
                                return strv_free(out), -ENOMEM;
                        continue;
                }
                /* The kernel names the host's path: inside a stand-in root, drop the root. */
                const char *rel = exe;
                if (prefix && *prefix && strncmp(exe, prefix, strlen(prefix)) == 0 && exe[strlen(prefix)] == '/')
                        rel += strlen(prefix);
                char **grown = realloc(out, (n + 2) * sizeof(char *));
                if (!grown)
                        return strv_free(out), -ENOMEM;
                out = grown;
                if (!(out[n] = strdup(rel)))
                        return strv_free(out), -ENOMEM;
                out[++n] = NULL;
        }
        *ret = out;
        return 0;
}

int virtiofsd_facts_read(const char *root, const char *domain_xml, char *const *allowed, VirtiofsdFacts *ret) {
        VirtiofsdFacts f = { 0 };
        VirtiofsShares s;
        int r = virtiofs_shares_from_xml(domain_xml, &s);
        if (r < 0)
                return r;
        KvmfrIvshmem iv;
        if (kvmfr_ivshmem_from_xml(domain_xml, &iv) == 0) {
                f.ivshmem_kvmfr = iv.kind == KVMFR_IVSHMEM_COMMANDLINE && ivshmem_device_valid(iv.mem_path);
                kvmfr_ivshmem_clear(&iv);
        }
        f.has_shares = s.n > 0;
        for (size_t i = 0; i < s.n && !f.binary; i++)
                if (s.items[i].binary && !(f.binary = strdup(s.items[i].binary)))
                        r = -ENOMEM;
        if (r == 0 && f.binary && f.binary[0] == '/') {
                _cleanup_free_ char *full = NULL;
                if (host_resolve(root, f.binary, true, &full) == 0) {
                        size_t plen = host_root_is_host(root) ? 0 : strlen(root);
                        while (plen > 0 && root[plen - 1] == '/')
                                plen--;
                        f.resolved = strdup(full + (strncmp(full, root ? root : "", plen) == 0 ? plen : 0));
                        if (!strv_contains(allowed, f.binary)) {
                                if (asprintf(&f.version_error, "not run: it is not in [Virtiofs] AllowedBinaries") < 0)
                                        f.version_error = NULL;
                        } else if (host_is_executable(root, f.binary)) {
                                /* timeout(1) kills a binary that hangs, and its process group. */
                                const char *argv[] = { "timeout", "--kill-after=2", "5", full, "--version", NULL };
                                _cleanup_free_ char *out = NULL, *err = NULL;
                                if (spawn_sync_files_only(argv, &out, &err) == 0) {
                                        f.version = virtiofsd_parse_version(out);
                                        if (!f.version)
                                                f.version_error = strdup("its --version printed no version");
                                } else if (asprintf(&f.version_error, "%s --version failed: %s", f.binary,
                                                    err && *err ? err : "no output") < 0)
                                        f.version_error = NULL;
                                f.vm_memory = vm_memory_of_file(full);
                        }
                }
                if (!f.version && !f.version_error)
                        f.version_error = strdup("it is not an executable file");
        }
        if (r == 0 && !(f.started_as = calloc(1, sizeof(char *))))
                r = -ENOMEM;
        if (r == 0)
                r = running_exes(root, &s, &f.running, &f.unreadable, &f.started_as, &f.first_unreadable_start);
        if (r == 0 && f.unreadable && f.binary && f.binary[0] == '/')
                f.binary_changed = binary_changed(root, f.binary);
        virtiofs_shares_clear(&s);
        if (r < 0) {
                virtiofsd_facts_clear(&f);
                return r;
        }
        *ret = f;
        return 0;
}

#define VERSION_ID "vm.virtiofsd-version"
#define RUNNING_ID "vm.virtiofsd-running"

static int check_version(const VirtiofsdFacts *f, CheckList *l) {
        if (!f->has_shares)
                return check_list_add(l, VERSION_ID, CHECK_OK, NULL, "The domain has no virtiofs share");
        if (!f->binary)
                return check_list_add(l, VERSION_ID, CHECK_SKIPPED, NULL,
                                      "The shares name no <binary path>: libvirt picks virtiofsd itself");
        if (!f->version)
                return check_list_add(l, VERSION_ID, CHECK_SKIPPED, NULL, "virtiofsd %s: %s (see vm.virtiofsd)",
                                      f->binary, f->version_error ? f->version_error : "its version is unknown");
        _cleanup_free_ char *built = NULL;
        if (f->vm_memory && asprintf(&built, ", built with vm-memory %s", f->vm_memory) < 0)
                return -ENOMEM;
        if (!f->ivshmem_kvmfr)
                return check_list_add(l, VERSION_ID, CHECK_OK, NULL, "virtiofsd %s is version %s%s", f->binary,
                                      f->version, built ? built : "");
        static const char remedy[] =
                "Use the Looking Glass-compatible virtiofsd (" VIRTIOFSD_LG_VERSION " with vm-memory "
                VIRTIOFSD_LG_VM_MEMORY " or later: the seed's overlay builds github.com/ELginas/virtiofsd; NixOS: "
                "nixpkgs.overlays in the system configuration, then nixos-rebuild switch), list it in [Virtiofs] "
                "AllowedBinaries, then winvmctl doctor --fix vm.virtiofsd and restart the guest";
        bool old = virtiofsd_version_cmp(f->version, VIRTIOFSD_LG_VERSION) < 0;
        bool old_memory = f->vm_memory && virtiofsd_version_cmp(f->vm_memory, VIRTIOFSD_LG_VM_MEMORY) < 0;
        if (old || old_memory)
                return check_list_add(l, VERSION_ID, CHECK_FAIL, remedy,
                                      "virtiofsd %s is version %s%s, but the guest maps /dev/kvmfr through IVSHMEM: "
                                      "vm-memory before %s fails vhost_set_mem_table (Input/output error) and the "
                                      "share never appears",
                                      f->binary, f->version, built ? built : "", VIRTIOFSD_LG_VM_MEMORY);
        if (f->vm_memory)
                return check_list_add(l, VERSION_ID, CHECK_OK, NULL,
                                      "virtiofsd %s is version %s%s: it maps the guest's IVSHMEM memory", f->binary,
                                      f->version, built);
        /* No crate path in the binary (stripped): the seed's build names itself in its version. */
        if (strstr(f->version, "-dev") || strstr(f->version, "looking-glass"))
                return check_list_add(l, VERSION_ID, CHECK_OK, NULL,
                                      "virtiofsd %s is version %s, the Looking Glass-compatible build of the seed",
                                      f->binary, f->version);
        return check_list_add(l, VERSION_ID, CHECK_WARN, remedy,
                              "virtiofsd %s is version %s, and which vm-memory it was built with cannot be told; "
                              "with IVSHMEM on /dev/kvmfr it needs vm-memory %s or later",
                              f->binary, f->version, VIRTIOFSD_LG_VM_MEMORY);
}

/* The remedy for a virtiofsd that is not the configured one: a restart of the VM; with
 * libvirtd too when a cached old binary could outlive that restart. NULL when out of memory. */
static char *restart_remedy(const char *vm, const char *binary, bool libvirtd_too) {
        char *remedy = NULL;
        if (asprintf(&remedy,
                     "Shut %s down and start it again (winvmctl shutdown, then winvmctl start): libvirt then starts "
                     "the configured %s%s",
                     vm, binary, libvirtd_too ? "; if it still runs the old one, restart libvirtd first" : "") < 0)
                return NULL;
        return remedy;
}

static int check_running(const VirtiofsdFacts *f, const char *vm, CheckList *l) {
        if (!f->has_shares)
                return check_list_add(l, RUNNING_ID, CHECK_OK, NULL, "The domain has no virtiofs share");
        for (char **a = f->started_as; a && *a && f->binary; a++)
                if (strcmp(*a, f->binary) != 0) {
                        _cleanup_free_ char *remedy = restart_remedy(vm, f->binary, false);
                        if (!remedy)
                                return -ENOMEM;
                        return check_list_add(l, RUNNING_ID, CHECK_WARN, remedy,
                                              "The virtiofsd serving %s was started as %s, not the configured %s",
                                              vm, *a, f->binary);
                }
        /* winvmd may not read the exe of a process with capabilities it lacks (that takes
         * CAP_SYS_PTRACE), but it started as the configured path: if the file that path leads to
         * is older than the process, the process runs that file. */
        if ((!f->running || !*f->running) && f->unreadable && f->binary && f->first_unreadable_start > 0 &&
            f->binary_changed > 0) {
                if (f->binary_changed < f->first_unreadable_start)
                        return check_list_add(l, RUNNING_ID, CHECK_OK, NULL,
                                              "The virtiofsd serving %s was started as the configured %s, which has "
                                              "not changed since",
                                              vm, f->binary);
                _cleanup_free_ char *remedy = restart_remedy(vm, f->binary, true);
                if (!remedy)
                        return -ENOMEM;
                return check_list_add(l, RUNNING_ID, CHECK_WARN, remedy,
                                      "The virtiofsd serving %s runs an old %s: the file it leads to changed after it "
                                      "started",
                                      vm, f->binary);
        }
        if ((!f->running || !*f->running) && f->unreadable)
                return check_list_add(l, RUNNING_ID, CHECK_SKIPPED, NULL,
                                      "A virtiofsd runs for %s's shares, started as the configured path, but which "
                                      "binary it executes cannot be read (%s)",
                                      vm, f->unreadable);
        if (!f->running || !*f->running)
                return check_list_add(l, RUNNING_ID, CHECK_OK, NULL, "No virtiofsd runs for %s's shares", vm);
        if (!f->resolved)
                return check_list_add(l, RUNNING_ID, CHECK_SKIPPED, NULL,
                                      "A virtiofsd runs for %s (%s), but the configured one is not known", vm,
                                      f->running[0]);
        _cleanup_free_ char *remedy = restart_remedy(vm, f->binary, true);
        if (!remedy)
                return -ENOMEM;
        static const char deleted[] = " (deleted)";
        for (char **e = f->running; *e; e++) {
                size_t len = strlen(*e), dl = strlen(deleted);
                bool gone = len > dl && strcmp(*e + len - dl, deleted) == 0;
                if (gone && strncmp(*e, f->resolved, len - dl) == 0 && strlen(f->resolved) == len - dl)
                        return check_list_add(l, RUNNING_ID, CHECK_WARN, remedy,
                                              "The virtiofsd serving %s runs an old %s: the file was replaced since "
                                              "it started",
                                              vm, f->binary);
                if (strcmp(*e, f->resolved) != 0)
                        return check_list_add(l, RUNNING_ID, CHECK_WARN, remedy,
                                              "The virtiofsd serving %s runs %s, not the configured %s (%s)", vm, *e,
                                              f->binary, f->resolved);
        }
        return check_list_add(l, RUNNING_ID, CHECK_OK, NULL, "The virtiofsd serving %s runs the configured %s", vm,
                              f->binary);
}

int virtiofsd_checks(const VirtiofsdFacts *f, const char *vm, CheckList *l) {
        int r = check_version(f, l);
        return r < 0 ? r : check_running(f, vm ? vm : "the VM", l);
}
