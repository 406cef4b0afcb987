/* Changes to a VM's libvirt definition, and the reads they need, run on the snapshot worker
 * (so they never interleave with snapshot operations) over a libvirt connection of their own.
 * Every change first keeps the definition it replaces (definition-history.h), so it can be
 * undone, and defines the new one with libvirt's validation: a refused definition changes
 * nothing. The handlers in config-dbus.c fill the inputs and reply from the outputs. */
#pragma once

#include <libvirt/libvirt.h>
#include <stdbool.h>
#include <stdint.h>

#include "checks.h"
#include "config.h"
#include "cpu-pinning.h"
#include "cpu-topology.h"
#include "usb-devices.h"
#include "virtiofs-shares.h"

typedef enum VmConfigOpKind {
        VMCFG_TOPOLOGY,         /* the host's CPUs; no VM */
        VMCFG_PIN_CHECK,
        VMCFG_PIN_PLAN,         /* no VM */
        VMCFG_PIN_APPLY,
        VMCFG_USB_LIST,
        VMCFG_USB_ATTACH,
        VMCFG_USB_DETACH,
        VMCFG_SHARES_LIST,
        VMCFG_SHARES_CHECK,
        VMCFG_SET_VIRTIOFSD,
        VMCFG_EXPORT,
        VMCFG_DEFINE,
        VMCFG_DRIFT,
        VMCFG_UNDO,
        VMCFG_HISTORY,
} VmConfigOpKind;

/* Attach and Detach flags. */
#define USB_FLAG_LIVE_ONLY  UINT32_C(1)  /* leave the persistent definition alone */
#define USB_FLAG_IF_RUNNING UINT32_C(2)  /* nothing to do (no error) when the guest is off: for hotplug */
#define USB_FLAGS_ALL       (USB_FLAG_LIVE_ONLY | USB_FLAG_IF_RUNNING)

typedef struct UsbStatus {
        char id[10];
        char *name;             /* manufacturer and product from sysfs, "" when unplugged */
        bool present, live, persistent;
} UsbStatus;

typedef struct VmConfigOp {
        VmConfigOpKind kind;
        const WinvmConfig *config;      /* read-only; outlives the operation */
        char *vm;

        /* inputs */
        unsigned p_cores, e_cores, host_p_cores;
        UsbId usb;
        uint32_t flags;
        char *path;                     /* SetVirtiofsdPath */
        bool with_diff;

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
        bool definition_changed;
        const char *error_name;
        char *error_message;
} VmConfigOp;

VmConfigOp *vm_config_op_new(VmConfigOpKind kind, const WinvmConfig *config, const char *vm);
VmConfigOp *vm_config_op_free(VmConfigOp *op);
/* Worker thread only. */
void vm_config_op_run(VmConfigOp *op);

/* --- shared by the operation files (worker thread) --- */

/* Sets the error once; takes message (NULL means out of memory). */
void vm_config_fail(VmConfigOp *op, const char *name, char *message);
void vm_config_failf(VmConfigOp *op, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Fails op with libvirt's last error under the given error name (NULL: by libvirt's code). */
void vm_config_fail_libvirt(VmConfigOp *op, const char *name, const char *what);

/* The persistent definition (secure: with secrets, for redefining) or the live one. */
char *vm_config_domain_xml(virDomainPtr dom, bool live, bool secure);

/* An undo: the current definition goes to the undone folder instead of the history, the
 * new one (a kept version) is not checked against definition-guard.h, and the disk sources
 * snapshots moved since are carried into it. */
#define REDEFINE_UNDO 1u

/* Replaces the persistent definition with new_xml: checks name and uuid, what it may bring
 * in (definition-guard.h) and the disks snapshots own, keeps the current definition in the
 * history under what, defines with libvirt's validation. On failure the kept version is
 * dropped again and op carries the error. */
int vm_config_redefine(VmConfigOp *op, virConnectPtr conn, virDomainPtr dom, const char *what, const char *new_xml,
                       unsigned flags);

void cpu_ops_run(VmConfigOp *op, virConnectPtr conn, virDomainPtr dom);
void usb_ops_run(VmConfigOp *op, virConnectPtr conn, virDomainPtr dom);
void shares_ops_run(VmConfigOp *op, virConnectPtr conn, virDomainPtr dom);
void definition_ops_run(VmConfigOp *op, virConnectPtr conn, virDomainPtr dom);
