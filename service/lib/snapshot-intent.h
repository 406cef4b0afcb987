/* The intent journal of a snapshot operation: written to the state folder before any disk
 * is touched, removed when the operation is complete. When winvmd starts and finds one, the
 * operation is finished or rolled back (snapshot-ops.c decides which). Pure: text in, text out. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct IntentDisk {
        char *target;
        char *image;            /* create: the top that gets frozen; revert: the top left behind;
                                 * delete: the frozen image that goes away */
        char *overlay;          /* create, revert: the new overlay that becomes the top;
                                 * delete: the single dependent that is committed into image,
                                 * which then moves into its place ("" when dependents are
                                 * rebased instead) */
        char *stem;
        char *backing;          /* revert: the snapshot's image under the new overlay;
                                 * delete: where dependents are moved to ("" for none) */
        char *backing_format;
        char *image_format;     /* create: image's format, from the definition; "" when unknown */
} IntentDisk;

typedef struct Intent {
        char *op;               /* create, revert, delete */
        char *name;             /* the snapshot created, reverted to or deleted */
        char *kept;             /* revert: the pre-revert snapshot, "" when discarded */
        char *parent;           /* create, revert: the parent of the new snapshot */
        char *description;
        char *guest_state;
        uint64_t created_usec;
        char *nvram;            /* the domain's NVRAM file, "" when none */
        char *tpm;              /* the domain's swtpm state folder, "" when none */
        IntentDisk *disks;
        size_t n_disks;
} Intent;

Intent *intent_new(const char *op, const char *name);
Intent *intent_free(Intent *in);
/* Adds a disk; every string may be NULL for "". Returns the disk or NULL on OOM. */
IntentDisk *intent_add_disk(Intent *in, const char *target, const char *image, const char *overlay,
                            const char *stem, const char *backing, const char *backing_format);

int intent_format(const Intent *in, char **ret_data);
/* -EBADMSG and a message for text that is not a complete intent. */
int intent_parse(const char *data, Intent **ret, char **ret_error);
