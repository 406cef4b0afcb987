#include "definition-history.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "host-files.h"
#include "safe-files.h"
#include "util.h"

static uint64_t realtime_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

static char *folder_of(const char *state_dir, const char *vm, bool undone) {
        char *p = NULL;
        return asprintf(&p, "%s/definitions/%s%s", state_dir, vm, undone ? "/undone" : "") < 0 ? NULL : p;
}

/* "<10-digit sequence>-<20-digit usec>-<what>.xml" -> seq, usec and what; false for anything
 * else. The order is the sequence's, not the clock's: a clock stepped back must not make the
 * newest version look oldest (undo and pruning go by it). */
static bool parse_name(const char *name, uint64_t *seq, uint64_t *usec, char **what) {
        size_t len = strlen(name);
        if (len < 37 || strspn(name, "0123456789") != 10 || name[10] != '-' || strspn(name + 11, "0123456789") != 20 ||
            name[31] != '-' || strcmp(name + len - 4, ".xml") != 0)
                return false;
        *seq = strtoull(name, NULL, 10);
        *usec = strtoull(name + 11, NULL, 10);
        *what = strndup(name + 32, len - 36);
        return *what != NULL;
}

void definition_versions_free(DefinitionVersion *v, size_t n) {
        for (size_t i = 0; v && i < n; i++) {
                free(v[i].path);
                free(v[i].what);
        }
        free(v);
}

static int list_folder(const char *folder, DefinitionVersion **ret, size_t *ret_n) {
        char **names = NULL;
        int r = host_list_dir(NULL, folder, &names);
        if (r == -ENOENT) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        if (r < 0)
                return r;
        DefinitionVersion *v = calloc(strv_length(names) + 1, sizeof(*v));
        size_t n = 0;
        for (char **name = names; v && *name; name++) {   /* sorted by name, so oldest first */
                DefinitionVersion d = { 0 };
                uint64_t seq;
                if (!parse_name(*name, &seq, &d.usec, &d.what))
                        continue;
                if (asprintf(&d.path, "%s/%s", folder, *name) < 0) {
                        free(d.what);
                        continue;
                }
                v[n++] = d;
        }
        strv_free(names);
        if (!v)
                return -ENOMEM;
        *ret = v;
        *ret_n = n;
        return 0;
}

static void prune(const char *folder) {
        DefinitionVersion *v = NULL;
        size_t n = 0;
        if (list_folder(folder, &v, &n) < 0)
                return;
        for (size_t i = 0; n > DEFINITION_HISTORY_MAX && i < n - DEFINITION_HISTORY_MAX; i++)
                (void) unlink(v[i].path);
        definition_versions_free(v, n);
}

static int keep(const char *folder, const char *what, const char *xml, char **ret_path) {
        if (!folder)
                return -ENOMEM;
        if (!what[0] || strspn(what, "abcdefghijklmnopqrstuvwxyz-") != strlen(what) || strlen(what) > 32)
                return -EINVAL;
        int r = mkdir_parents(folder);
        if (r < 0)
                return r;
        DefinitionVersion *v = NULL;
        size_t n = 0;
        r = list_folder(folder, &v, &n);
        if (r < 0)
                return r;
        /* The next sequence number: one past the newest kept. */
        uint64_t seq = 0;
        if (n > 0) {
                const char *base = strrchr(v[n - 1].path, '/');
                seq = strtoull(base ? base + 1 : v[n - 1].path, NULL, 10) + 1;
        }
        definition_versions_free(v, n);
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/%010" PRIu64 "-%020" PRIu64 "-%s.xml", folder, seq % 10000000000u, realtime_usec(),
                     what) < 0)
                return -ENOMEM;
        r = write_file_atomic(path, xml, strlen(xml), 0600);
        if (r < 0)
                return r;
        if (ret_path)
                *ret_path = TAKE_PTR(path);
        return 0;
}

int definition_history_keep(const char *state_dir, const char *vm, const char *what, const char *xml,
                            char **ret_path) {
        _cleanup_free_ char *folder = folder_of(state_dir, vm, false);
        return keep(folder, what, xml, ret_path);
}

int definition_history_keep_undone(const char *state_dir, const char *vm, const char *xml) {
        _cleanup_free_ char *folder = folder_of(state_dir, vm, true);
        int r = keep(folder, "undone", xml, NULL);
        if (r == 0)
                prune(folder);
        return r;
}

void definition_history_prune(const char *state_dir, const char *vm) {
        _cleanup_free_ char *folder = folder_of(state_dir, vm, false);
        if (folder)
                prune(folder);
}

int definition_history_list(const char *state_dir, const char *vm, DefinitionVersion **ret, size_t *ret_n) {
        _cleanup_free_ char *folder = folder_of(state_dir, vm, false);
        return folder ? list_folder(folder, ret, ret_n) : -ENOMEM;
}

int definition_history_drop(const char *path) {
        if (unlink(path) < 0 && errno != ENOENT)
                return -errno;
        return sync_parent(path);
}
