#include "definition-file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
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

/* The folder's descriptor and the file's name in it. */
static int open_folder(const char *path, char **ret_name) {
        const char *slash = strrchr(path, '/');
        if (path[0] != '/' || !slash || !slash[1] || strcmp(slash + 1, ".") == 0 || strcmp(slash + 1, "..") == 0)
                return -EINVAL;
        _cleanup_free_ char *dir = strndup(path, slash == path ? 1 : (size_t) (slash - path));
        if (!dir || !(*ret_name = strdup(slash + 1)))
                return -ENOMEM;
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                free(*ret_name);
                *ret_name = NULL;
                return -errno;
        }
        return fd;
}

/* Reads at most max bytes of the regular file name in dir_fd; -EFBIG beyond. */
static int read_at(int dir_fd, const char *name, size_t max, char **ret, struct stat *ret_st) {
        /* O_NONBLOCK: a FIFO put in its place must not hang the worker. */
        _cleanup_close_ int fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return errno == ELOOP ? -ELOOP : -errno;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        if ((uint64_t) st.st_size > max)
                return -EFBIG;
        char *buf = malloc(max + 2);
        if (!buf)
                return -ENOMEM;
        size_t have = 0;
        while (have <= max) {
                ssize_t n = read(fd, buf + have, max + 1 - have);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        int r = -errno;
                        free(buf);
                        return r;
                }
                if (n == 0)
                        break;
                have += (size_t) n;
        }
        if (have > max) {       /* it grew while we read */
                free(buf);
                return -EFBIG;
        }
        buf[have] = '\0';
        *ret = buf;
        if (ret_st)
                *ret_st = st;
        return 0;
}

int definition_file_read(const char *path, char **ret) {
        _cleanup_free_ char *name = NULL;
        _cleanup_close_ int dir_fd = open_folder(path, &name);
        if (dir_fd < 0)
                return dir_fd;
        return read_at(dir_fd, name, DEFINITION_FILE_MAX, ret, NULL);
}

/* Writes data as name in dir_fd through a temporary file, owned and moded as asked. */
static int replace_at(int dir_fd, const char *name, const char *data, size_t len, uid_t uid, gid_t gid, mode_t mode) {
        _cleanup_free_ char *tmp = NULL;
        if (asprintf(&tmp, ".%s.winvm-%d", name, (int) getpid()) < 0)
                return -ENOMEM;
        (void) unlinkat(dir_fd, tmp, 0);
        _cleanup_close_ int fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        int r = 0;
        for (size_t done = 0; r == 0 && done < len;) {
                ssize_t n = write(fd, data + done, len - done);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        r = -errno;
                else
                        done += (size_t) n;
        }
        /* By descriptor: nothing another user swaps in by name is touched. */
        if (r == 0 && (fchown(fd, uid, gid) < 0 || fchmod(fd, mode) < 0 || fsync(fd) < 0))
                r = -errno;
        if (r == 0 && renameat(dir_fd, tmp, dir_fd, name) < 0)
                r = -errno;
        if (r < 0)
                (void) unlinkat(dir_fd, tmp, 0);
        else
                (void) fsync(dir_fd);
        return r;
}

int definition_file_write(const char *path, const char *data, bool keep_previous, DefinitionSameFn same) {
        _cleanup_free_ char *name = NULL, *old = NULL, *previous = NULL;
        _cleanup_close_ int dir_fd = open_folder(path, &name);
        if (dir_fd < 0)
                return dir_fd;
        struct stat dir_st, st;
        if (fstat(dir_fd, &dir_st) < 0)
                return -errno;
        int r = read_at(dir_fd, name, DEFINITION_FILE_MAX, &old, &st);
        if (r == -ENOENT)
                st = (struct stat) { .st_uid = dir_st.st_uid, .st_gid = dir_st.st_gid, .st_mode = 0644 };
        else if (r < 0)
                return r;
        mode_t mode = st.st_mode & 0666;
        if (old && keep_previous && !(same && same(old, data))) {
                if (asprintf(&previous, "%s.previous", name) < 0)
                        return -ENOMEM;
                r = replace_at(dir_fd, previous, old, strlen(old), st.st_uid, st.st_gid, mode);
                if (r < 0)
                        return r;
        }
        return replace_at(dir_fd, name, data, strlen(data), st.st_uid, st.st_gid, mode);
}
