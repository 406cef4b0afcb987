#include "definition-paths.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "owned-path.h"
#include "util.h"

#define QCOW2_MAGIC 0x514649fbu
#define QCOW2_INCOMPAT_DATA_FILE (UINT64_C(1) << 2)

uid_t definition_paths_qemu_uid(void) {
        static const char *const names[] = { "libvirt-qemu", "qemu-libvirtd", "qemu" };
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                struct passwd pw, *res = NULL;
                char buf[4096];
                if (getpwnam_r(names[i], &pw, buf, sizeof(buf), &res) == 0 && res)
                        return res->pw_uid;
        }
        return (uid_t) -1;
}

static uint64_t be64_at(const unsigned char *p) {
        uint64_t v;
        memcpy(&v, p, sizeof(v));
        return be64toh(v);
}

static uint32_t be32_at(const unsigned char *p) {
        uint32_t v;
        memcpy(&v, p, sizeof(v));
        return be32toh(v);
}

/* A qcow2 header that names no other file (backing or external data file). Read here once;
 * the format stays the one the definition gives, so nothing else ever probes it. */
static int check_qcow2(int path_fd, const char *path, char **why) {
        char proc[64];
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", path_fd);
        int fd = open(proc, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return guard_refuse(why, "cannot read '%s': %m", path);
        unsigned char h[104] = { 0 };
        ssize_t n = pread(fd, h, sizeof(h), 0);
        close(fd);
        if (n < 72 || be32_at(h) != QCOW2_MAGIC)
                return guard_refuse(why, "'%s' is not a qcow2 image", path);
        if (be64_at(h + 8) != 0 || be32_at(h + 16) != 0)
                return guard_refuse(why, "'%s' has a backing file", path);
        if (be32_at(h + 4) >= 3 && (n < 80 || (be64_at(h + 72) & QCOW2_INCOMPAT_DATA_FILE)))
                return guard_refuse(why, "'%s' has an external data file", path);
        return 0;
}

static bool under(const char *dir, const char *path) {
        size_t n = strlen(dir);
        while (n > 1 && dir[n - 1] == '/')
                n--;
        return strncmp(dir, path, n) == 0 && path[n] == '/';
}

/* Whether fd is the same file as one the VM uses (by inode: another name of it is no better). */
static bool used_already(int fd, char *const *in_use) {
        struct stat a, b;
        if (fstat(fd, &a) < 0)
                return true;
        for (char *const *f = in_use; f && *f; f++)
                if (stat(*f, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
                        return true;
        return false;
}

int definition_paths_check(void *userdata, GuardPathKind kind, const char *path, const char *format,
                           char *const *in_use, char **why) {
        const DefinitionPaths *p = userdata;
        _cleanup_free_ char *detail = NULL;
        int fd = -1, r;
        if (kind == GUARD_PATH_SHARE) {
                if (p->desktop_uid == (uid_t) -1)
                        return guard_refuse(why, "no [Host] DesktopUser is set, so no folder is the desktop user's");
                OwnedPathRule rule = { .owners = &p->desktop_uid, .n_owners = 1, .directory = true };
                _cleanup_free_ char *full = NULL;
                size_t n = p->share_root ? strlen(p->share_root) : 0;
                while (n > 0 && p->share_root[n - 1] == '/')
                        n--;
                if (asprintf(&full, "%.*s%s", (int) n, n ? p->share_root : "", path) < 0)
                        return -ENOMEM;
                r = owned_path_open(full, &rule, NULL, &detail);
                return r < 0 ? guard_refuse(why, "%s", detail ? detail : strerror(-r)) : 0;
        }
        const char *top = NULL;
        for (char *const *d = p->storage_dirs; d && *d && !top; d++)
                if (under(*d, path))
                        top = *d;
        if (!top)
                return guard_refuse(why, "'%s' is not on a [Storage] filesystem", path);
        uid_t owners[2] = { 0, p->qemu_uid };
        OwnedPathRule rule = { .owners = owners, .n_owners = p->qemu_uid == (uid_t) -1 ? 1 : 2, .trusted_top = top };
        r = owned_path_open(path, &rule, &fd, &detail);
        if (r < 0)
                return guard_refuse(why, "%s", detail ? detail : strerror(-r));
        if (used_already(fd, in_use))
                r = guard_refuse(why, "'%s' is an image the VM already uses", path);
        else if (streq_ptr(format, "qcow2"))
                r = check_qcow2(fd, path, why);
        close(fd);
        return r;
}
