#include "kvmfr-manage.h"

#include <errno.h>
#include <glib.h>
#include <libgen.h>
#include <libkmod.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "safe-files.h"
#include "spawn.h"
#include "util.h"

static char *msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *msg(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        char *s = NULL;
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        return s;
}

static int open_kmod(const char *root, struct kmod_ctx **ret, char **ret_message) {
        if (!host_root_is_host(root)) {
                *ret_message = msg("the host root is %s, a stand-in tree: modules load only on the real host", root);
                return -EOPNOTSUPP;
        }
        struct kmod_ctx *ctx = kmod_new(NULL, NULL);
        if (!ctx) {
                *ret_message = msg("libkmod could not start");
                return -ENOMEM;
        }
        *ret = ctx;
        return 0;
}

static int find_module(struct kmod_ctx *ctx, struct kmod_module **ret, char **ret_message) {
        struct kmod_list *list = NULL;
        int r = kmod_module_new_from_lookup(ctx, "kvmfr", &list);
        if (r < 0 || !list) {
                struct utsname u;
                uname(&u);
                *ret_message = msg("the kvmfr module is not installed for kernel %s: install Looking Glass's kvmfr "
                                   "(the looking-glass kvmfr DKMS module, or boot.extraModulePackages on NixOS)",
                                   u.release);
                return -ENOENT;
        }
        *ret = kmod_module_get_module(list);
        kmod_module_unref_list(list);
        return 0;
}

int kvmfr_load(const char *root, unsigned size_mib, char **ret_message) {
        struct kmod_ctx *ctx = NULL;
        int r = open_kmod(root, &ctx, ret_message);
        if (r < 0)
                return r;
        struct kmod_module *mod = NULL;
        r = find_module(ctx, &mod, ret_message);
        if (r == 0 && kmod_module_get_initstate(mod) == KMOD_MODULE_LIVE) {
                *ret_message = msg("kvmfr is already loaded; unload it first to change its size");
                r = -EALREADY;
        }
        if (r == 0) {
                _cleanup_free_ char *options = msg("static_size_mb=%u", size_mib);
                r = kmod_module_probe_insert_module(mod, 0, options, NULL, NULL, NULL);
                if (r < 0)
                        *ret_message = msg("loading kvmfr failed: %s", strerror(-r));
                else if (r > 0) {
                        *ret_message = msg("kvmfr is blacklisted or has no module file");
                        r = -ENOENT;
                }
        }
        kmod_module_unref(mod);
        kmod_unref(ctx);
        return r;
}

int kvmfr_unload(const char *root, char **ret_message) {
        struct kmod_ctx *ctx = NULL;
        int r = open_kmod(root, &ctx, ret_message);
        if (r < 0)
                return r;
        struct kmod_module *mod = NULL;
        r = kmod_module_new_from_name(ctx, "kvmfr", &mod);
        if (r == 0 && kmod_module_get_initstate(mod) == KMOD_MODULE_LIVE) {
                r = kmod_module_remove_module(mod, 0);
                if (r == -EBUSY || r == -EAGAIN) {
                        *ret_message = msg("kvmfr is in use (a QEMU or Looking Glass client has the device open)");
                        r = -EBUSY;
                } else if (r < 0)
                        *ret_message = msg("unloading kvmfr failed: %s", strerror(-r));
        }
        kmod_module_unref(mod);
        kmod_unref(ctx);
        return r;
}

/* The folder must be root's and writable by nobody else, or a user could swap files under us. */
static int check_folder(const char *folder, char **ret_message) {
        struct stat st;
        if (lstat(folder, &st) < 0) {
                if (errno != ENOENT) {
                        *ret_message = msg("cannot inspect %s: %s", folder, strerror(errno));
                        return -errno;
                }
                int r = mkdir_parents(folder);
                if (r == 0 && chmod(folder, 0755) < 0)
                        r = -errno;
                if (r < 0)
                        *ret_message = msg("cannot create %s: %s", folder, strerror(-r));
                return r;
        }
        if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022)) {
                *ret_message = msg("will not write into %s: it is not a folder owned by root and writable only by root",
                                   folder);
                return -EPERM;
        }
        return 0;
}

static int write_one(const char *root, const char *path, const char *content, char **ret_full, char **ret_message) {
        _cleanup_free_ char *full = host_path(root, path);
        _cleanup_free_ char *copy = full ? strdup(full) : NULL;
        if (!copy)
                return -ENOMEM;
        int r = check_folder(dirname(copy), ret_message);
        if (r < 0)
                return r;
        struct stat st;
        if (lstat(full, &st) == 0 && !S_ISREG(st.st_mode)) {
                *ret_message = msg("will not replace %s: it is not a regular file (a symlink is never followed)", full);
                return -EPERM;
        }
        r = write_file_atomic(full, content, strlen(content), 0644);
        if (r == -EROFS) {
                *ret_message = msg("cannot write %s: the filesystem is read-only (as /etc is on NixOS); set "
                                   "[Kvmfr] UdevRule=/run/udev/rules.d/99-kvmfr.rules and "
                                   "ModprobeOptions=/run/modprobe.d/kvmfr.conf in winvm.conf", full);
                return r;
        }
        if (r < 0) {
                *ret_message = msg("cannot write %s: %s", full, strerror(-r));
                return r;
        }
        *ret_full = g_steal_pointer(&full);
        return 0;
}

int kvmfr_write_config_files(const char *root, const KvmfrConfig *c, unsigned size_mib, char ***ret_files,
                             char **ret_message) {
        _cleanup_free_ char *rule = NULL, *options = NULL;
        if (kvmfr_udev_rule(c, &rule) < 0 || kvmfr_modprobe_options(&size_mib, 1, &options) < 0) {
                *ret_message = msg("the kvmfr owner, group or size in the configuration cannot be written");
                return -EINVAL;
        }
        const char *rule_path = c->udev_rule_path ? c->udev_rule_path : KVMFR_DEFAULT_UDEV_RULE_PATH;
        const char *options_path = c->modprobe_path ? c->modprobe_path : KVMFR_DEFAULT_MODPROBE_PATH;
        _cleanup_free_ char *header_rule = msg("# Written by winvmd (winvm.conf [Kvmfr]); changes are overwritten.\n%s", rule);
        _cleanup_free_ char *header_options =
                msg("# Written by winvmd (winvm.conf [Kvmfr]); changes are overwritten.\n%s", options);
        char **files = calloc(3, sizeof(char *));
        if (!files || !header_rule || !header_options) {
                free(files);
                return -ENOMEM;
        }
        int r = write_one(root, rule_path, header_rule, &files[0], ret_message);
        if (r == 0)
                r = write_one(root, options_path, header_options, &files[1], ret_message);
        if (r < 0) {
                strv_free(files);
                return r;
        }
        *ret_files = files;
        return 0;
}

/* What the rule would do, done now to the existing device node. */
static int apply_to_device(const char *root, const KvmfrConfig *c, char **ret_message) {
        const char *device = c->device ? c->device : KVMFR_DEFAULT_DEVICE;
        struct stat st;
        if (lstat(device, &st) < 0 || !S_ISCHR(st.st_mode)) {
                *ret_message = msg("%s is not there yet; the rule applies when kvmfr loads", device);
                return 0;
        }
        uid_t uid = (uid_t) -1;
        gid_t gid = (gid_t) -1;
        HostUser u = { 0 };
        if (c->owner && host_user_by_name(root, c->owner, &u) == 0)
                uid = u.uid;
        host_user_clear(&u);
        if (host_group_by_name(root, c->group ? c->group : KVMFR_DEFAULT_GROUP, &gid) < 0) {
                *ret_message = msg("group %s does not exist; %s left as it is", c->group ? c->group : KVMFR_DEFAULT_GROUP,
                                   device);
                return -ENOENT;
        }
        if (lchown(device, uid, gid) < 0 || chmod(device, c->mode) < 0) {
                int r = -errno;
                *ret_message = msg("cannot set the owner and mode of %s: %s", device, strerror(-r));
                return r;
        }
        *ret_message = msg("%s set to the rule's owner, group and mode", device);
        return 0;
}

int kvmfr_reload_udev(const char *root, const KvmfrConfig *c, char **ret_message) {
        if (!host_root_is_host(root)) {
                *ret_message = msg("udev not reloaded: the host root %s is a stand-in tree", root);
                return 0;
        }
        static const char *const reload[] = { "udevadm", "control", "--reload", NULL };
        _cleanup_free_ char *err = NULL, *device = NULL;
        int r = spawn_sync(reload, NULL, &err);
        int k = apply_to_device(root, c, &device);
        if (r < 0)
                *ret_message = msg("udev could not reload its rules (%s); %s", err, device ? device : "");
        else
                *ret_message = msg("udev reloaded its rules; %s", device ? device : "");
        return r < 0 ? r : k;
}
