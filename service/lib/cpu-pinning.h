/* vCPU pinning: checks of a domain's <vcpu>, <cputune> and <cpu><topology> against the host
 * topology, a planner that makes a pinning for a number of P- and E-cores, and the edit that
 * writes a plan into a domain XML. Pure: takes a CpuTopology and XML text (libxml2). */
#pragma once

#include "checks.h"
#include "cpu-topology.h"

/* Adds, in this order, each exactly once:
 *   cpu.pinned          every vCPU has a <vcpupin> with a valid cpuset, none shares a host CPU
 *   cpu.online          every pinned host CPU (vCPUs and emulator) exists and is online
 *   cpu.emulator        <emulatorpin> is set and disjoint from the vCPUs' CPUs
 *   cpu.host-cpus       no vCPU on a CPU kept for the host (host_cpus, a cpulist; NULL or ""
 *                       means none configured: skipped)
 *   cpu.smt-siblings    the vCPUs the guest topology declares as threads of one core are on
 *                       SMT siblings of one host core
 *   cpu.e-core-threads  no vCPU on an E-core while the guest declares threads >= 2
 *   cpu.topology        a <topology> exists and sockets*dies*clusters*cores*threads == vCPUs
 * Cpusets use libvirt's syntax (ranges, commas, ^exclusions); a vCPU without <vcpupin> uses
 * <vcpu cpuset> when set, as libvirt does. A vCPU count that is not 1..CPU_ID_MAX+1 fails
 * cpu.topology and skips the rest.
 * 0; -EINVAL when domain_xml is NULL or does not parse (nothing added); -ENOMEM. */
int cpu_pinning_check(const CpuTopology *t, const char *domain_xml, const char *host_cpus, CheckList *out);

typedef struct CpuPlan {
        unsigned n_vcpus;
        unsigned *vcpu_pins;    /* host CPU of vCPU i, n_vcpus entries */
        unsigned sockets, dies, cores, threads;
        char *guest_cpus;       /* cpulist of every host CPU given to a vCPU */
        char *emulator_cpus;    /* cpulist of <emulatorpin>: the host P-cores' threads */
        char *host_cpus;        /* cpulist of every online CPU not given to the guest: pass it to
                                 * cpu_pinning_check() as host_cpus */
        char *cputune_xml;      /* "<cputune>\n  <vcpupin vcpu='0' cpuset='4'/>...</cputune>\n" */
        char *topology_xml;     /* "<topology sockets='1' dies='1' cores='8' threads='2'/>" */
        char *table;            /* human-readable: "vCPU  host CPU  core  type" lines and notes */
} CpuPlan;

/* Plans p_cores P-cores and e_cores E-cores for the guest, keeping host_p_cores P-cores for the
 * host (the emulator runs there). On a uniform host p_cores and host_p_cores count cores and
 * e_cores must be 0.
 *  - The host keeps the lowest-numbered P-cores: CPU 0 is where the kernel boots, runs
 *    housekeeping and takes the interrupts nobody moved, so it is the host's anyway.
 *  - The guest takes the next P-cores, both SMT threads of a core on a vCPU pair (2k, 2k+1),
 *    then the lowest E-cores, one vCPU each; all from one package when one has room.
 *  - Guest topology: P-cores only -> cores=p_cores threads=<threads per core>; with E-cores
 *    (which have no SMT sibling) -> cores=vCPUs threads=1, so no E-core pair is declared as
 *    siblings.
 * -EINVAL with a readable *error (the caller frees it; error may be NULL) when the host cannot
 * give that; -ENOMEM. */
int cpu_pinning_plan(const CpuTopology *t, unsigned p_cores, unsigned e_cores, unsigned host_p_cores,
                     CpuPlan *ret, char **error);
void cpu_plan_clear(CpuPlan *p);

/* A copy of domain_xml with the plan in it (UTF-8): <vcpu placement='static'>N</vcpu> (its
 * current attribute and any <vcpus> list dropped), <cputune>'s vcpupin and emulatorpin replaced
 * (other children kept), <cpu><topology sockets='1' dies='1' cores threads> (clusters set to 1
 * when present), creating <cpu mode='host-passthrough'> when missing. -EINVAL when the XML does
 * not parse or is not a <domain>, -ENOMEM. */
int cpu_pinning_apply_to_xml(const char *domain_xml, const CpuPlan *plan, char **ret_xml);
