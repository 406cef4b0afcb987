#include "host-files.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "util.h"

#define MAX_LINKS 40

static char *take_str(char **p) {
        char *s = *p;
        *p = NULL;
        return s;
}

bool host_root_is_host(const char *root) {
        if (!root)
                return true;
        while (*root == '/')
                root++;
        return *root == '\0';
}

/* The root without trailing slashes, "" for the host. */
static char *root_prefix(const char *root) {
        if (host_root_is_host(root))
                return strdup("");
        size_t n = strlen(root);
        while (n > 1 && root[n - 1] == '/')
                n--;
        return strndup(root, n);
}

static char *join(const char *a, const char *b, const char *c) {
        char *s = NULL;
        if (asprintf(&s, "%s%s%s", a, b ? b : "", c ? c : "") < 0)
                return NULL;
        return s;
}

char *host_path(const char *root, const char *path) {
        if (!path || path[0] != '/')
                return NULL;
        _cleanup_free_ char *prefix = root_prefix(root);
        return prefix ? join(prefix, path, NULL) : NULL;
}

int host_resolve(const char *root, const char *path, bool follow_last, char **ret) {
        if (!path || path[0] != '/')
                return -EINVAL;
        _cleanup_free_ char *prefix = root_prefix(root);
        _cleanup_free_ char *todo = strdup(path);
        _cleanup_free_ char *done = strdup("");        /* resolved, relative to the root: "/a/b" */
        if (!prefix || !todo || !done)
                return -ENOMEM;
        int links = 0;
        const char *p = todo;
        for (;;) {
                while (*p == '/')
                        p++;
                if (!*p)
                        break;
                size_t len = strcspn(p, "/");
                const char *rest = p + len;
                while (*rest == '/')
                        rest++;
                bool last = *rest == '\0';
                if (len == 1 && p[0] == '.') {
                        p += len;
                        continue;
                }
                if (len == 2 && p[0] == '.' && p[1] == '.') {
                        char *slash = strrchr(done, '/');
                        if (slash)
                                *slash = '\0';  /* never above the root */
                        p += len;
                        continue;
                }
                _cleanup_free_ char *comp = strndup(p, len);
                _cleanup_free_ char *candidate = comp ? join(done, "/", comp) : NULL;
                _cleanup_free_ char *full = candidate ? join(prefix, candidate, NULL) : NULL;
                if (!full)
                        return -ENOMEM;
                struct stat st;
                if (lstat(full, &st) < 0) {
                        if (errno == ENOENT && last) {
                                free(done);
                                done = take_str(&candidate);
                                break;
                        }
                        return -errno;
                }
                if (S_ISLNK(st.st_mode) && (!last || follow_last)) {
                        if (++links > MAX_LINKS)
                                return -ELOOP;
                        char target[PATH_MAX];
                        ssize_t n = readlink(full, target, sizeof(target) - 1);
                        if (n < 0)
                                return -errno;
                        target[n] = '\0';
                        /* An absolute target starts again from the root; a relative one from the
                         * link's folder, which is what done holds. */
                        if (target[0] == '/')
                                done[0] = '\0';
                        char *next = join(target, "/", rest);
                        if (!next)
                                return -ENOMEM;
                        free(todo);
                        todo = next;
                        p = todo;
                        continue;
                }
                if (!last && !S_ISDIR(st.st_mode))
                        return -ENOTDIR;
                free(done);
                done = take_str(&candidate);
                p = rest;
        }
        char *out = join(prefix, *done ? done : (*prefix ? NULL : "/"), NULL);
        if (!out)
                return -ENOMEM;
        *ret = out;
        return 0;
}

int host_stat(const char *root, const char *path, bool follow, struct stat *ret) {
        _cleanup_free_ char *full = NULL;
        int r = host_resolve(root, path, follow, &full);
        if (r < 0)
                return r;
        return lstat(full, ret) < 0 ? -errno : 0;
}

bool host_exists(const char *root, const char *path) {
        struct stat st;
        return host_stat(root, path, true, &st) == 0;
}

bool host_is_executable(const char *root, const char *path) {
        struct stat st;
        return host_stat(root, path, true, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
}

int host_read_file(const char *root, const char *path, size_t max, char **ret) {
        _cleanup_free_ char *full = NULL;
        int r = host_resolve(root, path, true, &full);
        if (r < 0)
                return r;
        if (max == 0)
                max = HOST_FILE_MAX;
        int fd = open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        struct stat st;
        if (fstat(fd, &st) < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        if (!S_ISREG(st.st_mode)) {     /* sysfs and procfs files are regular too */
                close(fd);
                return S_ISDIR(st.st_mode) ? -EISDIR : -EBADF;
        }
        char *buf = malloc(max + 1);
        size_t have = 0;
        r = buf ? 0 : -ENOMEM;
        while (r == 0 && have < max) {
                ssize_t n = read(fd, buf + have, max - have);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        r = -errno;
                else if (n == 0)
                        break;
                else
                        have += (size_t) n;
        }
        close(fd);
        if (r < 0) {
                free(buf);
                return r;
        }
        buf[have] = '\0';
        *ret = buf;
        return 0;
}

int host_read_line(const char *root, const char *path, char **ret) {
        char *s = NULL;
        int r = host_read_file(root, path, 4096, &s);
        if (r < 0)
                return r;
        s[strcspn(s, "\n")] = '\0';
        size_t n = strlen(s);
        while (n > 0 && isspace((unsigned char) s[n - 1]))
                s[--n] = '\0';
        size_t lead = strspn(s, " \t");
        memmove(s, s + lead, n - lead + 1);
        *ret = s;
        return 0;
}

int host_read_hex(const char *root, const char *path, unsigned long *ret) {
        _cleanup_free_ char *s = NULL;
        int r = host_read_line(root, path, &s);
        if (r < 0)
                return r;
        if (!*s)
                return -EINVAL;
        char *end = NULL;
        errno = 0;
        unsigned long v = strtoul(s, &end, 16);
        if (errno || !end || *end || s[0] == '-')
                return -EINVAL;
        *ret = v;
        return 0;
}

int host_readlink(const char *root, const char *path, char **ret) {
        _cleanup_free_ char *full = NULL;
        int r = host_resolve(root, path, false, &full);
        if (r < 0)
                return r;
        char target[PATH_MAX];
        ssize_t n = readlink(full, target, sizeof(target) - 1);
        if (n < 0)
                return -errno;
        target[n] = '\0';
        *ret = strdup(target);
        return *ret ? 0 : -ENOMEM;
}

int host_link_basename(const char *root, const char *path, char **ret) {
        _cleanup_free_ char *target = NULL;
        int r = host_readlink(root, path, &target);
        if (r < 0)
                return r;
        size_t n = strlen(target);
        while (n > 1 && target[n - 1] == '/')
                target[--n] = '\0';
        const char *base = strrchr(target, '/');
        base = base ? base + 1 : target;
        if (!*base)
                return -EINVAL;
        *ret = strdup(base);
        return *ret ? 0 : -ENOMEM;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int host_list_dir(const char *root, const char *path, char ***ret) {
        _cleanup_free_ char *full = NULL;
        int r = host_resolve(root, path, true, &full);
        if (r < 0)
                return r;
        int fd = open(full, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        DIR *d = fdopendir(fd);
        if (!d) {
                r = -errno;
                close(fd);
                return r;
        }
        char **l = calloc(1, sizeof(char *));
        size_t n = 0;
        r = l ? 0 : -ENOMEM;
        struct dirent *de;
        while (r == 0 && (de = readdir(d))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                char **nl = realloc(l, (n + 2) * sizeof(char *));
                if (!nl) {
                        r = -ENOMEM;
                        break;
                }
                l = nl;
                l[n] = strdup(de->d_name);
                l[n + 1] = NULL;
                if (!l[n])
                        r = -ENOMEM;
                else
                        n++;
        }
        closedir(d);
        if (r < 0) {
                strv_free(l);
                return r;
        }
        qsort(l, n, sizeof(char *), cmp_str);
        *ret = l;
        return 0;
}

/* --- passwd and group ------------------------------------------------------------------ */

/* Splits a colon-separated line into at most max fields (in place); the number found. */
static size_t split_colons(char *line, char **fields, size_t max) {
        size_t n = 0;
        char *p = line;
        while (n < max) {
                fields[n++] = p;
                char *c = strchr(p, ':');
                if (!c)
                        break;
                *c = '\0';
                p = c + 1;
        }
        return n;
}

static bool parse_id(const char *s, unsigned long *ret) {
        if (!*s || !isdigit((unsigned char) s[0]))
                return false;
        char *end = NULL;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (errno || *end || v > UINT_MAX)
                return false;
        *ret = v;
        return true;
}

/* Finds the passwd line whose name is name (when name) or whose uid is uid. */
static int passwd_find(const char *root, const char *name, uid_t uid, HostUser *ret) {
        _cleanup_free_ char *text = NULL;
        int r = host_read_file(root, "/etc/passwd", 1024 * 1024, &text);
        if (r < 0)
                return r == -ENOENT ? -ENOENT : r;
        char *save = NULL;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *f[7];
                if (line[0] == '#' || split_colons(line, f, 7) < 7)
                        continue;
                unsigned long u, g;
                if (!parse_id(f[2], &u) || !parse_id(f[3], &g))
                        continue;
                if (name ? strcmp(f[0], name) != 0 : (uid_t) u != uid)
                        continue;
                HostUser h = { .name = strdup(f[0]), .uid = (uid_t) u, .gid = (gid_t) g, .home = strdup(f[5]) };
                if (!h.name || !h.home) {
                        host_user_clear(&h);
                        return -ENOMEM;
                }
                *ret = h;
                return 0;
        }
        return -ENOENT;
}

int host_user_by_name(const char *root, const char *name, HostUser *ret) {
        if (!name || !*name)
                return -EINVAL;
        return passwd_find(root, name, 0, ret);
}

int host_user_by_uid(const char *root, uid_t uid, HostUser *ret) {
        return passwd_find(root, NULL, uid, ret);
}

void host_user_clear(HostUser *u) {
        if (!u)
                return;
        free(u->name);
        free(u->home);
        *u = (HostUser) { 0 };
}

static int group_find(const char *root, const char *name, gid_t gid, gid_t *ret_gid, char **ret_name) {
        _cleanup_free_ char *text = NULL;
        int r = host_read_file(root, "/etc/group", 1024 * 1024, &text);
        if (r < 0)
                return r;
        char *save = NULL;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *f[4];
                if (line[0] == '#' || split_colons(line, f, 4) < 3)
                        continue;
                unsigned long g;
                if (!parse_id(f[2], &g))
                        continue;
                if (name ? strcmp(f[0], name) != 0 : (gid_t) g != gid)
                        continue;
                if (ret_gid)
                        *ret_gid = (gid_t) g;
                if (ret_name) {
                        *ret_name = strdup(f[0]);
                        if (!*ret_name)
                                return -ENOMEM;
                }
                return 0;
        }
        return -ENOENT;
}

int host_group_by_name(const char *root, const char *name, gid_t *ret) {
        if (!name || !*name)
                return -EINVAL;
        return group_find(root, name, 0, ret, NULL);
}

int host_group_by_gid(const char *root, gid_t gid, char **ret_name) {
        return group_find(root, NULL, gid, NULL, ret_name);
}

char *host_uid_to_name(const char *root, uid_t uid) {
        HostUser u;
        if (host_user_by_uid(root, uid, &u) == 0) {
                char *name = u.name;
                u.name = NULL;
                host_user_clear(&u);
                return name;
        }
        char *s = NULL;
        return asprintf(&s, "%u", (unsigned) uid) < 0 ? NULL : s;
}

char *host_gid_to_name(const char *root, gid_t gid) {
        char *name = NULL;
        if (host_group_by_gid(root, gid, &name) == 0)
                return name;
        char *s = NULL;
        return asprintf(&s, "%u", (unsigned) gid) < 0 ? NULL : s;
}

/* --- device nodes ---------------------------------------------------------------------- */

int host_ops_lstat(const HostOps *ops, const char *root, const char *path, struct stat *ret) {
        if (ops && ops->lstat)
                return ops->lstat(root, path, ret, ops->userdata);
        return host_stat(root, path, false, ret);
}

static ssize_t real_getxattr(const char *root, const char *path, const char *name, void *buf, size_t size) {
        _cleanup_free_ char *full = NULL;
        int r = host_resolve(root, path, false, &full);
        if (r < 0)
                return r;
        ssize_t n = lgetxattr(full, name, buf, size);
        return n < 0 ? -errno : n;
}

int host_ops_getxattr(const HostOps *ops, const char *root, const char *path, const char *name, void **ret,
                      size_t *ret_size) {
        for (int attempt = 0; attempt < 4; attempt++) {
                ssize_t n = ops && ops->getxattr ? ops->getxattr(root, path, name, NULL, 0, ops->userdata)
                                                 : real_getxattr(root, path, name, NULL, 0);
                if (n < 0)
                        return (int) n;
                void *buf = malloc(n > 0 ? (size_t) n : 1);
                if (!buf)
                        return -ENOMEM;
                ssize_t m = ops && ops->getxattr ? ops->getxattr(root, path, name, buf, (size_t) n, ops->userdata)
                                                 : real_getxattr(root, path, name, buf, (size_t) n);
                if (m == -ERANGE) {     /* grew in between */
                        free(buf);
                        continue;
                }
                if (m < 0) {
                        free(buf);
                        return (int) m;
                }
                *ret = buf;
                *ret_size = (size_t) m;
                return 0;
        }
        return -ERANGE;
}
