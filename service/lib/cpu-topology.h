/* Host CPU topology read through a root prefix (see host-files.h), and CPU lists.
 *
 * Reads <root>/sys/devices/system/cpu/cpuN/topology/{core_id,physical_package_id,
 * thread_siblings_list}, <root>/sys/devices/system/cpu/online (or cpuN/online), and on hybrid
 * Intel hosts the perf PMU lists <root>/sys/devices/cpu_core/cpus (P-cores) and
 * <root>/sys/devices/cpu_atom/cpus (E-cores). Pure otherwise: no bus, no libvirt. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The highest CPU id accepted anywhere (Linux's NR_CPUS tops out at 8192): parsers reject
 * bigger ids, so hostile input never makes us allocate more than one CpuSet. */
#define CPU_ID_MAX 8191u
#define CPU_SET_WORDS ((CPU_ID_MAX + 1) / 64)

/* A set of CPU ids 0..CPU_ID_MAX as a bitmap (1 KiB). */
typedef struct CpuSet {
        uint64_t bits[CPU_SET_WORDS];
} CpuSet;

void cpu_set_zero(CpuSet *s);
/* Ids above CPU_ID_MAX are ignored by add and absent for has. */
void cpu_set_add(CpuSet *s, unsigned id);
bool cpu_set_has(const CpuSet *s, unsigned id);
size_t cpu_set_count(const CpuSet *s);
bool cpu_set_is_empty(const CpuSet *s);
bool cpu_set_equal(const CpuSet *a, const CpuSet *b);
bool cpu_set_intersects(const CpuSet *a, const CpuSet *b);
/* true when every id of a is in b. */
bool cpu_set_is_subset(const CpuSet *a, const CpuSet *b);
void cpu_set_union(CpuSet *dst, const CpuSet *src);
/* The lowest id in s at or above from, or -1 when none. */
int cpu_set_next(const CpuSet *s, unsigned from);

/* The kernel's cpulist format, as in thread_siblings_list or /sys/devices/system/cpu/online:
 * "0-3,8,10-11", surrounding whitespace allowed, "" (or only whitespace) is the empty set.
 * -EINVAL on bad syntax or a reversed range, -ERANGE for an id above CPU_ID_MAX. */
int cpulist_parse(const char *text, CpuSet *ret);
/* libvirt's cpuset syntax (vcpupin, emulatorpin, <vcpu cpuset>): the same plus exclusions
 * "0-7,^3" (applied after every inclusion, as libvirt does) and blanks around items. An
 * empty text is -EINVAL; a result emptied by exclusions is returned as the empty set. */
int cpuset_parse(const char *text, CpuSet *ret);
/* The canonical cpulist of s ("0-3,8,10-11", ranges for runs of two or more, "" when empty);
 * cpulist_parse() reads it back to the same set. NULL on ENOMEM. */
char *cpulist_format(const CpuSet *s);
/* The same from an array of ids (any order, duplicates allowed; ids above CPU_ID_MAX are
 * dropped). NULL on ENOMEM. */
char *cpulist_format_array(const unsigned *ids, size_t n);
/* The ids of s in ascending order; *ret is NULL when s is empty. 0 or -ENOMEM. */
int cpu_set_to_array(const CpuSet *s, unsigned **ret, size_t *ret_n);
/* cpulist_parse() into a sorted array of distinct ids. */
int cpulist_parse_array(const char *text, unsigned **ret, size_t *ret_n);

typedef enum CpuKind {
        CPU_KIND_UNIFORM,       /* a host without P/E distinction */
        CPU_KIND_P,             /* Intel hybrid performance core (cpu_core) */
        CPU_KIND_E,             /* Intel hybrid efficiency core (cpu_atom) */
        _CPU_KIND_MAX,
} CpuKind;

/* "uniform", "P", "E"; NULL for an out-of-range value. */
const char *cpu_kind_to_string(CpuKind k);

/* core_id and package_id of an offline CPU whose topology the kernel does not show. */
#define CPU_TOPOLOGY_UNKNOWN ((unsigned) -1)

typedef struct HostCpu {
        unsigned id, core_id, package_id;
        CpuKind kind;
        char *siblings;         /* cpulist text as in thread_siblings_list, e.g. "0-1" */
        bool online;
} HostCpu;

typedef struct CpuTopology {
        HostCpu *cpus;          /* sorted by id */
        size_t n;
        bool hybrid;            /* cpu_core and cpu_atom both exist: kinds are P and E */
} CpuTopology;

/* Reads every cpuN folder of <root>/sys/devices/system/cpu. An offline CPU without topology
 * files gets CPU_TOPOLOGY_UNKNOWN ids and itself as siblings. -ENOENT when there is no CPU,
 * -EINVAL when a topology file holds something else than a number or a cpulist, -errno. */
int cpu_topology_read(const char *root, CpuTopology *ret);
void cpu_topology_clear(CpuTopology *t);

/* The CPU with this id, or NULL. */
const HostCpu *cpu_topology_find(const CpuTopology *t, unsigned id);
/* The CPU's thread siblings as a set (itself alone when its text does not parse). */
void cpu_topology_siblings(const HostCpu *c, CpuSet *ret);
/* Every online CPU. */
void cpu_topology_online(const CpuTopology *t, CpuSet *ret);
/* How many distinct physical packages the online CPUs are on. */
size_t cpu_topology_n_packages(const CpuTopology *t);
