/* Manager.Repair on the worker: the doctor's repairs (doctor-repair.h) with this host's facts,
 * put through vm_config_redefine(), so each one is checked by the definition guard, kept in the
 * history for winvmctl undo, and journalled like every configuration change. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doctor-repair.h"
#include "errors.h"
#include "host-files.h"
#include "kvmfr-checks.h"
#include "nixos-host.h"
#include "util.h"
#include "vm-config-ops.h"
#include "virtiofs-shares.h"
#include "xml-doc.h"

#define NIX_STORE "/nix/store/"

static bool usable(const WinvmConfig *cfg, const char *path) {
        return path && virtiofs_binary_allowed(cfg->virtiofsd_allowed, path) && host_is_executable(cfg->host_root, path);
}

/* The virtiofsd the shares should use: the current one when it is allowed, there and no Nix
 * store path (which a garbage collection removes); else NixOS's stable path; else the first
 * allowed binary that exists. */
static const char *pick_virtiofsd(const WinvmConfig *cfg, const char *xml) {
        VirtiofsShares s;
        const char *pick = NULL;
        if (virtiofs_shares_from_xml(xml, &s) == 0) {
                const char *now = s.n > 0 ? s.items[0].binary : NULL;
                if (usable(cfg, now) && strncmp(now, NIX_STORE, strlen(NIX_STORE)) != 0)
                        for (char **a = cfg->virtiofsd_allowed; a && *a && !pick; a++)
                                if (strcmp(*a, now) == 0)
                                        pick = *a;
                virtiofs_shares_clear(&s);
        }
        if (!pick && usable(cfg, NIXOS_SW_BIN "/virtiofsd"))
                for (char **a = cfg->virtiofsd_allowed; a && *a && !pick; a++)
                        if (strcmp(*a, NIXOS_SW_BIN "/virtiofsd") == 0)
                                pick = *a;
        for (char **a = cfg->virtiofsd_allowed; a && *a && !pick; a++)
                if (usable(cfg, *a) && strncmp(*a, NIX_STORE, strlen(NIX_STORE)) != 0)
                        pick = *a;
        return pick;
}

static unsigned vcpu_count(const char *xml) {
        XmlDoc x;
        if (xml_doc_open(xml, &x) < 0)
                return 0;
        _cleanup_free_ char *text = xml_doc_string(&x, NULL, "normalize-space(/domain/vcpu)");
        xml_doc_close(&x);
        long n = text ? strtol(text, NULL, 10) : 0;
        return n > 0 && n <= 4096 ? (unsigned) n : 0;
}

static void repair(VmConfigOp *op, virConnectPtr conn, virDomainPtr dom) {
        const WinvmConfig *cfg = op->config;
        _cleanup_free_ char *xml = vm_config_domain_xml(dom, false, true), *edited = NULL, *why = NULL,
                            *plan_why = NULL;
        if (!xml) {
                vm_config_fail_libvirt(op, NULL, "cannot read the definition");
                return;
        }
        RepairContext ctx = {
                .kvmfr_device = cfg->kvmfr_device,
                .kvmfr_size_mib = kvmfr_required_size_mib(cfg->kvmfr_width, cfg->kvmfr_height, cfg->kvmfr_hdr),
                .virtiofsd = pick_virtiofsd(cfg, xml),
        };
        CpuTopology t;
        if (cpu_topology_read(cfg->host_root, &t) == 0) {
                if (doctor_repair_plan(&t, vcpu_count(xml), &op->plan, &plan_why) == 0) {
                        op->plan_valid = true;
                        ctx.plan = &op->plan;
                }
                cpu_topology_clear(&t);
        }
        ctx.plan_why = plan_why;

        int r = doctor_repair_apply(xml, op->repair_ids, &ctx, &edited, &op->repaired, &why);
        if (r == -ENOMEM) {
                vm_config_fail(op, WINVM_ERROR_FAILED, NULL);
                return;
        }
        if (r < 0) {
                vm_config_failf(op, r == -EINVAL ? WINVM_ERROR_INVALID_ARGUMENT : WINVM_ERROR_FAILED,
                                "cannot repair VM %s: %s", op->vm,
                                why ? why : "libvirt's definition does not parse");
                return;
        }
        if (!edited) {
                if (asprintf(&op->result, "VM %s: nothing to repair, the definition has every setting asked for",
                             op->vm) < 0)
                        op->result = NULL;
                return;
        }
        if (vm_config_redefine(op, conn, dom, "repair", edited, 0) < 0) {
                strv_free(op->repaired);
                op->repaired = NULL;
                return;
        }
        _cleanup_free_ char *list = NULL;
        size_t len = 1;
        for (char **i = op->repaired; i && *i; i++)
                len += strlen(*i) + 2;
        list = calloc(1, len);
        for (char **i = op->repaired; list && i && *i; i++) {
                if (*list)
                        strcat(list, ", ");
                strcat(list, *i);
        }
        bool active = virDomainIsActive(dom) == 1;
        /* Of the repairs, only pinning can reach a running guest: libvirt pins live. */
        unsigned live = active && strv_contains(op->repaired, "vm.cpu-pinning") ? cpu_ops_pin_live(op, dom) : 0;
        if (asprintf(&op->result, "VM %s repaired: %s%s%s (winvmctl undo takes it back)", op->vm, list ? list : "",
                     active ? "; the guest is running: the change " DOCTOR_REPAIR_NEXT_START : "",
                     live ? ", but its vCPUs are pinned now already" : "") < 0)
                op->result = NULL;
}

VM_CONFIG_WORK(repair_work, false, repair, NULL)
