#include "owned-path.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

static int fail(char **why, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char **why, int r, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        free(*why);
        if (vasprintf(why, fmt, ap) < 0)
                *why = NULL;
        va_end(ap);
        return *why ? r : -ENOMEM;
}

static bool owned_by(const OwnedPathRule *rule, uid_t uid) {
        for (size_t i = 0; i < rule->n_owners; i++)
                if (rule->owners[i] == uid)
                        return true;
        return false;
}

/* Whether folder is trusted_top or below it. */
static bool is_trusted(const OwnedPathRule *rule, const char *folder) {
        if (!rule->trusted_top)
                return false;
        size_t n = strlen(rule->trusted_top);
        while (n > 1 && rule->trusted_top[n - 1] == '/')
                n--;
        return strncmp(folder, rule->trusted_top, n) == 0 && (folder[n] == '\0' || folder[n] == '/');
}

int owned_path_open(const char *path, const OwnedPathRule *rule, int *ret_fd, char **why) {
        if (!path || path[0] != '/')
                return fail(why, -EINVAL, "'%s' is not an absolute path", path ? path : "");
        g_auto(GStrv) parts = g_strsplit(path + 1, "/", -1);
        for (char **p = parts; *p; p++)
                if (!**p || strcmp(*p, ".") == 0 || strcmp(*p, "..") == 0)
                        return fail(why, -EINVAL, "'%s' is not a plain absolute path", path);
        if (!parts[0])
                return fail(why, -EINVAL, "'/' is not a file or folder to use");
        int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        g_autoptr(GString) walked = g_string_new("");
        size_t n = g_strv_length(parts);
        for (size_t i = 0; i < n; i++) {
                struct stat st;
                bool last = i + 1 == n;
                /* The folder we are in: checked before anything in it is trusted. */
                const char *here = walked->len ? walked->str : "/";
                if (fstat(fd, &st) < 0) {
                        int r = -errno;
                        close(fd);
                        return fail(why, r, "cannot read '%s': %s", here, strerror(-r));
                }
                if (is_trusted(rule, here) && (!owned_by(rule, st.st_uid) || (st.st_mode & 022))) {
                        close(fd);
                        return fail(why, -EPERM, "the folder '%s' may be written by others than its allowed owners", here);
                }
                g_string_append_printf(walked, "/%s", parts[i]);
                int next = openat(fd, parts[i], O_PATH | O_NOFOLLOW | O_CLOEXEC);
                int r = next < 0 ? -errno : 0;
                close(fd);
                if (r < 0)
                        return fail(why, r, "cannot open '%s': %s", walked->str, strerror(-r));
                fd = next;
                if (fstat(fd, &st) < 0) {
                        r = -errno;
                        close(fd);
                        return fail(why, r, "cannot read '%s': %s", walked->str, strerror(-r));
                }
                if (S_ISLNK(st.st_mode)) {
                        close(fd);
                        return fail(why, -ELOOP, "'%s' is a symbolic link (links are not followed)", walked->str);
                }
                if (!last && !S_ISDIR(st.st_mode)) {
                        close(fd);
                        return fail(why, -ENOTDIR, "'%s' is not a folder", walked->str);
                }
                if (!last)
                        continue;
                if (rule->directory ? !S_ISDIR(st.st_mode) : (!S_ISREG(st.st_mode) || st.st_nlink != 1)) {
                        close(fd);
                        return fail(why, -EPERM, "'%s' is not %s", path,
                                    rule->directory ? "a folder" : "a regular file with a single link");
                }
                if (rule->trusted_top && (st.st_mode & 022)) {
                        close(fd);
                        return fail(why, -EPERM, "'%s' may be written by others than its owner", path);
                }
                if (!owned_by(rule, st.st_uid)) {
                        close(fd);
                        return fail(why, -EPERM, "'%s' is owned by uid %u, not by whom it must be", path, (unsigned) st.st_uid);
                }
        }
        if (ret_fd)
                *ret_fd = fd;
        else
                close(fd);
        return 0;
}
