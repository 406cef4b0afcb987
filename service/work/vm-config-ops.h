/* Changes to a VM's libvirt definition, and the reads they need, run on the definition worker
 * (so they never interleave with snapshot operations) over a libvirt connection of their own.
 * Every change first keeps the definition it replaces (definition-history.h), so it can be
 * undone, and defines the new one with libvirt's validation: a refused definition changes
 * nothing. The handlers in vm-config-dbus.c fill the inputs and reply from the outputs. */
#pragma once

#include <libvirt/libvirt.h>
#include <stdbool.h>
#include <stdint.h>

#include "checks.h"
#include "config.h"
#include "cpu-pinning.h"
#include "cpu-topology.h"
#include "operation.h"
#include "usb-devices.h"
#include "virtiofs-shares.h"

/* Attach and Detach flags. */
#define USB_FLAG_LIVE_ONLY  UINT32_C(1)  /* leave the persistent definition alone */
#define USB_FLAG_IF_RUNNING UINT32_C(2)  /* nothing to do (no error) when the guest is off: for hotplug */
#define USB_FLAG_IF_CONFIGURED UINT32_C(4) /* nothing to do (no error) for an id not in [Usb] Devices: the
                                            * hotplug rule starts the unit for every USB device */
#define USB_FLAGS_ALL       (USB_FLAG_LIVE_ONLY | USB_FLAG_IF_RUNNING | USB_FLAG_IF_CONFIGURED)

typedef struct UsbStatus {
        char id[10];
        char *name;             /* manufacturer and product from sysfs, "" when unplugged */
        bool present, live, persistent;
} UsbStatus;

typedef struct VmConfigOp {
        Operation *operation;           /* the call it runs for, which holds the error; set by the work */
        const WinvmConfig *config;      /* read-only; outlives the operation */
        char *vm;
        const char *change;             /* the WINVM_OPERATION of a change ("usb-attach"), NULL for a read */
        uid_t uid;                      /* of a change, as polkit saw it (event thread, the journal) */

        /* inputs */
        unsigned p_cores, e_cores, host_p_cores;
        UsbId usb;
        uint32_t flags;
        char *path;                     /* SetVirtiofsdPath */
        bool with_diff;
        char **repair_ids;              /* Repair: the check ids, empty for every repair */

        /* outputs */
        CheckList checks;
        CpuTopology topology;
        bool topology_valid;
        CpuPlan plan;
        bool plan_valid;
        VirtiofsShares shares;
        bool shares_valid;
        UsbStatus *usb_status;
        size_t n_usb_status;
        struct DefinitionVersion *history;
        size_t n_history;
        bool differs;
        char *diff;
        char *result;
        char **repaired;                /* Repair: the ids whose repair changed the definition */
        bool definition_changed;
        /* A change the allowlist does not admit (definition-guard.h): the worker sets
         * needs_unrestricted and unrestricted_what; when an administrator admits it
         * (org.winvm1.vm.define-unrestricted), the same operation runs again with
         * unrestricted set, and goes ahead only if the current and the new definition are
         * still the ones checked. */
        bool needs_unrestricted;
        bool unrestricted;
        char *unrestricted_what;
        char *checked_current, *checked_new;
} VmConfigOp;

VmConfigOp *vm_config_op_new(const WinvmConfig *config, const char *vm);
VmConfigOp *vm_config_op_free(VmConfigOp *op);

/* One method's work on the worker, between the frame's lookups: conn and dom are NULL for
 * work on the host alone. */
typedef void (*vm_config_step_fn)(VmConfigOp *op, virConnectPtr conn, virDomainPtr dom);
/* The frame of every method's work function: connects and looks the VM up (unless host_only),
 * runs step, and keeps the last definition seen. lost, when not NULL, runs instead of step
 * (dom NULL) when libvirt has no such domain. */
void vm_config_run(Operation *o, VmConfigOp *op, bool host_only, vm_config_step_fn step, vm_config_step_fn lost);

/* Defines the work function (op_work_fn) name of one method: step in vm_config_run(). */
#define VM_CONFIG_WORK(name, host_only, step, lost)             \
        void name(Operation *o, void *data) {                   \
                vm_config_run(o, data, host_only, step, lost);  \
        }

/* The work functions (op_work_fn; data is the VmConfigOp), one per method. */
void cpu_topology_work(Operation *o, void *data);
void cpu_check_work(Operation *o, void *data);
void cpu_plan_work(Operation *o, void *data);
void cpu_apply_work(Operation *o, void *data);
void usb_list_work(Operation *o, void *data);
void usb_attach_work(Operation *o, void *data);
void usb_detach_work(Operation *o, void *data);
void shares_list_work(Operation *o, void *data);
void shares_check_work(Operation *o, void *data);
void shares_set_virtiofsd_work(Operation *o, void *data);
void definition_export_work(Operation *o, void *data);
void definition_define_work(Operation *o, void *data);
void definition_drift_work(Operation *o, void *data);
void definition_undo_work(Operation *o, void *data);
void definition_history_work(Operation *o, void *data);
void repair_work(Operation *o, void *data);

/* --- shared by the operation files (worker thread) --- */

/* The message of a change the allowlist refused, naming what and the action that admits it. */
#define DEFINE_UNRESTRICTED_ACTION "org.winvm1.vm.define-unrestricted"

/* Set the Operation's error (its first one stays); takes message (NULL means out of memory). */
void vm_config_fail(VmConfigOp *op, const char *name, char *message);
void vm_config_failf(VmConfigOp *op, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Fails op with libvirt's last error under the given error name (NULL: by libvirt's code). */
void vm_config_fail_libvirt(VmConfigOp *op, const char *name, const char *what);

/* The persistent definition (secure: with secrets, for redefining) or the live one. */
char *vm_config_domain_xml(virDomainPtr dom, bool live, bool secure);

/* An undo: the current definition goes to the undone folder instead of the history, and the
 * disk sources snapshots moved since are carried into it. The step back is checked against
 * definition-guard.h like any change: a kept version is admitted again only as far as the
 * allowlist (or an administrator) admits it now. */
#define REDEFINE_UNDO 1u

/* Replaces the persistent definition with new_xml: checks name and uuid, the disks snapshots
 * own and what it changes (definition-guard.h; op->needs_unrestricted when an administrator
 * must admit it), keeps the current definition in the
 * history under what, defines with libvirt's validation. On failure the kept version is
 * dropped again and op carries the error. */
int vm_config_redefine(VmConfigOp *op, virConnectPtr conn, virDomainPtr dom, const char *what, const char *new_xml,
                       unsigned flags);

/* Checks a change from current to new_xml that is not made by vm_config_redefine() (a
 * device attached to the definition) against definition-guard.h, as vm_config_redefine()
 * does. 0, or negative with op failed (op->needs_unrestricted when an administrator may
 * admit it). */
int vm_config_guard(VmConfigOp *op, const char *current, const char *new_xml);

/* Pins the running guest like op->plan when its vCPU count matches; the topology itself only
 * changes at the next start. Returns how many pins were applied (0 when it does not run). */
unsigned cpu_ops_pin_live(VmConfigOp *op, virDomainPtr dom);
/* Define when libvirt has no domain of that name: the file is checked against baseline (the
 * last definition winvm kept), whose snapshot disk sources it takes, or, with no baseline,
 * against an empty domain (so the allowlist or an administrator admits all of it). */
int vm_config_define_lost(VmConfigOp *op, virConnectPtr conn, const char *baseline, const char *new_xml);
