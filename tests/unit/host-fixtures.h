/* Shared by the host-check unit tests: where the fixture trees are, reading a fixture file, and
 * fake device nodes.
 *
 * The fixtures are found through $WINVM_FIXTURES_DIR (tests/fixtures) when set, else relative
 * to this source file's path as the compiler saw it (meson passes it relative to the build
 * directory, which is where `meson test` runs the tests; from another directory the build
 * directory is found from the test executable's path).
 *
 * Device nodes: git cannot hold a character device, its owner or its ACL, so the tests give
 * kvmfr_state_read() a HostOps whose lstat/getxattr answer from a FakeNode table and fall back to
 * the real fixture tree for every other path (so audio-on-snd's regular /dev/kvmfr0 is real). */
#pragma once

#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "checks.h"
#include "host-files.h"

static inline const char *fixtures_dir(void) {
        static char dir[4096];
        if (dir[0])
                return dir;
        const char *env = getenv("WINVM_FIXTURES_DIR");
        if (env && *env)
                snprintf(dir, sizeof(dir), "%s", env);
        else {
                const char *file = __FILE__;
                const char *slash = strrchr(file, '/');
                int len = slash ? (int) (slash - file) : 1;
                snprintf(dir, sizeof(dir), "%.*s/../fixtures", len, slash ? file : ".");
                /* Relative to the build directory: when run from elsewhere, find that directory
                 * from the executable (<build>/tests/unit/test-x). */
                struct stat st;
                char exe[2048];
                ssize_t n;
                if (dir[0] != '/' && stat(dir, &st) < 0 && (n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) > 0) {
                        exe[n] = '\0';
                        for (int up = 0; up < 3; up++) {
                                char *s = strrchr(exe, '/');
                                if (s)
                                        *s = '\0';
                        }
                        snprintf(dir, sizeof(dir), "%s/%.*s/../fixtures", exe, len, slash ? file : ".");
                }
        }
        return dir;
}

/* tests/fixtures/hosts/<name>, in a static buffer per call site's use. */
static inline const char *host_root(const char *name) {
        static char roots[8][4096];
        static int next;
        char *b = roots[next++ % 8];
        int k = snprintf(b, sizeof(roots[0]), "%s/hosts/%s", fixtures_dir(), name);
        ck_assert(k > 0 && (size_t) k < sizeof(roots[0]));
        struct stat st;
        ck_assert_msg(stat(b, &st) == 0, "fixture host %s missing (set WINVM_FIXTURES_DIR)", b);
        return b;
}

/* A fixture file's text (tests/fixtures/<rel>); the caller frees it. */
static inline char *fixture_text(const char *rel) {
        char path[4096];
        int k = snprintf(path, sizeof(path), "%s/%s", fixtures_dir(), rel);
        ck_assert(k > 0 && (size_t) k < sizeof(path));
        FILE *f = fopen(path, "re");
        ck_assert_msg(f != NULL, "cannot open fixture %s", path);
        char *buf = NULL;
        size_t size = 0;
        FILE *m = open_memstream(&buf, &size);
        char chunk[4096];
        size_t n;
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
                fwrite(chunk, 1, n, m);
        fclose(f);
        fclose(m);
        return buf;
}

/* Asserts that check id is in l with this status; for an ok check the remedy is empty, for any
 * other one it is non-empty and holds remedy_part (when given); message_part likewise. */
#define assert_check(l, id, status, message_part, remedy_part) \
        assert_check_at(__LINE__, (l), (id), (status), (message_part), (remedy_part))

static inline void assert_check_at(int line, const CheckList *l, const char *id, CheckStatus status,
                                   const char *message_part, const char *remedy_part) {
        const Check *c = check_list_find(l, id);
        ck_assert_msg(c != NULL, "line %d: no check %s", line, id);
        ck_assert_msg(c->status == status, "line %d: %s is %s, expected %s (message: %s; remedy: %s)", line, id,
                      check_status_to_string(c->status), check_status_to_string(status), c->message, c->remedy);
        ck_assert_msg(c->message && *c->message, "line %d: %s has no message", line, id);
        if (message_part)
                ck_assert_msg(strstr(c->message, message_part) != NULL, "line %d: %s message '%s' lacks '%s'", line,
                              id, c->message, message_part);
        if (status == CHECK_OK || status == CHECK_SKIPPED)
                ck_assert_msg(c->remedy && !*c->remedy, "line %d: %s has a remedy: %s", line, id, c->remedy);
        else
                ck_assert_msg(c->remedy && *c->remedy, "line %d: %s (%s) has no remedy", line, id,
                              check_status_to_string(status));
        if (remedy_part)
                ck_assert_msg(strstr(c->remedy, remedy_part) != NULL, "line %d: %s remedy '%s' lacks '%s'", line, id,
                              c->remedy, remedy_part);
}

/* --- fake device nodes --- */

typedef struct FakeNode {
        const char *path;       /* host path, e.g. /dev/kvmfr0 */
        mode_t mode;            /* full st_mode: S_IFCHR | 0660 */
        unsigned major, minor;
        uid_t uid;
        gid_t gid;
        const char *acl;        /* getfacl entries with numeric ids, comma-separated, or NULL */
} FakeNode;

typedef struct FakeHost {
        const FakeNode *nodes;
        size_t n;
} FakeHost;

static inline const FakeNode *fake_find(const FakeHost *h, const char *path) {
        for (size_t i = 0; h && i < h->n; i++)
                if (strcmp(h->nodes[i].path, path) == 0)
                        return &h->nodes[i];
        return NULL;
}

static inline int fake_lstat(const char *root, const char *path, struct stat *ret, void *userdata) {
        const FakeNode *n = fake_find(userdata, path);
        if (!n)
                return host_stat(root, path, false, ret);
        *ret = (struct stat) {
                .st_mode = n->mode,
                .st_uid = n->uid,
                .st_gid = n->gid,
                .st_rdev = makedev(n->major, n->minor),
        };
        return 0;
}

/* Encodes "user::rw-,user:1000:rw-,group::rw-,mask::rw-,other::---" the way the kernel stores
 * system.posix_acl_access: a le32 version 2, then le16 tag, le16 perm, le32 id per entry. */
static inline size_t fake_acl_encode(const char *text, unsigned char *out, size_t max) {
        size_t n = 0;
        out[n++] = 2, out[n++] = 0, out[n++] = 0, out[n++] = 0;
        char copy[512];
        snprintf(copy, sizeof(copy), "%s", text);
        char *save = NULL;
        for (char *e = strtok_r(copy, ",", &save); e && n + 8 <= max; e = strtok_r(NULL, ",", &save)) {
                char kind[16] = "", qual[32] = "", perm[8] = "";
                sscanf(e, "%15[^:]:%31[^:]:%7s", kind, qual, perm);
                if (e[strlen(kind) + 1] == ':') {        /* empty qualifier: sscanf stopped */
                        qual[0] = '\0';
                        sscanf(e + strlen(kind) + 2, "%7s", perm);
                }
                unsigned tag = strcmp(kind, "user") == 0 ? (*qual ? 0x02 : 0x01)
                             : strcmp(kind, "group") == 0 ? (*qual ? 0x08 : 0x04)
                             : strcmp(kind, "mask") == 0 ? 0x10 : 0x20;
                unsigned p = (perm[0] == 'r' ? 4 : 0) | (perm[1] == 'w' ? 2 : 0) | (perm[2] == 'x' ? 1 : 0);
                uint32_t id = *qual ? (uint32_t) strtoul(qual, NULL, 10) : 0xffffffffu;
                out[n++] = (unsigned char) tag, out[n++] = 0;
                out[n++] = (unsigned char) p, out[n++] = 0;
                out[n++] = id & 0xff, out[n++] = (id >> 8) & 0xff, out[n++] = (id >> 16) & 0xff, out[n++] = id >> 24;
        }
        return n;
}

static inline ssize_t fake_getxattr(const char *root, const char *path, const char *name, void *buf, size_t size,
                                    void *userdata) {
        const FakeNode *n = fake_find(userdata, path);
        if (!n || !n->acl || strcmp(name, "system.posix_acl_access") != 0)
                return -ENODATA;
        unsigned char tmp[512];
        size_t len = fake_acl_encode(n->acl, tmp, sizeof(tmp));
        if (size == 0)
                return (ssize_t) len;
        if (size < len)
                return -ERANGE;
        memcpy(buf, tmp, len);
        return (ssize_t) len;
}

#define FAKE_OPS(host) ((HostOps) { .lstat = fake_lstat, .getxattr = fake_getxattr, .userdata = (void *) (host) })

/* The device facts of each fixture host (see tests/fixtures/hosts/README.md). */
static const FakeNode intel_seed_nodes[] = {
        { "/dev/kvmfr0", S_IFCHR | 0660, 242, 0, 1000, 302, "user::rw-,user:1000:rw-,group::rw-,mask::rw-,other::---" },
};
static const FakeNode shared_group_nodes[] = {
        { "/dev/kvmfr0", S_IFCHR | 0600, 242, 0, 0, 0, NULL },
};
static const FakeNode amd_nodes[] = {
        { "/dev/kvmfr0", S_IFCHR | 0660, 511, 0, 0, 302, "user::rw-,user:1000:rw-,group::rw-,mask::rw-,other::---" },
};
static const FakeNode nixos_nodes[] = {
        { "/dev/kvmfr0", S_IFCHR | 0660, 242, 0, 1000, 302, "user::rw-,user:1000:rw-,group::rw-,mask::rw-,other::---" },
};
static const FakeHost intel_seed_host = { intel_seed_nodes, 1 };
static const FakeHost nixos_fixture_host = { nixos_nodes, 1 };
static const FakeHost shared_group_host = { shared_group_nodes, 1 };
static const FakeHost amd_host = { amd_nodes, 1 };
static const FakeHost no_nodes_host = { NULL, 0 };
