/* Fuzzes the parsers of host text in service/lib/vfio-checks.c, kvmfr-checks.c and host-files.c:
 * the kernel command line, PCI id lists, kvmfr's static_size_mb, qemu.conf's cgroup_device_acl,
 * POSIX ACL xattrs, and (through files in a scratch root) the modprobe options file, the loaded
 * module's parameter, /etc/passwd, /etc/group and /proc/cpuinfo. Every parser gets the same
 * input; the seeds are one of each format.
 *
 * Checks: a later command line parameter wins over an earlier one and an earlier one never
 * over a later one; parsed PCI ids are valid, lowercase, and parse again from their list;
 * parsed sizes round-trip through kvmfr_modprobe_options(); decoded ACL entries have getfacl's
 * form; reading the host never fails on odd files and gives well-formed checks. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fuzz-checks.h"
#include "fuzz-common.h"
#include "host-files.h"
#include "kvmfr-checks.h"
#include "util.h"
#include "vfio-checks.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The scratch root, made once: the input is written into its files for each run. */
static char root[4096];
static const char *const root_files[] = {
        "/proc/cmdline",
        "/proc/cpuinfo",
        "/etc/modprobe.d/kvmfr.conf",
        "/etc/libvirt/qemu.conf",
        "/etc/passwd",
        "/etc/group",
        "/sys/module/kvmfr/parameters/static_size_mb",
};

static void cleanup_root(void) {
        for (size_t i = 0; i < ELEMENTSOF(root_files); i++) {
                char path[4200];
                snprintf(path, sizeof(path), "%s%s", root, root_files[i]);
                unlink(path);
        }
        static const char *const dirs[] = { "/sys/module/kvmfr/parameters", "/sys/module/kvmfr", "/sys/module",
                                            "/sys", "/etc/modprobe.d", "/etc/libvirt", "/etc", "/proc", "" };
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                char path[4200];
                snprintf(path, sizeof(path), "%s%s", root, dirs[i]);
                rmdir(path);
        }
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        const char *tmp = getenv("TMPDIR");
        snprintf(root, sizeof(root), "%s/winvm-fuzz-host.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(root))
                abort();
        static const char *const dirs[] = { "/proc", "/etc", "/etc/modprobe.d", "/etc/libvirt", "/sys", "/sys/module",
                                            "/sys/module/kvmfr", "/sys/module/kvmfr/parameters" };
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                char path[4200];
                snprintf(path, sizeof(path), "%s%s", root, dirs[i]);
                if (mkdir(path, 0755) < 0)
                        abort();
        }
        atexit(cleanup_root);
        return 0;
}

static void write_root_files(const uint8_t *data, size_t size) {
        for (size_t i = 0; i < ELEMENTSOF(root_files); i++) {
                char path[4200];
                snprintf(path, sizeof(path), "%s%s", root, root_files[i]);
                int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (fd < 0 || (size && write(fd, data, size) != (ssize_t) size))
                        abort();
                close(fd);
        }
}

/* /dev/kvmfr0 is a character device of jarrett's with the input as its ACL xattr. */
typedef struct Fake {
        const uint8_t *data;
        size_t size;
} Fake;

static int fake_lstat(const char *r, const char *path, struct stat *ret, void *userdata) {
        if (strcmp(path, "/dev/kvmfr0") != 0)
                return -ENOENT;
        *ret = (struct stat) { .st_mode = S_IFCHR | 0660, .st_uid = 1000, .st_gid = 78, .st_rdev = makedev(242, 0) };
        return 0;
}

static ssize_t fake_getxattr(const char *r, const char *path, const char *name, void *buf, size_t size, void *userdata) {
        const Fake *f = userdata;
        if (strcmp(path, "/dev/kvmfr0") != 0 || strcmp(name, "system.posix_acl_access") != 0)
                return -ENODATA;
        if (size == 0)
                return (ssize_t) f->size;
        if (size < f->size)
                return -ERANGE;
        memcpy(buf, f->data, f->size);
        return (ssize_t) f->size;
}

static const char *const cmdline_keys[] = { "intel_iommu", "amd_iommu", "iommu", "vfio-pci.ids", "vfio_pci.ids" };

static void check_cmdline(const char *text) {
        size_t quotes = 0;
        for (const char *p = text; *p; p++)
                quotes += *p == '"';
        for (size_t i = 0; i < ELEMENTSOF(cmdline_keys); i++) {
                const char *key = cmdline_keys[i];
                char *orig = vfio_cmdline_get(text, key);

                /* An earlier occurrence does not win over the text's own. */
                char *s = NULL;
                if (asprintf(&s, "%s=fuzz %s", key, text) < 0)
                        abort();
                char *v = vfio_cmdline_get(s, key);
                fuzz_check(v && strcmp(v, orig ? orig : "fuzz") == 0, "%s in '%s': '%s', without the first word '%s'",
                           key, s, fuzz_str(v), fuzz_str(orig));
                free(v);
                free(s);

                /* A later one wins, unless "--" ends the kernel's part or a quote is left open. */
                if (quotes % 2 == 0 && !strstr(text, "--")) {
                        if (asprintf(&s, "%s %s=fuzz", text, key) < 0)
                                abort();
                        v = vfio_cmdline_get(s, key);
                        fuzz_check(v && strcmp(v, "fuzz") == 0, "%s in '%s': '%s'", key, s, fuzz_str(v));
                        free(v);
                        free(s);
                }
                free(orig);
        }
}

static void check_pci_ids(const char *text) {
        char **ids = NULL;
        int r = vfio_parse_pci_ids(text, &ids);
        if (r < 0) {
                fuzz_check(r == -EINVAL && !ids, "vfio_parse_pci_ids returned %d", r);
                return;
        }
        fuzz_check(ids && ids[0], "an empty list of PCI ids parsed");
        size_t len = 1;
        for (char **i = ids; *i; i++) {
                fuzz_check(vfio_pci_id_valid(*i) && strspn(*i, "0123456789abcdef:") == strlen(*i), "PCI id '%s'", *i);
                len += strlen(*i) + 1;
        }
        char *joined = calloc(1, len);
        for (char **i = ids; *i; i++)
                strcat(strcat(joined, *joined ? "," : ""), *i);
        char **again = NULL;
        fuzz_check(vfio_parse_pci_ids(joined, &again) == 0, "'%s' does not parse", joined);
        for (size_t k = 0; ids[k] || again[k]; k++)
                fuzz_check(ids[k] && again[k] && strcmp(ids[k], again[k]) == 0, "'%s' parsed differently", joined);
        strv_free(again);
        free(joined);
        strv_free(ids);
}

static void check_sizes(const char *text) {
        unsigned *sizes = NULL, *again = NULL;
        size_t n = 0, n_again = 0;
        int r = kvmfr_parse_sizes(text, &sizes, &n);
        if (r < 0) {
                fuzz_check(r == -EINVAL, "kvmfr_parse_sizes returned %d", r);
                return;
        }
        char *opts = NULL;
        r = kvmfr_modprobe_options(sizes, n, &opts);
        if (n == 0) {
                fuzz_check(r == -EINVAL, "options for no sizes: %d", r);
        } else {
                const char *prefix = "options kvmfr static_size_mb=";
                fuzz_check(r == 0 && strncmp(opts, prefix, strlen(prefix)) == 0 && opts[strlen(opts) - 1] == '\n',
                           "options '%s'", fuzz_str(opts));
                fuzz_check(kvmfr_parse_sizes(opts + strlen(prefix), &again, &n_again) == 0 && n_again == n &&
                           memcmp(again, sizes, n * sizeof(unsigned)) == 0,
                           "'%s' does not give back the sizes of '%s'", opts, text);
        }
        for (size_t i = 0; i < n; i++)
                fuzz_check(sizes[i] > 0, "size 0 in '%s'", text);
        free(opts);
        free(again);
        free(sizes);
}

static void check_qemu_conf(const char *text) {
        char **acl = NULL;
        int r = kvmfr_qemu_conf_device_acl(text, &acl);
        fuzz_check((r == 0 && acl) || (r == -ENOENT && !acl), "cgroup_device_acl: %d", r);
        strv_free(acl);
}

static void check_acl(const uint8_t *data, size_t size) {
        char **acl = NULL;
        int r = kvmfr_acl_decode(root, data, size, &acl);
        if (r < 0) {
                fuzz_check(r == -EINVAL && !acl, "kvmfr_acl_decode returned %d", r);
                return;
        }
        size_t n = 0;
        for (; acl[n]; n++) {
                const char *e = acl[n], *c1 = strchr(e, ':'), *c2 = c1 ? strrchr(e, ':') : NULL;
                bool kind = c1 && (((size_t) (c1 - e) == 4 && (strncmp(e, "user", 4) == 0 || strncmp(e, "mask", 4) == 0)) ||
                                   ((size_t) (c1 - e) == 5 && (strncmp(e, "group", 5) == 0 || strncmp(e, "other", 5) == 0)));
                bool perms = c2 && c2 != c1 && strlen(c2 + 1) == 3 && strchr("r-", c2[1]) && strchr("w-", c2[2]) &&
                             strchr("x-", c2[3]);
                fuzz_check(kind && perms, "ACL entry '%s'", e);
        }
        fuzz_check(n == (size - 4) / 8, "%zu entries from %zu bytes", n, size);
        strv_free(acl);
}

static void check_host(const uint8_t *data, size_t size) {
        Fake fake = { data, size };
        HostOps ops = { .lstat = fake_lstat, .getxattr = fake_getxattr, .userdata = &fake };

        KvmfrConfig config;
        kvmfr_config_init(&config);
        config.owner = "jarrett";
        KvmfrState state;
        int r = kvmfr_state_read(root, &config, &ops, &state);
        fuzz_check(r == 0, "kvmfr_state_read returned %d", r);
        fuzz_check(state.loaded, "the scratch root's module is not seen as loaded");
        CheckList l = CHECK_LIST_INIT;
        r = kvmfr_checks(root, &config, &state, NULL, &l);
        fuzz_check(r == 0, "kvmfr_checks returned %d", r);
        kvmfr_state_clear(&state);

        VfioReport report;
        r = vfio_report_read(root, NULL, &report);
        fuzz_check(r == 0, "vfio_report_read returned %d", r);
        r = vfio_checks(&report, &l);
        fuzz_check(r == 0, "vfio_checks returned %d", r);
        vfio_report_clear(&report);
        fuzz_check_list(&l);
        check_list_clear(&l);

        HostUser u;
        if (host_user_by_name(root, "jarrett", &u) == 0) {
                fuzz_check(strcmp(u.name, "jarrett") == 0 && u.home, "user '%s'", u.name);
                char *name = host_uid_to_name(root, u.uid);
                fuzz_check(name, "no name for uid %u", (unsigned) u.uid);
                free(name);
                host_user_clear(&u);
        }
        gid_t gid;
        if (host_group_by_name(root, "kvm", &gid) == 0) {
                char *name = host_gid_to_name(root, gid);
                fuzz_check(name, "no name for gid %u", (unsigned) gid);
                free(name);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text = fuzz_strndup(data, size);
        write_root_files(data, size);   /* first: the ACL decoder reads names from them too */
        check_cmdline(text);
        check_pci_ids(text);
        check_sizes(text);
        check_qemu_conf(text);
        check_acl(data, size);
        check_host(data, size);
        free(text);
        return 0;
}
