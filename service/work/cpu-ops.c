/* org.winvm1.Cpu on the worker: the host topology, checking and planning vCPU pinning, and
 * applying a plan to the persistent definition (and to the running guest where it fits). */
#include <errno.h>
#include <libvirt/virterror.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "util.h"
#include "vm-config-ops.h"

static bool read_topology(VmConfigOp *op) {
        int r = cpu_topology_read(op->config->host_root, &op->topology);
        if (r < 0) {
                vm_config_failf(op, WINVM_ERROR_FAILED, "cannot read the host's CPU topology: %s", strerror(-r));
                return false;
        }
        op->topology_valid = true;
        return true;
}

static bool plan(VmConfigOp *op) {
        _cleanup_free_ char *why = NULL;
        int r = cpu_pinning_plan(&op->topology, op->p_cores, op->e_cores, op->host_p_cores, &op->plan, &why);
        if (r < 0) {
                vm_config_fail(op, r == -EINVAL ? WINVM_ERROR_INVALID_ARGUMENT : WINVM_ERROR_FAILED,
                               why ? TAKE_PTR(why) : strdup(strerror(-r)));
                return false;
        }
        op->plan_valid = true;
        return true;
}

static void cpumap_of(unsigned char *map, int maplen, const CpuSet *s) {
        memset(map, 0, (size_t) maplen);
        for (int id = cpu_set_next(s, 0); id >= 0 && id / 8 < maplen; id = cpu_set_next(s, (unsigned) id + 1))
                VIR_USE_CPU(map, id);
}

unsigned cpu_ops_pin_live(VmConfigOp *op, virDomainPtr dom) {
        virDomainInfo info;
        if (virDomainIsActive(dom) != 1 || virDomainGetInfo(dom, &info) < 0 || info.nrVirtCpu != op->plan.n_vcpus)
                return 0;
        int maplen = VIR_CPU_MAPLEN(CPU_ID_MAX + 1);
        unsigned char map[VIR_CPU_MAPLEN(CPU_ID_MAX + 1)];
        unsigned pinned = 0;
        for (unsigned i = 0; i < op->plan.n_vcpus; i++) {
                CpuSet s;
                cpu_set_zero(&s);
                cpu_set_add(&s, op->plan.vcpu_pins[i]);
                cpumap_of(map, maplen, &s);
                if (virDomainPinVcpuFlags(dom, i, map, maplen, VIR_DOMAIN_AFFECT_LIVE) == 0)
                        pinned++;
        }
        CpuSet emu;
        if (cpulist_parse(op->plan.emulator_cpus, &emu) == 0 && !cpu_set_is_empty(&emu)) {
                cpumap_of(map, maplen, &emu);
                (void) virDomainPinEmulator(dom, map, maplen, VIR_DOMAIN_AFFECT_LIVE);
        }
        virResetLastError();
        return pinned;
}

static void apply(VmConfigOp *op, virConnectPtr conn, virDomainPtr dom) {
        _cleanup_free_ char *xml = vm_config_domain_xml(dom, false, true), *edited = NULL;
        if (!xml) {
                vm_config_fail_libvirt(op, NULL, "cannot read the definition");
                return;
        }
        int r = cpu_pinning_apply_to_xml(xml, &op->plan, &edited);
        if (r < 0) {
                vm_config_failf(op, WINVM_ERROR_FAILED, "cannot write the plan into the definition: %s", strerror(-r));
                return;
        }
        if (vm_config_redefine(op, conn, dom, "pinning", edited, 0) < 0)
                return;
        unsigned live = cpu_ops_pin_live(op, dom);
        bool active = virDomainIsActive(dom) == 1;
        if (asprintf(&op->result, "VM %s: %u vCPUs pinned in the definition%s", op->vm, op->plan.n_vcpus,
                     !active ? "" : live ? "; the running guest is pinned the same (its topology changes at the next start)" :
                                           "; the running guest has another vCPU count and keeps its pinning until the next start") < 0)
                op->result = NULL;
}

/* Every Cpu method reads the host's topology first. */
static void topology_step(VmConfigOp *op, virConnectPtr conn, virDomainPtr dom) {
        (void) conn;
        (void) dom;
        (void) read_topology(op);
}

static void check_step(VmConfigOp *op, virConnectPtr conn, virDomainPtr dom) {
        (void) conn;
        if (!read_topology(op))
                return;
        _cleanup_free_ char *xml = vm_config_domain_xml(dom, false, false);
        if (!xml)
                vm_config_fail_libvirt(op, NULL, "cannot read the definition");
        else if (cpu_pinning_check(&op->topology, xml, op->config->cpu_host_cpus, &op->checks) < 0)
                vm_config_fail(op, WINVM_ERROR_FAILED, strdup("libvirt's definition does not parse"));
}

static void plan_step(VmConfigOp *op, virConnectPtr conn, virDomainPtr dom) {
        (void) conn;
        (void) dom;
        if (read_topology(op))
                (void) plan(op);
}

static void apply_step(VmConfigOp *op, virConnectPtr conn, virDomainPtr dom) {
        if (read_topology(op) && plan(op))
                apply(op, conn, dom);
}

VM_CONFIG_WORK(cpu_topology_work, true, topology_step, NULL)
VM_CONFIG_WORK(cpu_check_work, false, check_step, NULL)
VM_CONFIG_WORK(cpu_plan_work, true, plan_step, NULL)
VM_CONFIG_WORK(cpu_apply_work, false, apply_step, NULL)
