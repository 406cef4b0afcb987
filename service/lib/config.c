#include "config.h"

#include <errno.h>
#include <glib.h>
#include <stdio.h>

#include "names.h"
#include "scrub-schedule.h"
#include "util.h"

typedef struct ConfigKey ConfigKey;
/* Parses one value into the config; returns a static reason on failure. */
typedef const char *(*ConfigParser)(WinvmConfig *c, const char *value);

struct ConfigKey {
        const char *group;
        const char *key;
        ConfigParser parse;
};

static const char *parse_uri(WinvmConfig *c, const char *value) {
        if (value[0] == '\0' || !strstr(value, ":"))
                return "expected a libvirt URI such as qemu:///system";
        free(c->libvirt_uri);
        c->libvirt_uri = strdup(value);
        return NULL;
}

static const char *parse_vms(WinvmConfig *c, const char *value) {
        g_auto(GStrv) parts = g_strsplit_set(value, ", ", -1);
        GPtrArray *names = g_ptr_array_new();
        const char *why = NULL;

        for (char **p = parts; *p; p++) {
                if ((*p)[0] == '\0')
                        continue;
                if (!vm_name_is_valid(*p)) {
                        why = "a VM name is 1-64 characters of A-Z a-z 0-9 . _ + - and starts with a letter, digit, _ or +";
                        break;
                }
                for (guint i = 0; i < names->len; i++)
                        if (strcmp(names->pdata[i], *p) == 0)
                                why = "a VM is named twice";
                if (why)
                        break;
                g_ptr_array_add(names, *p);
        }
        if (!why && names->len == 0)
                why = "expected at least one VM name";
        if (!why && names->len > 64)
                why = "at most 64 VMs can be managed";
        if (why) {
                g_ptr_array_free(names, true);
                return why;
        }

        char **vms = calloc(names->len + 1, sizeof(char *));
        for (guint i = 0; i < names->len; i++)
                vms[i] = strdup(names->pdata[i]);
        g_ptr_array_free(names, true);
        strv_free(c->vms);
        c->vms = vms;
        return NULL;
}

static const char *parse_state_dir(WinvmConfig *c, const char *value) {
        if (value[0] != '/')
                return "expected an absolute path";
        if (strstr(value, "/../") || g_str_has_suffix(value, "/.."))
                return "the path must not contain '..'";
        free(c->state_dir);
        c->state_dir = strdup(value);
        return NULL;
}

/* Seconds as a decimal number within [0, max]. */
static bool parse_seconds(const char *value, uint32_t max, uint32_t *ret) {
        guint64 v;
        if (!g_ascii_string_to_unsigned(value, 10, 0, max, &v, NULL))
                return false;
        *ret = (uint32_t) v;
        return true;
}

static const char *parse_idle_timeout(WinvmConfig *c, const char *value) {
        return parse_seconds(value, 86400, &c->idle_timeout_sec) ? NULL
                : "expected seconds from 0 (never exit) to 86400";
}

static const char *parse_shutdown_timeout(WinvmConfig *c, const char *value) {
        if (!parse_seconds(value, WINVM_SHUTDOWN_TIMEOUT_MAX, &c->shutdown_timeout_sec) ||
            c->shutdown_timeout_sec == 0)
                return "expected seconds from 1 to 3600";
        return NULL;
}

static const char *parse_startup_read_wait(WinvmConfig *c, const char *value) {
        return parse_seconds(value, 60, &c->startup_read_wait_sec) ? NULL : "expected seconds from 0 (never wait) to 60";
}

static bool fs_name_is_valid(const char *name) {
        size_t n = strlen(name);
        if (n == 0 || n > 32)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!g_ascii_isalnum(name[i]) && name[i] != '-' && name[i] != '_')
                        return false;
        return true;
}

static const char *parse_filesystems(WinvmConfig *c, const char *value) {
        g_auto(GStrv) parts = g_strsplit_set(value, ", ", -1);
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);

        for (char **p = parts; *p; p++) {
                if ((*p)[0] == '\0')
                        continue;
                char *colon = strchr(*p, ':');
                if (!colon)
                        return "expected NAME:/mount/point entries";
                g_autofree char *name = g_strndup(*p, colon - *p);
                const char *path = colon + 1;
                if (!fs_name_is_valid(name))
                        return "a filesystem name is 1-32 characters of A-Z a-z 0-9 - _";
                if (path[0] != '/' || strstr(path, "/..") || strstr(path, "//"))
                        return "a mount point is an absolute path without '..'";
                for (guint i = 0; i < names->len; i++)
                        if (strcmp(names->pdata[i], name) == 0 || strcmp(paths->pdata[i], path) == 0)
                                return "a filesystem is named twice";
                g_ptr_array_add(names, g_steal_pointer(&name));
                g_ptr_array_add(paths, g_strdup(path));
        }
        if (names->len > 16)
                return "at most 16 filesystems";

        char **n = calloc(names->len + 1, sizeof(char *)), **m = calloc(names->len + 1, sizeof(char *));
        for (guint i = 0; i < names->len; i++) {
                n[i] = strdup(names->pdata[i]);
                m[i] = strdup(paths->pdata[i]);
        }
        strv_free(c->fs_names);
        strv_free(c->fs_paths);
        c->fs_names = n;
        c->fs_paths = m;
        return NULL;
}

int config_find_filesystem(const WinvmConfig *c, const char *name_or_path) {
        for (size_t i = 0; c->fs_names && c->fs_names[i]; i++)
                if (strcmp(c->fs_names[i], name_or_path) == 0 || strcmp(c->fs_paths[i], name_or_path) == 0)
                        return (int) i;
        return -1;
}

static const char *set_path(char **field, const char *value) {
        if (value[0] != '/' || strstr(value, "/..") || strstr(value, "//"))
                return "expected an absolute path without '..'";
        free(*field);
        *field = strdup(value);
        return NULL;
}

static const char *parse_host_root(WinvmConfig *c, const char *value) {
        return set_path(&c->host_root, value);
}

/* A user or group name as useradd takes it: safe inside a udev rule's quotes. */
static bool account_name_is_valid(const char *name) {
        size_t n = strlen(name);
        if (n == 0 || n > 32 || name[0] == '-')
                return false;
        for (size_t i = 0; i < n; i++)
                if (!g_ascii_isalnum(name[i]) && !strchr("._-", name[i]))
                        return false;
        return true;
}

static const char *set_account(char **field, const char *value, bool may_be_empty) {
        if (value[0] == '\0' && may_be_empty) {
                free(*field);
                *field = NULL;
                return NULL;
        }
        if (!account_name_is_valid(value))
                return "expected a user or group name (A-Z a-z 0-9 . _ -)";
        free(*field);
        *field = strdup(value);
        return NULL;
}

static const char *parse_desktop_user(WinvmConfig *c, const char *value) {
        return set_account(&c->desktop_user, value, true);
}

static const char *parse_kvmfr_resolution(WinvmConfig *c, const char *value) {
        unsigned w = 0, h = 0;
        char tail;
        if (sscanf(value, "%ux%u%c", &w, &h, &tail) != 2 || w < 320 || h < 200 || w > 16384 || h > 16384)
                return "expected WIDTHxHEIGHT, e.g. 3840x2160 (320x200 to 16384x16384)";
        c->kvmfr_width = w;
        c->kvmfr_height = h;
        return NULL;
}

static const char *parse_kvmfr_hdr(WinvmConfig *c, const char *value) {
        if (strcmp(value, "true") == 0 || strcmp(value, "yes") == 0)
                c->kvmfr_hdr = true;
        else if (strcmp(value, "false") == 0 || strcmp(value, "no") == 0)
                c->kvmfr_hdr = false;
        else
                return "expected true or false";
        return NULL;
}

static const char *parse_kvmfr_owner(WinvmConfig *c, const char *value) {
        return set_account(&c->kvmfr_owner, value, true);
}

static const char *parse_kvmfr_group(WinvmConfig *c, const char *value) {
        return set_account(&c->kvmfr_group, value, false);
}

static const char *parse_kvmfr_mode(WinvmConfig *c, const char *value) {
        guint64 v;
        if (strlen(value) > 4 || !g_ascii_string_to_unsigned(value, 8, 0, 0777, &v, NULL))
                return "expected octal permission bits such as 0660";
        c->kvmfr_mode = (uint32_t) v;
        return NULL;
}

static const char *parse_kvmfr_device(WinvmConfig *c, const char *value) {
        if (!g_str_has_prefix(value, "/dev/kvmfr") || !value[10] || strspn(value + 10, "0123456789") != strlen(value + 10))
                return "expected /dev/kvmfrN";
        return set_path(&c->kvmfr_device, value);
}

static const char *parse_kvmfr_udev_rule(WinvmConfig *c, const char *value) {
        if (!g_str_has_suffix(value, ".rules"))
                return "a udev rule file name ends in .rules";
        return set_path(&c->kvmfr_udev_rule, value);
}

static const char *parse_kvmfr_modprobe(WinvmConfig *c, const char *value) {
        if (!g_str_has_suffix(value, ".conf"))
                return "a modprobe.d file name ends in .conf";
        return set_path(&c->kvmfr_modprobe, value);
}

static const char *parse_qemu_conf(WinvmConfig *c, const char *value) {
        return set_path(&c->qemu_conf, value);
}

static const char *parse_vfio_ids(WinvmConfig *c, const char *value) {
        g_auto(GStrv) parts = g_strsplit_set(value, ", ", -1);
        g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
        for (char **p = parts; *p; p++) {
                if ((*p)[0] == '\0')
                        continue;
                if (strlen(*p) != 9 || (*p)[4] != ':' || strspn(*p, "0123456789abcdef:") != 9)
                        return "expected PCI ids as vendor:device in lower-case hex, e.g. 10de:2489";
                g_ptr_array_add(ids, g_strdup(*p));
        }
        if (ids->len > 16)
                return "at most 16 PCI ids";
        char **l = calloc(ids->len + 1, sizeof(char *));
        for (guint i = 0; l && i < ids->len; i++)
                l[i] = strdup(ids->pdata[i]);
        strv_free(c->vfio_ids);
        c->vfio_ids = l;
        return NULL;
}

/* A cpulist as the kernel and libvirt write it ("0-3,8,10-11"); the CPU module checks the
 * numbers against the host when it uses them. */
static const char *parse_cpu_host_cpus(WinvmConfig *c, const char *value) {
        if (strlen(value) > 256 || strspn(value, "0123456789,-") != strlen(value))
                return "expected a CPU list such as 0-3,16-17";
        free(c->cpu_host_cpus);
        c->cpu_host_cpus = value[0] ? strdup(value) : NULL;
        return NULL;
}

/* A list of words, each checked by valid(); at most max. */
static const char *parse_list(char ***field, const char *value, bool (*valid)(const char *), size_t max,
                              const char *why) {
        g_auto(GStrv) parts = g_strsplit_set(value, ", ", -1);
        g_autoptr(GPtrArray) items = g_ptr_array_new();
        for (char **p = parts; *p; p++) {
                if ((*p)[0] == '\0')
                        continue;
                if (!valid(*p))
                        return why;
                g_ptr_array_add(items, *p);
        }
        if (items->len > max)
                return "too many entries";
        char **l = calloc(items->len + 1, sizeof(char *));
        for (guint i = 0; l && i < items->len; i++)
                l[i] = strdup(items->pdata[i]);
        strv_free(*field);
        *field = l;
        return NULL;
}

static bool usb_id_is_valid(const char *s) {
        return strlen(s) == 9 && s[4] == ':' && strspn(s, "0123456789abcdef:") == 9 && strchr(s + 5, ':') == NULL;
}

static const char *parse_usb_ids(WinvmConfig *c, const char *value) {
        return parse_list(&c->usb_ids, value, usb_id_is_valid, 32,
                          "expected USB ids as vendor:product in lower-case hex, e.g. 256c:006d");
}

static bool absolute_path_is_valid(const char *s) {
        return s[0] == '/' && !strstr(s, "/..") && !strstr(s, "//") && strlen(s) < 4096;
}

static const char *parse_virtiofsd_allowed(WinvmConfig *c, const char *value) {
        return parse_list(&c->virtiofsd_allowed, value, absolute_path_is_valid, 16,
                          "expected absolute paths of virtiofsd binaries, without '..'");
}

/* [Definitions] has one key per VM: its name, and the file that holds its canonical XML. */
static const char *parse_definition(WinvmConfig *c, const char *vm, const char *value) {
        if (!vm_name_is_valid(vm))
                return "the key must be a VM name";
        if (!absolute_path_is_valid(value))
                return "expected an absolute path without '..'";
        size_t n = strv_length(c->definition_vms);
        for (size_t i = 0; i < n; i++)
                if (strcmp(c->definition_vms[i], vm) == 0) {
                        free(c->definition_files[i]);
                        c->definition_files[i] = strdup(value);
                        return NULL;
                }
        char **vms = realloc(c->definition_vms, (n + 2) * sizeof(char *));
        if (vms)
                c->definition_vms = vms;
        char **files = realloc(c->definition_files, (n + 2) * sizeof(char *));
        if (files)
                c->definition_files = files;
        if (!vms || !files)
                return "out of memory";
        vms[n] = strdup(vm);
        files[n] = strdup(value);
        vms[n + 1] = files[n + 1] = NULL;
        return NULL;
}

const char *config_definition_file(const WinvmConfig *c, const char *vm) {
        for (size_t i = 0; c->definition_vms && c->definition_vms[i]; i++)
                if (strcmp(c->definition_vms[i], vm) == 0)
                        return c->definition_files[i];
        return NULL;
}

static const char *parse_scrub_interval(WinvmConfig *c, const char *value) {
        return scrub_interval_parse(value, &c->scrub_interval_sec) < 0
                       ? "expected 0 (off), daily, weekly, monthly, or a number with h, d or w (36h, 14d, 2w), "
                         "from 1 hour to 366 days"
                       : NULL;
}

static const ConfigKey config_keys[] = {
        { "Host",    "Root",               parse_host_root },
        { "Host",    "DesktopUser",        parse_desktop_user },
        { "Kvmfr",   "Resolution",         parse_kvmfr_resolution },
        { "Kvmfr",   "HDR",                parse_kvmfr_hdr },
        { "Kvmfr",   "Owner",              parse_kvmfr_owner },
        { "Kvmfr",   "Group",              parse_kvmfr_group },
        { "Kvmfr",   "Mode",               parse_kvmfr_mode },
        { "Kvmfr",   "Device",             parse_kvmfr_device },
        { "Kvmfr",   "UdevRule",           parse_kvmfr_udev_rule },
        { "Kvmfr",   "ModprobeOptions",    parse_kvmfr_modprobe },
        { "Kvmfr",   "QemuConf",           parse_qemu_conf },
        { "Vfio",    "Devices",            parse_vfio_ids },
        { "Cpu",     "HostCPUs",           parse_cpu_host_cpus },
        { "Usb",     "Devices",            parse_usb_ids },
        { "Virtiofs", "AllowedBinaries",   parse_virtiofsd_allowed },
        { "Storage", "Filesystems",        parse_filesystems },
        { "Storage", "ScrubInterval",      parse_scrub_interval },
        { "Service", "LibvirtURI",         parse_uri },
        { "Service", "VMs",                parse_vms },
        { "Service", "StateDirectory",     parse_state_dir },
        { "Service", "IdleTimeoutSec",     parse_idle_timeout },
        { "Service", "ShutdownTimeoutSec", parse_shutdown_timeout },
        { "Service", "StartupReadWaitSec", parse_startup_read_wait },
};

static const ConfigKey *find_key(const char *group, const char *key) {
        for (size_t i = 0; i < ELEMENTSOF(config_keys); i++)
                if (strcmp(config_keys[i].group, group) == 0 && strcmp(config_keys[i].key, key) == 0)
                        return &config_keys[i];
        return NULL;
}

static bool group_is_known(const char *group) {
        if (strcmp(group, "Definitions") == 0)
                return true;
        for (size_t i = 0; i < ELEMENTSOF(config_keys); i++)
                if (strcmp(config_keys[i].group, group) == 0)
                        return true;
        return false;
}

WinvmConfig *config_new_default(void) {
        WinvmConfig *c = calloc(1, sizeof(*c));
        if (!c)
                return NULL;
        c->libvirt_uri = strdup("qemu:///system");
        c->vms = calloc(2, sizeof(char *));
        c->vms[0] = strdup("Windows11");
        c->state_dir = strdup("/var/lib/winvm");
        c->idle_timeout_sec = 60;
        c->shutdown_timeout_sec = 120;
        c->startup_read_wait_sec = 2;
        (void) parse_filesystems(c, "images:/vm-storage/images");
        c->scrub_interval_sec = SCRUB_INTERVAL_DEFAULT_SEC;
        c->host_root = strdup("/");
        c->kvmfr_width = 3840;
        c->kvmfr_height = 2160;
        c->kvmfr_group = strdup("kvm");
        c->kvmfr_mode = 0660;
        c->kvmfr_device = strdup("/dev/kvmfr0");
        c->kvmfr_udev_rule = strdup("/etc/udev/rules.d/99-kvmfr.rules");
        c->kvmfr_modprobe = strdup("/etc/modprobe.d/kvmfr.conf");
        c->qemu_conf = strdup("/etc/libvirt/qemu.conf");
        (void) parse_vfio_ids(c, "10de:2489,10de:228b");
        (void) parse_usb_ids(c, "256c:006d,256f:c635");
        (void) parse_virtiofsd_allowed(c, "/run/current-system/sw/bin/virtiofsd /usr/libexec/virtiofsd /usr/lib/qemu/virtiofsd");
        return c;
}

WinvmConfig *config_free(WinvmConfig *c) {
        if (!c)
                return NULL;
        free(c->libvirt_uri);
        strv_free(c->vms);
        free(c->state_dir);
        strv_free(c->fs_names);
        strv_free(c->fs_paths);
        free(c->host_root);
        free(c->desktop_user);
        free(c->kvmfr_owner);
        free(c->kvmfr_group);
        free(c->kvmfr_device);
        free(c->kvmfr_udev_rule);
        free(c->kvmfr_modprobe);
        free(c->qemu_conf);
        strv_free(c->vfio_ids);
        free(c->cpu_host_cpus);
        strv_free(c->usb_ids);
        strv_free(c->virtiofsd_allowed);
        strv_free(c->definition_vms);
        strv_free(c->definition_files);
        free(c);
        return NULL;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(WinvmConfig *, config_free);

static int apply_key_file(GKeyFile *kf, const char *path, WinvmConfig *c, char **ret_error, GPtrArray *warnings) {
        g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);

        for (char **g = groups; *g; g++) {
                if (!group_is_known(*g)) {
                        g_ptr_array_add(warnings, g_strdup_printf("%s: unknown group [%s] ignored", path, *g));
                        continue;
                }
                g_auto(GStrv) keys = g_key_file_get_keys(kf, *g, NULL, NULL);
                for (char **k = keys; k && *k; k++) {
                        bool definitions = strcmp(*g, "Definitions") == 0;
                        const ConfigKey *ck = definitions ? NULL : find_key(*g, *k);
                        if (!ck && !definitions) {
                                g_ptr_array_add(warnings, g_strdup_printf("%s: unknown key %s in [%s] ignored", path, *k, *g));
                                continue;
                        }
                        g_autoptr(GError) err = NULL;
                        g_autofree char *value = g_key_file_get_string(kf, *g, *k, &err);
                        /* GKeyFile reports a bad escape in err but still returns a string. */
                        if (!value || err) {
                                *ret_error = g_strdup_printf("%s: [%s] %s: %s", path, *g, *k, err->message);
                                return -EINVAL;
                        }
                        g_strstrip(value);
                        const char *why = definitions ? parse_definition(c, *k, value) : ck->parse(c, value);
                        if (why) {
                                *ret_error = g_strdup_printf("%s: [%s] %s=%s is invalid: %s", path, *g, *k, value, why);
                                return -EINVAL;
                        }
                }
        }
        return 0;
}

static char **warnings_to_strv(GPtrArray *warnings) {
        if (warnings->len == 0) {
                g_ptr_array_free(warnings, true);
                return NULL;
        }
        char **l = calloc(warnings->len + 1, sizeof(char *));
        for (guint i = 0; i < warnings->len; i++) {
                l[i] = strdup(warnings->pdata[i]);
                g_free(warnings->pdata[i]);
        }
        g_ptr_array_free(warnings, true);
        return l;
}

/* g_strdup'd messages become malloc'd so callers free everything with free(). */
static char *to_malloc(char *g) {
        char *s = g ? strdup(g) : NULL;
        g_free(g);
        return s;
}

static int load_common(GKeyFile *kf, const char *path, WinvmConfig **ret, char **ret_error, char ***ret_warnings) {
        _cleanup_(config_freep) WinvmConfig *c = config_new_default();
        GPtrArray *warnings = g_ptr_array_new();
        char *error = NULL;

        if (!c) {
                g_ptr_array_free(warnings, true);
                return -ENOMEM;
        }
        if (kf) {
                int r = apply_key_file(kf, path, c, &error, warnings);
                if (r < 0) {
                        for (guint i = 0; i < warnings->len; i++)
                                g_free(warnings->pdata[i]);
                        g_ptr_array_free(warnings, true);
                        *ret_error = to_malloc(error);
                        return r;
                }
        }
        for (size_t i = 0; c->definition_vms && c->definition_vms[i]; i++) {
                bool managed = false;
                for (char **vm = c->vms; vm && *vm; vm++)
                        managed = managed || strcmp(*vm, c->definition_vms[i]) == 0;
                if (!managed)
                        g_ptr_array_add(warnings, g_strdup_printf("%s: [Definitions] %s names a VM not in [Service] VMs; ignored",
                                                                  path, c->definition_vms[i]));
        }
        if (ret_warnings)
                *ret_warnings = warnings_to_strv(warnings);
        else
                strv_free(warnings_to_strv(warnings));
        *ret = c;
        c = NULL;
        return 0;
}

int config_load_from_data(const char *data, const char *path, WinvmConfig **ret, char **ret_error,
                          char ***ret_warnings) {
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autoptr(GError) err = NULL;

        if (!g_key_file_load_from_data(kf, data, (gsize) -1, G_KEY_FILE_NONE, &err)) {
                *ret_error = to_malloc(g_strdup_printf("%s: %s", path, err->message));
                return -EINVAL;
        }
        return load_common(kf, path, ret, ret_error, ret_warnings);
}

int config_load(const char *path, bool must_exist, WinvmConfig **ret, char **ret_error, char ***ret_warnings) {
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autoptr(GError) err = NULL;

        if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &err)) {
                if (g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOENT) && !must_exist)
                        return load_common(NULL, path, ret, ret_error, ret_warnings);
                *ret_error = to_malloc(g_strdup_printf("%s: %s", path, err->message));
                return -EINVAL;
        }
        return load_common(kf, path, ret, ret_error, ret_warnings);
}
