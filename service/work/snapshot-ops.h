/* Snapshot operations, run start to finish on the definition worker thread with a libvirt
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
#include <sys/types.h>

#include "operation.h"
#include "snapshot-meta.h"

#define SNAPSHOT_REVERT_SHUTDOWN 1u     /* shut the guest down first, start it again after */
#define SNAPSHOT_REVERT_DISCARD  2u     /* do not keep the current state as a snapshot */
#define SNAPSHOT_REVERT_FORCE    4u     /* with SHUTDOWN: force off after the timeout */
#define SNAPSHOT_REVERT_ALL      7u

/* Where libvirt keeps swtpm state: <root>/<domain uuid>. */
#define SWTPM_STATE_ROOT "/var/lib/libvirt/swtpm"

/* What one snapshot call carries; its failure goes to the Operation's error slot. */
typedef struct SnapshotOp {
        /* In. */
        char *uri, *vm, *state_dir;
        char *name, *description;
        uint64_t flags;
        uint32_t shutdown_timeout_sec;
        uid_t uid;                      /* the caller, for the journal (event thread) */

        /* Out. */
        char *result;                   /* create: the name; revert: the kept snapshot or "" */
        SnapshotSet *set;               /* the snapshots afterwards, sizes filled in; NULL if unreadable */
        char **adopted;                 /* adopt, and a load that adopted: the snapshots taken in */
        const char *notice_name;        /* load: why adopting what exists failed (the load itself did not) */
        char *notice;
} SnapshotOp;

SnapshotOp *snapshot_op_new(const char *uri, const char *vm, const char *state_dir);
SnapshotOp *snapshot_op_free(SnapshotOp *op);

/* The work functions (op_work_fn, on the definition worker; data is the SnapshotOp). Each first
 * finishes what an earlier winvmd left, and leaves the snapshots as they are on disk in set. */
void snapshot_load_work(Operation *o, void *data);     /* recover if needed and read the snapshots */
void snapshot_create_work(Operation *o, void *data);
void snapshot_revert_work(Operation *o, void *data);
void snapshot_delete_work(Operation *o, void *data);
void snapshot_adopt_work(Operation *o, void *data);    /* take in snapshots made outside winvm (snapshot-adopt.h) */

/* The folder of a VM's snapshot records: <state_dir>/snapshots/<vm>. */
char *snapshot_state_folder(const char *state_dir, const char *vm);

/* Tests only: "create:intent" and the like; winvmd kills itself with SIGKILL at that step.
 * Set once from WINVMD_TEST_CRASH_AT before any operation runs. */
extern const char *snapshot_crash_at;
