/* The doctor's repairs: the edits of a VM's definition that turn a doctor check to ok. Pure:
 * takes and returns domain XML text (libxml2); the caller (repair-ops.c) gives the host's facts
 * in a RepairContext and puts the result through the guarded, journalled, undoable redefine
 * of vm-config-ops.h, so a repair is admitted and undone like any configuration change.
 *
 * Each repair changes nothing when its setting is already right, so "every repair" is a safe
 * request: only what is missing changes. */
#pragma once

#include <stdbool.h>

#include "cpu-pinning.h"

typedef struct RepairContext {
        const char *kvmfr_device;               /* NULL: /dev/kvmfr0 */
        unsigned kvmfr_size_mib;                /* the formula's size for the configured resolution */
        const char *virtiofsd;                  /* the binary shares should use; NULL: none known */
        const CpuPlan *plan;                    /* the pinning to write; NULL: none could be made */
        const char *plan_why;                   /* why there is no plan, for the error */
} RepairContext;

/* The check ids a repair exists for, NULL-terminated:
 *   vm.memballoon       <memballoon model='none'/>
 *   vm.hyperv           <hyperv mode='custom'> with relaxed, vapic and spinlocks (retries 8191) on
 *   vm.kvm-hidden       <kvm><hidden state='on'/></kvm>
 *   vm.vendor-id        <vendor_id state='on' value='AuthenticAMD'/> in <hyperv>
 *   vm.input            virtio keyboard and mouse, no tablet
 *   vm.virtiofsd        every virtiofs share on ctx->virtiofsd
 *   kvmfr.ivshmem-path  the IVSHMEM construct of ivshmem-construct.h, sized by the formula
 *   kvmfr.ivshmem-size  the same repair
 *   vm.cpu-pinning      ctx->plan written into <vcpu>, <cputune> and <cpu><topology> */
extern const char *const doctor_repair_ids[];

bool doctor_repair_known(const char *id);

/* Whether a repair of this check needs the guest restarted to take effect (all of them: they
 * change the persistent definition; pinning also reaches a running guest). */
#define DOCTOR_REPAIR_NEXT_START "takes effect at the guest's next start"

/* Applies the repairs for ids (NULL or empty: every one that can be made) to xml.
 * *ret_xml gets the new definition, or NULL when nothing needed to change; *ret_done the ids
 * that changed something (NULL-terminated, maybe empty). A repair named in ids that cannot be
 * made (no plan, no virtiofsd, an administrator's qemu:commandline) fails the whole call with
 * -EINVAL (unknown id), -ENOENT or -EEXIST and a readable *ret_why; nothing is returned then.
 * -EBADMSG when xml does not parse, -ENOMEM. */
int doctor_repair_apply(const char *xml, char *const *ids, const RepairContext *ctx, char **ret_xml,
                        char ***ret_done, char **ret_why);

/* The pinning plan the vm.cpu-pinning repair writes for a guest of n_vcpus vCPUs: the host keeps
 * its first P-core (or core) for itself and the emulator, the guest takes whole P-cores (SMT
 * pairs) as far as its vCPUs fill them, then E-cores one vCPU each (cpu-pinning.h). -EINVAL
 * with *why when this host cannot hold the guest; -ENOMEM. */
int doctor_repair_plan(const CpuTopology *t, unsigned n_vcpus, CpuPlan *ret, char **why);
