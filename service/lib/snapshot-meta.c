#include "snapshot-meta.h"

#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "names.h"

#define GROUP_INDEX "Snapshots"
#define GROUP_PREFIX "Snapshot "

SnapshotSet *snapshot_set_new(void) {
        SnapshotSet *set = calloc(1, sizeof(*set));
        if (set && !(set->current = strdup(""))) {
                free(set);
                return NULL;
        }
        return set;
}

Snapshot *snapshot_free(Snapshot *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_disks; i++) {
                free(s->disks[i].target);
                free(s->disks[i].image);
                free(s->disks[i].stem);
                free(s->disks[i].format);
        }
        free(s->disks);
        free(s->name);
        free(s->description);
        free(s->parent);
        free(s->guest_state);
        free(s);
        return NULL;
}

SnapshotSet *snapshot_set_free(SnapshotSet *set) {
        if (!set)
                return NULL;
        for (size_t i = 0; i < set->n; i++)
                snapshot_free(set->items[i]);
        free(set->items);
        free(set->current);
        for (size_t i = 0; i < set->n_stems; i++) {
                free(set->stem_targets[i]);
                free(set->stems[i]);
        }
        free(set->stem_targets);
        free(set->stems);
        free(set);
        return NULL;
}

const char *snapshot_set_stem(const SnapshotSet *set, const char *target) {
        for (size_t i = 0; set && i < set->n_stems; i++)
                if (strcmp(set->stem_targets[i], target) == 0)
                        return set->stems[i];
        return NULL;
}

int snapshot_set_remember_stem(SnapshotSet *set, const char *target, const char *stem) {
        if (snapshot_set_stem(set, target))
                return 0;
        char **t = realloc(set->stem_targets, (set->n_stems + 1) * sizeof(char *));
        if (!t)
                return -ENOMEM;
        set->stem_targets = t;
        char **v = realloc(set->stems, (set->n_stems + 1) * sizeof(char *));
        if (!v)
                return -ENOMEM;
        set->stems = v;
        t[set->n_stems] = strdup(target);
        v[set->n_stems] = strdup(stem);
        if (!t[set->n_stems] || !v[set->n_stems]) {
                free(t[set->n_stems]);
                free(v[set->n_stems]);
                return -ENOMEM;
        }
        set->n_stems++;
        return 0;
}

Snapshot *snapshot_set_find(const SnapshotSet *set, const char *name) {
        for (size_t i = 0; set && name && i < set->n; i++)
                if (strcmp(set->items[i]->name, name) == 0)
                        return set->items[i];
        return NULL;
}

const SnapshotDisk *snapshot_find_disk(const Snapshot *s, const char *target) {
        for (size_t i = 0; s && i < s->n_disks; i++)
                if (strcmp(s->disks[i].target, target) == 0)
                        return &s->disks[i];
        return NULL;
}

static int append(SnapshotSet *set, Snapshot *s) {
        Snapshot **items = realloc(set->items, (set->n + 1) * sizeof(Snapshot *));
        if (!items)
                return -ENOMEM;
        items[set->n++] = s;
        set->items = items;
        return 0;
}

int snapshot_set_add(SnapshotSet *set, Snapshot *s) {
        if (snapshot_set_find(set, s->name))
                return -EEXIST;
        if (s->parent[0] && !snapshot_set_find(set, s->parent))
                return -EINVAL;
        char *current = strdup(s->name);
        if (!current)
                return -ENOMEM;
        int r = append(set, s);
        if (r < 0) {
                free(current);
                return r;
        }
        free(set->current);
        set->current = current;
        return 0;
}

int snapshot_set_remove(SnapshotSet *set, const char *name) {
        size_t idx = set->n;
        for (size_t i = 0; i < set->n; i++)
                if (strcmp(set->items[i]->name, name) == 0)
                        idx = i;
        if (idx == set->n)
                return -ENOENT;
        Snapshot *gone = set->items[idx];
        /* Copy everything first, so a failed allocation leaves the set as it was. */
        size_t n_children = 0;
        for (size_t i = 0; i < set->n; i++)
                if (strcmp(set->items[i]->parent, name) == 0)
                        n_children++;
        char **parents = calloc(n_children + 1, sizeof(char *));
        char *current = strdup(strcmp(set->current, name) == 0 ? gone->parent : set->current);
        bool oom = !parents || !current;
        for (size_t k = 0; !oom && k < n_children; k++)
                oom = !(parents[k] = strdup(gone->parent));
        if (oom) {
                for (size_t k = 0; parents && k < n_children; k++)
                        free(parents[k]);
                free(parents);
                free(current);
                return -ENOMEM;
        }
        for (size_t i = 0, k = 0; i < set->n; i++)
                if (strcmp(set->items[i]->parent, name) == 0) {
                        free(set->items[i]->parent);
                        set->items[i]->parent = parents[k++];
                }
        free(parents);
        free(set->current);
        set->current = current;
        memmove(set->items + idx, set->items + idx + 1, (set->n - idx - 1) * sizeof(Snapshot *));
        set->n--;
        snapshot_free(gone);
        return 0;
}

const char **snapshot_set_children(const SnapshotSet *set, const char *name) {
        const char **l = calloc(set->n + 1, sizeof(char *));
        size_t k = 0;
        for (size_t i = 0; l && i < set->n; i++)
                if (strcmp(set->items[i]->parent, name) == 0)
                        l[k++] = set->items[i]->name;
        return l;
}

/* A stem becomes part of file names beside the image: one plain name component. */
static bool stem_is_valid(const char *stem) {
        return stem && stem[0] && !strchr(stem, '/') && strcmp(stem, ".") != 0 && strcmp(stem, "..") != 0;
}

static bool guest_state_is_valid(const char *state) {
        return strcmp(state, "running") == 0 || strcmp(state, "paused") == 0 || strcmp(state, "shutoff") == 0;
}

/* GKeyFile merges a repeated group into one; the records must never hold one twice. */
static bool has_duplicate_group(const char *data) {
        g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_auto(GStrv) lines = g_strsplit(data, "\n", -1);
        for (char **l = lines; *l; l++) {
                const char *line = *l;
                while (*line == ' ' || *line == '\t')
                        line++;
                const char *end = line[0] == '[' ? strchr(line, ']') : NULL;
                if (!end)
                        continue;
                char *group = g_strndup(line + 1, (gsize) (end - line - 1));
                if (g_hash_table_contains(seen, group)) {
                        g_free(group);
                        return true;
                }
                g_hash_table_add(seen, group);
        }
        return false;
}

static char *key_for(const char *what, const char *target) {
        return g_strdup_printf("%s.%s", what, target);
}

/* A required string key; records the first problem in *err. */
static char *get_string(GKeyFile *kf, const char *group, const char *key, bool required, GError **err) {
        if (*err)
                return NULL;
        g_autoptr(GError) e = NULL;
        char *v = g_key_file_get_string(kf, group, key, &e);
        if (!v) {
                if (required)
                        *err = g_error_new(G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND,
                                           "[%s] has no valid %s", group, key);
                return strdup("");
        }
        char *copy = strdup(v);
        g_free(v);
        return copy;
}

static Snapshot *parse_snapshot(GKeyFile *kf, const char *group, GError **err) {
        Snapshot *s = calloc(1, sizeof(*s));
        if (!s)
                return NULL;
        s->name = strdup(group + strlen(GROUP_PREFIX));
        s->description = get_string(kf, group, "Description", false, err);
        s->parent = get_string(kf, group, "Parent", false, err);
        s->guest_state = get_string(kf, group, "GuestState", true, err);
        g_autofree char *created = get_string(kf, group, "Created", true, err);
        s->quiesced = g_key_file_get_boolean(kf, group, "Quiesced", NULL);
        s->has_nvram = g_key_file_get_boolean(kf, group, "NVRAM", NULL);
        s->has_tpm = g_key_file_get_boolean(kf, group, "TPM", NULL);
        s->adopted = g_key_file_get_boolean(kf, group, "Adopted", NULL);
        if (!*err && !guest_state_is_valid(s->guest_state))
                *err = g_error_new(G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                                   "[%s] GuestState=%s is not running, paused or shutoff", group, s->guest_state);
        if (!*err && s->parent[0] && !snapshot_name_is_valid(s->parent))
                *err = g_error_new(G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                                   "[%s] Parent=%s is not a snapshot name", group, s->parent);
        if (!*err && !snapshot_description_is_valid(s->description))
                *err = g_error_new(G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                                   "[%s] Description is too long or holds control characters", group);
        if (!*err && (!g_ascii_string_to_unsigned(created, 10, 1, UINT64_MAX, &s->created_usec, NULL)))
                *err = g_error_new(G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                                   "[%s] Created=%s is not a time", group, created);

        gsize n = 0;
        g_auto(GStrv) targets = *err ? NULL : g_key_file_get_string_list(kf, group, "Disks", &n, NULL);
        if (!*err && (!targets || n == 0))
                *err = g_error_new(G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND, "[%s] lists no Disks", group);
        s->disks = calloc(n + 1, sizeof(SnapshotDisk));
        for (gsize i = 0; !*err && s->disks && i < n; i++) {
                SnapshotDisk *d = &s->disks[s->n_disks++];
                d->target = strdup(targets[i]);
                if (!disk_target_is_valid(d->target) || snapshot_find_disk(s, d->target) != d) {
                        *err = g_error_new(G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                                           "[%s] has a bad or repeated disk target '%s'", group, targets[i]);
                        break;
                }
                g_autofree char *ki = key_for("Image", d->target), *ks = key_for("Stem", d->target),
                                *kf_ = key_for("Format", d->target);
                d->image = get_string(kf, group, ki, true, err);
                d->stem = get_string(kf, group, ks, true, err);
                d->format = get_string(kf, group, kf_, false, err);
                if (!*err && d->format[0] && strcmp(d->format, "raw") != 0 && strcmp(d->format, "qcow2") != 0)
                        *err = g_error_new(G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                                           "[%s] disk %s: Format must be raw or qcow2", group, d->target);
                if (!*err && !stem_is_valid(d->stem))
                        *err = g_error_new(G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                                           "[%s] disk %s: Stem must be a plain file name part", group, d->target);
                if (!*err && d->image[0] != '/')
                        *err = g_error_new(G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                                           "[%s] disk %s: image paths must be absolute", group, d->target);
        }
        if (!s->disks && !*err)
                *err = g_error_new_literal(G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_PARSE, "out of memory");
        return s;
}

int snapshot_set_parse(const char *data, SnapshotSet **ret, char **ret_error) {
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autoptr(GError) err = NULL;
        *ret_error = NULL;
        if (!g_key_file_load_from_data(kf, data, strlen(data), G_KEY_FILE_NONE, &err)) {
                *ret_error = strdup(err->message);
                return -EBADMSG;
        }
        if (has_duplicate_group(data)) {
                *ret_error = strdup("a group (a snapshot) is listed twice");
                return -EBADMSG;
        }
        SnapshotSet *set = snapshot_set_new();
        if (!set)
                return -ENOMEM;
        g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);
        for (char **g = groups; !err && *g; g++) {
                if (strcmp(*g, GROUP_INDEX) == 0)
                        continue;
                if (strncmp(*g, GROUP_PREFIX, strlen(GROUP_PREFIX)) != 0 ||
                    !snapshot_name_is_valid(*g + strlen(GROUP_PREFIX))) {
                        err = g_error_new(G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_GROUP_NOT_FOUND,
                                          "unexpected group [%s]", *g);
                        break;
                }
                Snapshot *s = parse_snapshot(kf, *g, &err);
                if (!s)
                        break;
                if (!err && snapshot_set_find(set, s->name))
                        err = g_error_new(G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                                          "snapshot %s is listed twice", s->name);
                if (!err && s->parent[0] && !snapshot_set_find(set, s->parent))
                        err = g_error_new(G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                                          "snapshot %s: parent '%s' is not listed before it", s->name, s->parent);
                if (err || append(set, s) < 0) {
                        snapshot_free(s);
                        break;
                }
        }
        g_auto(GStrv) keys = err ? NULL : g_key_file_get_keys(kf, GROUP_INDEX, NULL, NULL);
        for (char **k = keys; !err && k && *k; k++) {
                if (strncmp(*k, "Stem.", 5) != 0)
                        continue;
                g_autofree char *stem = g_key_file_get_string(kf, GROUP_INDEX, *k, NULL);
                if (!disk_target_is_valid(*k + 5) || !stem_is_valid(stem))
                        err = g_error_new(G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                                          "[%s] %s is not a valid stem", GROUP_INDEX, *k);
                else if (snapshot_set_remember_stem(set, *k + 5, stem) < 0)
                        err = g_error_new_literal(G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_PARSE, "out of memory");
        }
        if (!err) {
                g_autofree char *current = g_key_file_get_string(kf, GROUP_INDEX, "Current", NULL);
                if (current && current[0] && !snapshot_set_find(set, current))
                        err = g_error_new(G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                                          "Current=%s is not a listed snapshot", current);
                else if (current) {
                        free(set->current);
                        set->current = strdup(current);
                }
        }
        if (err) {
                *ret_error = strdup(err->message);
                snapshot_set_free(set);
                return -EBADMSG;
        }
        *ret = set;
        return 0;
}

int snapshot_set_format(const SnapshotSet *set, char **ret_data) {
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_key_file_set_comment(kf, NULL, NULL,
                               " winvm snapshots, oldest first. Written by winvmd; do not edit while it runs.",
                               NULL);
        g_key_file_set_string(kf, GROUP_INDEX, "Current", set->current);
        for (size_t i = 0; i < set->n_stems; i++) {
                g_autofree char *key = key_for("Stem", set->stem_targets[i]);
                g_key_file_set_string(kf, GROUP_INDEX, key, set->stems[i]);
        }
        for (size_t i = 0; i < set->n; i++) {
                const Snapshot *s = set->items[i];
                g_autofree char *group = g_strconcat(GROUP_PREFIX, s->name, NULL);
                g_autofree char *created = g_strdup_printf("%" G_GUINT64_FORMAT, (guint64) s->created_usec);
                g_key_file_set_string(kf, group, "Description", s->description);
                g_key_file_set_string(kf, group, "Parent", s->parent);
                g_key_file_set_string(kf, group, "Created", created);
                g_key_file_set_string(kf, group, "GuestState", s->guest_state);
                g_key_file_set_boolean(kf, group, "Quiesced", s->quiesced);
                g_key_file_set_boolean(kf, group, "NVRAM", s->has_nvram);
                g_key_file_set_boolean(kf, group, "TPM", s->has_tpm);
                if (s->adopted)
                        g_key_file_set_boolean(kf, group, "Adopted", true);
                const char **targets = calloc(s->n_disks + 1, sizeof(char *));
                if (!targets)
                        return -ENOMEM;
                for (size_t k = 0; k < s->n_disks; k++)
                        targets[k] = s->disks[k].target;
                g_key_file_set_string_list(kf, group, "Disks", targets, s->n_disks);
                free(targets);
                for (size_t k = 0; k < s->n_disks; k++) {
                        g_autofree char *ki = key_for("Image", s->disks[k].target),
                                        *ks = key_for("Stem", s->disks[k].target);
                        g_key_file_set_string(kf, group, ki, s->disks[k].image);
                        g_key_file_set_string(kf, group, ks, s->disks[k].stem);
                        if (s->disks[k].format && s->disks[k].format[0]) {
                                g_autofree char *kfmt = key_for("Format", s->disks[k].target);
                                g_key_file_set_string(kf, group, kfmt, s->disks[k].format);
                        }
                }
        }
        g_autofree char *data = g_key_file_to_data(kf, NULL, NULL);
        *ret_data = data ? strdup(data) : NULL;
        return *ret_data ? 0 : -ENOMEM;
}

char *snapshot_name_for_time(const char *prefix, uint64_t usec) {
        time_t t = (time_t) (usec / 1000000);
        struct tm tm;
        char buf[32];
        if (!localtime_r(&t, &tm) || strftime(buf, sizeof(buf), "%Y%m%d-%H%M%S", &tm) == 0)
                return NULL;
        return g_strdup_printf("%s-%s", prefix, buf);
}

char *snapshot_image_stem(const char *path) {
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        const char *dot = strrchr(base, '.');
        size_t n = dot && dot != base ? (size_t) (dot - base) : strlen(base);
        return strndup(base, n);
}
