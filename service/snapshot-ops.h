/* Snapshot operations, run start to finish on the snapshot worker thread with a libvirt
 * connection of their own. Each one first finishes or rolls back what an earlier winvmd left
 * behind (the intent journal), then works in steps that can each be interrupted by a crash:
 *
 *   create: intent → copy NVRAM/TPM → libvirt makes the overlays (atomic, definition switched)
 *           → metadata saved → intent removed
 *   revert: [guest shut down] → intent → firmware of the current state kept → new overlays
 *           → NVRAM/TPM restored → definition switched → metadata saved → discarded files
 *           removed → intent removed → [guest started]
 *   delete: intent → dependents merged (qemu-img rebase, or a block pull while running)
 *           → metadata saved → the snapshot's image and firmware removed → intent removed
 *   delete, guest off, one dependent holding less data than the snapshot's image:
 *           intent → metadata saved → the dependent committed into the image → the image
 *           renamed over the dependent → firmware removed → intent removed
 *           (time follows the dependent's data, not the disk's size)
 *
 * Recovery decides by the domain definition: create and revert roll forward once the
 * definition points at the new overlays, and back otherwise; delete always rolls forward,
 * since a merge never changes what any image reads. */
#pragma once

#include <stdint.h>

#include "snapshot-meta.h"

typedef enum SnapshotOpKind {
        SNAPSHOT_OP_LOAD,       /* recover if needed and read the snapshots */
        SNAPSHOT_OP_CREATE,
        SNAPSHOT_OP_REVERT,
        SNAPSHOT_OP_DELETE,
        SNAPSHOT_OP_ADOPT,      /* take in snapshots made outside winvm (snapshot-adopt.h) */
} SnapshotOpKind;

#define SNAPSHOT_REVERT_SHUTDOWN 1u     /* shut the guest down first, start it again after */
#define SNAPSHOT_REVERT_DISCARD  2u     /* do not keep the current state as a snapshot */
#define SNAPSHOT_REVERT_FORCE    4u     /* with SHUTDOWN: force off after the timeout */
#define SNAPSHOT_REVERT_ALL      7u

/* Where libvirt keeps swtpm state: <root>/<domain uuid>. */
#define SWTPM_STATE_ROOT "/var/lib/libvirt/swtpm"

typedef struct SnapshotOp {
        /* In. */
        SnapshotOpKind kind;
        char *uri, *vm, *state_dir;
        char *name, *description;
        uint64_t flags;
        uint32_t shutdown_timeout_sec;

        /* Out. */
        const char *error_name;         /* NULL on success */
        char *error_message;
        char *result;                   /* create: the name; revert: the kept snapshot or "" */
        SnapshotSet *set;               /* the snapshots afterwards, sizes filled in; NULL if unreadable */
        char **adopted;                 /* adopt, and a load that adopted: the snapshots taken in */
        const char *notice_name;        /* load: why adopting what exists failed (the load itself did not) */
        char *notice;
} SnapshotOp;

SnapshotOp *snapshot_op_new(SnapshotOpKind kind, const char *uri, const char *vm, const char *state_dir);
SnapshotOp *snapshot_op_free(SnapshotOp *op);

/* Worker thread only. */
void snapshot_op_run(SnapshotOp *op);

/* The folder of a VM's snapshot records: <state_dir>/snapshots/<vm>. */
char *snapshot_state_folder(const char *state_dir, const char *vm);

/* Tests only: "create:intent" and the like; winvmd kills itself with SIGKILL at that step.
 * Set once from WINVMD_TEST_CRASH_AT before any operation runs. */
extern const char *snapshot_crash_at;
