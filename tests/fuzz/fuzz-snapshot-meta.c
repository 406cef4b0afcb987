/* Fuzzes the snapshot records of one VM (service/lib/snapshot-meta.c): a set that parses keeps the
 * rules of snapshot-meta.h, formats to text that parses back to the same set, and that text is
 * a fixed point: format(parse(format(parse(x)))) == format(parse(x)). Removing a snapshot or adding one keeps
 * a set that formats and parses again. */
#include <errno.h>
#include <stdbool.h>

#include "fuzz-common.h"
#include "names.h"
#include "snapshot-meta.h"

/* One plain file name part: it becomes part of overlay file names beside the image. */
static bool stem_ok(const char *stem) {
        return stem && stem[0] && !strchr(stem, '/') && strcmp(stem, ".") != 0 && strcmp(stem, "..") != 0;
}

static void check_set(const SnapshotSet *set) {
        fuzz_check(set->current, "no current");
        fuzz_check(!set->current[0] || snapshot_set_find(set, set->current), "Current '%s' is not listed", set->current);
        for (size_t i = 0; i < set->n; i++) {
                const Snapshot *s = set->items[i];
                fuzz_check(snapshot_name_is_valid(s->name), "name '%s'", s->name);
                fuzz_check(s->description && s->guest_state && s->parent, "%s: a NULL field", s->name);
                fuzz_check(strcmp(s->guest_state, "running") == 0 || strcmp(s->guest_state, "paused") == 0 ||
                           strcmp(s->guest_state, "shutoff") == 0, "%s: GuestState '%s'", s->name, s->guest_state);
                fuzz_check(s->created_usec > 0, "%s: Created 0", s->name);
                fuzz_check(s->n_disks > 0, "%s: no disks", s->name);
                for (size_t k = 0; k < i; k++)
                        fuzz_check(strcmp(set->items[k]->name, s->name) != 0, "%s twice", s->name);
                /* A parent always comes before its children. */
                bool parent_before = !s->parent[0];
                for (size_t k = 0; k < i && !parent_before; k++)
                        parent_before = strcmp(set->items[k]->name, s->parent) == 0;
                fuzz_check(parent_before, "%s: parent '%s' not before it", s->name, s->parent);
                for (size_t d = 0; d < s->n_disks; d++) {
                        const SnapshotDisk *disk = &s->disks[d];
                        fuzz_check(disk_target_is_valid(disk->target), "%s: target '%s'", s->name, disk->target);
                        fuzz_check(snapshot_find_disk(s, disk->target) == disk, "%s: target %s twice", s->name,
                                   disk->target);
                        fuzz_check(disk->image && disk->image[0] == '/', "%s: image '%s'", s->name,
                                   fuzz_str(disk->image));
                        fuzz_check(stem_ok(disk->stem), "%s: stem '%s'", s->name, fuzz_str(disk->stem));
                        free(snapshot_image_stem(disk->image));
                }
                const char **children = snapshot_set_children(set, s->name);
                fuzz_check(children, "children of %s", s->name);
                for (const char **c = children; *c; c++)
                        fuzz_check(strcmp(snapshot_set_find(set, *c)->parent, s->name) == 0, "child %s of %s", *c,
                                   s->name);
                free(children);
        }
        for (size_t i = 0; i < set->n_stems; i++) {
                fuzz_check(disk_target_is_valid(set->stem_targets[i]), "stem target '%s'", set->stem_targets[i]);
                fuzz_check(stem_ok(set->stems[i]), "stem '%s'", set->stems[i]);
                fuzz_check(snapshot_set_stem(set, set->stem_targets[i]) == set->stems[i], "stem of %s twice",
                           set->stem_targets[i]);
        }
}

static void check_same(const SnapshotSet *a, const SnapshotSet *b, const char *what) {
        fuzz_check(strcmp(a->current, b->current) == 0, "%s: current '%s' became '%s'", what, a->current, b->current);
        fuzz_check(a->n == b->n, "%s: %zu snapshots became %zu", what, a->n, b->n);
        for (size_t i = 0; i < a->n; i++) {
                const Snapshot *x = a->items[i], *y = b->items[i];
                fuzz_check(strcmp(x->name, y->name) == 0 && strcmp(x->description, y->description) == 0 &&
                           strcmp(x->parent, y->parent) == 0 && x->created_usec == y->created_usec &&
                           strcmp(x->guest_state, y->guest_state) == 0 && x->quiesced == y->quiesced &&
                           x->has_nvram == y->has_nvram && x->has_tpm == y->has_tpm && x->n_disks == y->n_disks,
                           "%s: snapshot %s changed", what, x->name);
                for (size_t d = 0; d < x->n_disks; d++)
                        fuzz_check(strcmp(x->disks[d].target, y->disks[d].target) == 0 &&
                                   strcmp(x->disks[d].image, y->disks[d].image) == 0 &&
                                   strcmp(x->disks[d].stem, y->disks[d].stem) == 0,
                                   "%s: snapshot %s disk %zu changed", what, x->name, d);
        }
        fuzz_check(a->n_stems == b->n_stems, "%s: %zu stems became %zu", what, a->n_stems, b->n_stems);
        for (size_t i = 0; i < a->n_stems; i++)
                fuzz_check(strcmp(a->stem_targets[i], b->stem_targets[i]) == 0 && strcmp(a->stems[i], b->stems[i]) == 0,
                           "%s: stem %zu changed", what, i);
}

/* Formats set and parses the text: the same set must come back, and formatting that gives the
 * same text again. Returns the text. */
static char *check_round_trip(const SnapshotSet *set, const char *what) {
        char *text = NULL, *error = NULL, *again = NULL;
        SnapshotSet *set2 = NULL;
        fuzz_check(snapshot_set_format(set, &text) == 0 && text, "%s: format failed", what);
        int r = snapshot_set_parse(text, &set2, &error);
        fuzz_check(r == 0, "%s: the formatted set does not parse (%d, %s):\n%s", what, r, fuzz_str(error), text);
        check_set(set2);
        check_same(set, set2, what);
        fuzz_check(snapshot_set_format(set2, &again) == 0 && again, "%s: format failed", what);
        fuzz_check(strcmp(text, again) == 0, "%s: not a fixed point:\n%s\n-- became --\n%s", what, text, again);
        free(again);
        snapshot_set_free(set2);
        return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *input = fuzz_strndup(data, size);
        SnapshotSet *set = NULL;
        char *error = NULL;

        int r = snapshot_set_parse(input, &set, &error);
        if (r < 0) {
                fuzz_check(r == -EBADMSG && error && !set, "failed with %d, error '%s'", r, fuzz_str(error));
                free(error);
                free(input);
                return 0;
        }
        fuzz_check(set && !error, "success with error '%s'", fuzz_str(error));
        check_set(set);
        free(check_round_trip(set, "parsed"));

        /* Take a new snapshot on top of the current one, as CreateSnapshot does. */
        Snapshot *s = calloc(1, sizeof(*s));
        s->name = strdup("fuzz-new");
        s->description = strdup("taken by the fuzzer");
        s->parent = strdup(set->current);
        s->guest_state = strdup("running");
        s->created_usec = 1700000000000000;
        s->disks = calloc(1, sizeof(SnapshotDisk));
        s->disks[0] = (SnapshotDisk) { strdup("vda"), strdup("/vm-storage/images/windows11.fuzz-new"),
                                       strdup("windows11") };
        s->n_disks = 1;
        if (snapshot_set_add(set, s) < 0)
                snapshot_free(s);
        else
                fuzz_check(strcmp(set->current, "fuzz-new") == 0, "current after add is '%s'", set->current);
        check_set(set);
        free(check_round_trip(set, "after add"));

        /* Remove one snapshot, chosen by the input: its children move to its parent. */
        if (set->n > 0) {
                const char *victim = set->items[size % set->n]->name;
                char *name = strdup(victim);
                Snapshot *gone = snapshot_set_find(set, name);
                char *parent = strdup(gone->parent);
                bool was_current = strcmp(set->current, name) == 0;
                fuzz_check(snapshot_set_remove(set, name) == 0, "remove %s", name);
                fuzz_check(!snapshot_set_find(set, name), "%s still listed", name);
                if (was_current)
                        fuzz_check(strcmp(set->current, parent) == 0, "current '%s', expected the parent '%s'",
                                   set->current, parent);
                check_set(set);
                free(check_round_trip(set, "after remove"));
                free(parent);
                free(name);
        }

        snapshot_set_free(set);
        free(input);
        return 0;
}
