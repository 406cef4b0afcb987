/* The snapshots of one VM as winvmd records them: a key file in the state folder, oldest
 * first. Pure: parses and formats text, so the unit tests cover every rule.
 *
 * The model. Each snapshot freezes, per disk, the image that was the top of the chain when
 * it was taken (Image); a new overlay took its place. The current disks are
 * overlays on the frozen images of the Current snapshot. Every image other than a current
 * disk is some snapshot's frozen image. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct SnapshotDisk {
        char *target;   /* vda */
        char *image;    /* the frozen image: the snapshot's content (with its backing chain) */
        char *stem;     /* the chain's name stem: "windows11" for windows11.qcow2 */
        char *format;   /* the image's format (raw, qcow2) as the definition said when the
                         * snapshot was taken; "" in records of an older winvm */
} SnapshotDisk;

typedef struct Snapshot {
        char *name;
        char *description;
        char *parent;           /* "" for a snapshot taken with no snapshot before it */
        uint64_t created_usec;  /* CLOCK_REALTIME */
        char *guest_state;      /* running, paused or shutoff */
        bool quiesced;
        bool has_nvram, has_tpm;/* copies kept in the state folder */
        bool adopted;           /* found on disk (libvirt's metadata, a backing chain), not taken by winvm */
        SnapshotDisk *disks;
        size_t n_disks;

        /* Not stored: filled in by whoever looks at the files. */
        uint64_t bytes_on_disk;
} Snapshot;

typedef struct SnapshotSet {
        char *current;          /* "" when no snapshot exists */
        Snapshot **items;       /* oldest first; a parent always comes before its children */
        size_t n;
        /* The name stem of each disk's chain, remembered from the first snapshot on, so
         * overlays keep the seed's naming even after every snapshot is deleted. */
        char **stem_targets, **stems;
        size_t n_stems;
} SnapshotSet;

SnapshotSet *snapshot_set_new(void);
SnapshotSet *snapshot_set_free(SnapshotSet *set);
Snapshot *snapshot_free(Snapshot *s);

/* Parses the key file text. On a violated rule (bad name, unknown parent, a parent after its
 * child, duplicate, missing key) returns -EBADMSG and a message in *ret_error. */
int snapshot_set_parse(const char *data, SnapshotSet **ret, char **ret_error);
int snapshot_set_format(const SnapshotSet *set, char **ret_data);

Snapshot *snapshot_set_find(const SnapshotSet *set, const char *name);
const SnapshotDisk *snapshot_find_disk(const Snapshot *s, const char *target);

/* Appends s (taking it) and makes it current. -EEXIST for a duplicate name, -EINVAL when its
 * parent is unknown. */
int snapshot_set_add(SnapshotSet *set, Snapshot *s);

/* Forgets a snapshot: its children take its parent, and when it was current its parent
 * becomes current. -ENOENT when unknown. */
int snapshot_set_remove(SnapshotSet *set, const char *name);

/* The remembered stem for target, NULL when none. */
const char *snapshot_set_stem(const SnapshotSet *set, const char *target);
int snapshot_set_remember_stem(SnapshotSet *set, const char *target, const char *stem);

/* The names of s's children, NULL-terminated (the strings belong to the set). */
const char **snapshot_set_children(const SnapshotSet *set, const char *name);

/* "snapshot-YYYYMMDD-HHMMSS" style names in local time; prefix "snapshot" or "pre-revert". */
char *snapshot_name_for_time(const char *prefix, uint64_t usec);

/* The stem of an image file name: its base name without the last extension ("windows11"
 * for /vm/windows11.qcow2; the whole name when it has none). */
char *snapshot_image_stem(const char *path);
