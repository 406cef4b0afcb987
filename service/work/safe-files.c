#include "safe-files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

static void closep(int *fd) {
        if (*fd >= 0)
                close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

bool path_exists(const char *path) {
        struct stat st;
        return lstat(path, &st) == 0;
}

int sync_parent(const char *path) {
        _cleanup_free_ char *copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        _cleanup_close_ int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || fsync(fd) < 0)
                return -errno;
        return 0;
}

static int temp_beside(const char *path, char **ret) {
        if (asprintf(ret, "%s.tmp-XXXXXX", path) < 0)
                return -ENOMEM;
        return 0;
}

static int write_all(int fd, const char *data, size_t len) {
        while (len > 0) {
                ssize_t k = write(fd, data, len);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                data += k;
                len -= (size_t) k;
        }
        return 0;
}

/* Moves a synced temporary file over path; removes it on failure. */
static int commit_temp(int fd, char *tmp, const char *path) {
        int r = 0;
        if (fsync(fd) < 0 || rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                unlink(tmp);
                return r;
        }
        return sync_parent(path);
}

int write_file_atomic(const char *path, const char *data, size_t len, unsigned mode) {
        _cleanup_free_ char *tmp = NULL;
        if (temp_beside(path, &tmp) < 0)
                return -ENOMEM;
        _cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        int r = write_all(fd, data, len);
        if (r == 0 && fchmod(fd, mode) < 0)
                r = -errno;
        if (r < 0) {
                unlink(tmp);
                return r;
        }
        return commit_temp(fd, tmp, path);
}

int read_file(const char *path, char **ret) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        size_t size = 0, cap = 4096;
        char *buf = malloc(cap + 1);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                if (size == cap) {
                        char *bigger = realloc(buf, cap * 2 + 1);
                        if (!bigger) {
                                free(buf);
                                return -ENOMEM;
                        }
                        buf = bigger;
                        cap *= 2;
                }
                ssize_t k = read(fd, buf + size, cap - size);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        int e = errno;
                        free(buf);
                        return -e;
                }
                if (k == 0)
                        break;
                size += (size_t) k;
        }
        buf[size] = '\0';
        *ret = buf;
        return 0;
}

static int copy_fd(int in, int out) {
        char buf[65536];
        for (;;) {
                ssize_t k = read(in, buf, sizeof(buf));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        return 0;
                int r = write_all(out, buf, (size_t) k);
                if (r < 0)
                        return r;
        }
}

/* Copies one regular file's bytes, mode and owner to a new file at dst (no rename). */
static int copy_regular(const char *src, int out, const struct stat *owner) {
        _cleanup_close_ int in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        struct stat st;
        if (in < 0 || fstat(in, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        int r = copy_fd(in, out);
        if (r < 0)
                return r;
        const struct stat *o = owner ? owner : &st;
        if (fchown(out, o->st_uid, o->st_gid) < 0 || fchmod(out, o->st_mode & 07777) < 0)
                return -errno;
        return 0;
}

int copy_file_atomic(const char *src, const char *dst, bool keep_dst_owner) {
        struct stat dst_st;
        bool have_dst = keep_dst_owner && lstat(dst, &dst_st) == 0;
        if (have_dst && !S_ISREG(dst_st.st_mode))
                return -EINVAL;  /* never write through a symlink or into a device */
        _cleanup_free_ char *tmp = NULL;
        if (temp_beside(dst, &tmp) < 0)
                return -ENOMEM;
        _cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        int r = copy_regular(src, fd, have_dst ? &dst_st : NULL);
        if (r < 0) {
                unlink(tmp);
                return r;
        }
        return commit_temp(fd, tmp, dst);
}

int copy_tree(const char *src, const char *dst) {
        struct stat st;
        if (lstat(src, &st) < 0)
                return -errno;
        if (S_ISREG(st.st_mode)) {
                _cleanup_close_ int fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
                if (fd < 0)
                        return -errno;
                int r = copy_regular(src, fd, NULL);
                if (r == 0 && fsync(fd) < 0)
                        r = -errno;
                return r;
        }
        if (!S_ISDIR(st.st_mode))
                return 0;  /* sockets and links have no place in firmware state */
        if (mkdir(dst, 0700) < 0)
                return -errno;
        DIR *d = opendir(src);
        if (!d)
                return -errno;
        int r = 0;
        struct dirent *e;
        while (r == 0 && (e = readdir(d))) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                        continue;
                _cleanup_free_ char *s = NULL, *t = NULL;
                if (asprintf(&s, "%s/%s", src, e->d_name) < 0 || asprintf(&t, "%s/%s", dst, e->d_name) < 0)
                        r = -ENOMEM;
                else
                        r = copy_tree(s, t);
        }
        closedir(d);
        if (r == 0 && (chown(dst, st.st_uid, st.st_gid) < 0 || chmod(dst, st.st_mode & 07777) < 0))
                r = -errno;
        return r;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        (void) st;
        (void) ftw;
        int r = type == FTW_DP ? rmdir(path) : unlink(path);
        return r < 0 && errno != ENOENT ? -1 : 0;
}

int remove_tree(const char *path) {
        struct stat st;
        if (lstat(path, &st) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISDIR(st.st_mode))
                return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
        if (nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
                return -errno;
        return 0;
}

int mkdir_parents(const char *path) {
        _cleanup_free_ char *p = strdup(path);
        if (!p)
                return -ENOMEM;
        for (char *s = p + 1;; s++) {
                bool end = *s == '\0';
                if (*s == '/' || end) {
                        *s = '\0';
                        if (mkdir(p, 0700) < 0 && errno != EEXIST)
                                return -errno;
                        if (end)
                                return 0;
                        *s = '/';
                }
        }
}

static _Thread_local uint64_t usage_sum;

static int add_usage(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        (void) path;
        (void) type;
        (void) ftw;
        usage_sum += (uint64_t) st->st_blocks * 512;
        return 0;
}

uint64_t disk_usage(const char *path) {
        struct stat st;
        if (lstat(path, &st) < 0)
                return 0;
        if (!S_ISDIR(st.st_mode))
                return (uint64_t) st.st_blocks * 512;
        /* nftw has no user data: the sum is per thread. */
        usage_sum = 0;
        (void) nftw(path, add_usage, 16, FTW_PHYS);
        return usage_sum;
}

int file_nocow(const char *path) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        int flags = 0;
        if (ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0)
                return errno == ENOTTY || errno == EOPNOTSUPP ? 0 : -errno;  /* no such flags: not NOCOW */
        return (flags & FS_NOCOW_FL) != 0;
}
