#include "cpu-topology.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host-files.h"
#include "util.h"

#define SYS_CPU "/sys/devices/system/cpu"

/* --- sets ------------------------------------------------------------------------------- */

void cpu_set_zero(CpuSet *s) {
        memset(s, 0, sizeof(*s));
}

void cpu_set_add(CpuSet *s, unsigned id) {
        if (id <= CPU_ID_MAX)
                s->bits[id / 64] |= UINT64_C(1) << (id % 64);
}

bool cpu_set_has(const CpuSet *s, unsigned id) {
        return id <= CPU_ID_MAX && (s->bits[id / 64] >> (id % 64)) & 1;
}

size_t cpu_set_count(const CpuSet *s) {
        size_t n = 0;
        for (size_t i = 0; i < CPU_SET_WORDS; i++)
                n += (size_t) __builtin_popcountll(s->bits[i]);
        return n;
}

bool cpu_set_is_empty(const CpuSet *s) {
        for (size_t i = 0; i < CPU_SET_WORDS; i++)
                if (s->bits[i])
                        return false;
        return true;
}

bool cpu_set_equal(const CpuSet *a, const CpuSet *b) {
        return memcmp(a->bits, b->bits, sizeof(a->bits)) == 0;
}

bool cpu_set_intersects(const CpuSet *a, const CpuSet *b) {
        for (size_t i = 0; i < CPU_SET_WORDS; i++)
                if (a->bits[i] & b->bits[i])
                        return true;
        return false;
}

bool cpu_set_is_subset(const CpuSet *a, const CpuSet *b) {
        for (size_t i = 0; i < CPU_SET_WORDS; i++)
                if (a->bits[i] & ~b->bits[i])
                        return false;
        return true;
}

void cpu_set_union(CpuSet *dst, const CpuSet *src) {
        for (size_t i = 0; i < CPU_SET_WORDS; i++)
                dst->bits[i] |= src->bits[i];
}

int cpu_set_next(const CpuSet *s, unsigned from) {
        for (size_t w = from / 64; from <= CPU_ID_MAX && w < CPU_SET_WORDS; w++) {
                uint64_t bits = s->bits[w];
                if (w == from / 64)
                        bits &= ~UINT64_C(0) << (from % 64);
                if (bits)
                        return (int) (w * 64 + (size_t) __builtin_ctzll(bits));
        }
        return -1;
}

/* Whole words at a time, so "0-8191" repeated in hostile input stays cheap. */
static void set_range(CpuSet *s, unsigned a, unsigned b) {
        for (unsigned i = a; i <= b;) {
                if (i % 64 == 0 && b - i >= 63) {
                        s->bits[i / 64] = ~UINT64_C(0);
                        i += 64;
                } else
                        cpu_set_add(s, i++);
        }
}

/* --- cpulist text ----------------------------------------------------------------------- */

static void skip_blanks(const char **p) {
        while (isspace((unsigned char) **p))
                (*p)++;
}

/* Decimal digits only; stops as soon as the value is out of range (no overflow). */
static int parse_id(const char **p, unsigned *ret) {
        if (!isdigit((unsigned char) **p))
                return -EINVAL;
        unsigned v = 0;
        for (; isdigit((unsigned char) **p); (*p)++) {
                v = v * 10 + (unsigned) (**p - '0');
                if (v > CPU_ID_MAX)
                        return -ERANGE;
        }
        *ret = v;
        return 0;
}

static int parse_list(const char *text, bool libvirt, CpuSet *ret) {
        if (!text)
                return -EINVAL;
        CpuSet inc, exc;
        cpu_set_zero(&inc);
        cpu_set_zero(&exc);
        const char *p = text;
        skip_blanks(&p);
        if (*p) {
                for (;;) {
                        skip_blanks(&p);
                        bool neg = libvirt && *p == '^';
                        if (neg)
                                p++;
                        unsigned a, b;
                        int r = parse_id(&p, &a);
                        if (r < 0)
                                return r;
                        b = a;
                        if (*p == '-') {
                                p++;
                                r = parse_id(&p, &b);
                                if (r < 0)
                                        return r;
                                if (b < a)
                                        return -EINVAL;
                        }
                        set_range(neg ? &exc : &inc, a, b);
                        skip_blanks(&p);
                        if (!*p)
                                break;
                        if (*p != ',')
                                return -EINVAL;
                        p++;
                }
        } else if (libvirt)
                return -EINVAL;
        for (size_t i = 0; i < CPU_SET_WORDS; i++)
                ret->bits[i] = inc.bits[i] & ~exc.bits[i];
        return 0;
}

int cpulist_parse(const char *text, CpuSet *ret) {
        return parse_list(text, false, ret);
}

int cpuset_parse(const char *text, CpuSet *ret) {
        return parse_list(text, true, ret);
}

char *cpulist_format(const CpuSet *s) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);
        if (!f)
                return NULL;
        bool first = true;
        for (int a = cpu_set_next(s, 0); a >= 0;) {
                int b = a;
                while (b < (int) CPU_ID_MAX && cpu_set_has(s, (unsigned) b + 1))
                        b++;
                fprintf(f, b > a ? "%s%d-%d" : "%s%d", first ? "" : ",", a, b);
                first = false;
                a = b < (int) CPU_ID_MAX ? cpu_set_next(s, (unsigned) b + 1) : -1;
        }
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

char *cpulist_format_array(const unsigned *ids, size_t n) {
        CpuSet s;
        cpu_set_zero(&s);
        for (size_t i = 0; i < n; i++)
                cpu_set_add(&s, ids[i]);
        return cpulist_format(&s);
}

int cpu_set_to_array(const CpuSet *s, unsigned **ret, size_t *ret_n) {
        size_t n = cpu_set_count(s), k = 0;
        unsigned *ids = NULL;
        if (n > 0) {
                ids = malloc(n * sizeof(unsigned));
                if (!ids)
                        return -ENOMEM;
                for (int c = cpu_set_next(s, 0); c >= 0; c = cpu_set_next(s, (unsigned) c + 1))
                        ids[k++] = (unsigned) c;
        }
        *ret = ids;
        *ret_n = n;
        return 0;
}

int cpulist_parse_array(const char *text, unsigned **ret, size_t *ret_n) {
        CpuSet s;
        int r = cpulist_parse(text, &s);
        if (r < 0)
                return r;
        return cpu_set_to_array(&s, ret, ret_n);
}

/* --- topology --------------------------------------------------------------------------- */

static const char *const kind_names[_CPU_KIND_MAX] = {
        [CPU_KIND_UNIFORM] = "uniform",
        [CPU_KIND_P] = "P",
        [CPU_KIND_E] = "E",
};

const char *cpu_kind_to_string(CpuKind k) {
        return (unsigned) k < _CPU_KIND_MAX ? kind_names[k] : NULL;
}

void cpu_topology_clear(CpuTopology *t) {
        for (size_t i = 0; t->cpus && i < t->n; i++)
                free(t->cpus[i].siblings);
        free(t->cpus);
        *t = (CpuTopology) { 0 };
}

/* A sysfs number ("12\n"); -1 (physical_package_id on some platforms) is unknown. -ENOENT
 * for a missing file, -EINVAL for anything else. */
static int read_id(const char *root, const char *path, unsigned *ret) {
        _cleanup_free_ char *s = NULL;
        int r = host_read_line(root, path, &s);
        if (r < 0)
                return r;
        if (strcmp(s, "-1") == 0) {
                *ret = CPU_TOPOLOGY_UNKNOWN;
                return 0;
        }
        if (!*s || strlen(s) > 9 || strspn(s, "0123456789") != strlen(s))
                return -EINVAL;
        *ret = (unsigned) strtoul(s, NULL, 10);
        return 0;
}

/* A cpulist file as a set; -ENOENT when it is missing. */
static int read_list(const char *root, const char *path, CpuSet *ret) {
        _cleanup_free_ char *s = NULL;
        int r = host_read_line(root, path, &s);
        return r < 0 ? r : cpulist_parse(s, ret);
}

/* "cpu12" -> 12; false for cpufreq, cpuidle and ids past CPU_ID_MAX. */
static bool cpu_dir_id(const char *name, unsigned *ret) {
        if (strncmp(name, "cpu", 3) != 0 || !name[3] || strspn(name + 3, "0123456789") != strlen(name + 3) ||
            strlen(name + 3) > 4 || (name[3] == '0' && name[4]))
                return false;
        unsigned long v = strtoul(name + 3, NULL, 10);
        *ret = (unsigned) v;
        return v <= CPU_ID_MAX;
}

static int read_cpu(const char *root, unsigned id, const CpuSet *online, const CpuSet *p, const CpuSet *e,
                    HostCpu *c) {
        char path[128];
        int r;
        *c = (HostCpu) { .id = id, .core_id = CPU_TOPOLOGY_UNKNOWN, .package_id = CPU_TOPOLOGY_UNKNOWN };
        if (online)
                c->online = cpu_set_has(online, id);
        else {  /* no global list: cpuN/online, absent for the boot CPU, which is always online */
                _cleanup_free_ char *s = NULL;
                snprintf(path, sizeof(path), SYS_CPU "/cpu%u/online", id);
                c->online = host_read_line(root, path, &s) < 0 || strcmp(s, "0") != 0;
        }
        c->kind = !p ? CPU_KIND_UNIFORM : cpu_set_has(p, id) ? CPU_KIND_P
                : cpu_set_has(e, id) ? CPU_KIND_E : CPU_KIND_UNIFORM;

        /* The kernel removes topology/ of an offline CPU: missing files are unknown, not errors. */
        snprintf(path, sizeof(path), SYS_CPU "/cpu%u/topology/core_id", id);
        if ((r = read_id(root, path, &c->core_id)) < 0 && r != -ENOENT)
                return r;
        snprintf(path, sizeof(path), SYS_CPU "/cpu%u/topology/physical_package_id", id);
        if ((r = read_id(root, path, &c->package_id)) < 0 && r != -ENOENT)
                return r;
        snprintf(path, sizeof(path), SYS_CPU "/cpu%u/topology/thread_siblings_list", id);
        r = host_read_line(root, path, &c->siblings);
        if (r == -ENOENT)
                return asprintf(&c->siblings, "%u", id) < 0 ? (c->siblings = NULL, -ENOMEM) : 0;
        if (r < 0)
                return r;
        CpuSet s;
        /* A CPU is always its own sibling; anything else means the file is not what we think. */
        if (cpulist_parse(c->siblings, &s) < 0 || !cpu_set_has(&s, id))
                return -EINVAL;
        return 0;
}

static int cmp_unsigned(const void *a, const void *b) {
        unsigned x = *(const unsigned *) a, y = *(const unsigned *) b;
        return x < y ? -1 : x > y;
}

int cpu_topology_read(const char *root, CpuTopology *ret) {
        _cleanup_(strv_freep) char **names = NULL;
        int r = host_list_dir(root, SYS_CPU, &names);
        if (r < 0)
                return r;
        size_t n = 0;
        _cleanup_free_ unsigned *ids = calloc(strv_length(names) + 1, sizeof(unsigned));
        if (!ids)
                return -ENOMEM;
        for (char **s = names; *s; s++)
                if (cpu_dir_id(*s, &ids[n]))
                        n++;
        if (n == 0)
                return -ENOENT;
        qsort(ids, n, sizeof(unsigned), cmp_unsigned);

        CpuSet online, p, e;
        bool have_online = read_list(root, SYS_CPU "/online", &online) == 0;
        /* Hybrid Intel parts register two perf PMUs; each lists the CPUs of its kind. */
        bool hybrid = read_list(root, "/sys/devices/cpu_core/cpus", &p) == 0 &&
                      read_list(root, "/sys/devices/cpu_atom/cpus", &e) == 0;

        CpuTopology t = { .cpus = calloc(n, sizeof(HostCpu)), .hybrid = hybrid };
        if (!t.cpus)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                r = read_cpu(root, ids[i], have_online ? &online : NULL, hybrid ? &p : NULL, hybrid ? &e : NULL,
                             &t.cpus[i]);
                t.n = i + 1;
                if (r < 0) {
                        cpu_topology_clear(&t);
                        return r;
                }
        }
        *ret = t;
        return 0;
}

const HostCpu *cpu_topology_find(const CpuTopology *t, unsigned id) {
        size_t lo = 0, hi = t->n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (t->cpus[mid].id == id)
                        return &t->cpus[mid];
                if (t->cpus[mid].id < id)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return NULL;
}

void cpu_topology_siblings(const HostCpu *c, CpuSet *ret) {
        if (!c->siblings || cpulist_parse(c->siblings, ret) < 0) {
                cpu_set_zero(ret);
                cpu_set_add(ret, c->id);
        }
}

void cpu_topology_online(const CpuTopology *t, CpuSet *ret) {
        cpu_set_zero(ret);
        for (size_t i = 0; i < t->n; i++)
                if (t->cpus[i].online)
                        cpu_set_add(ret, t->cpus[i].id);
}

size_t cpu_topology_n_packages(const CpuTopology *t) {
        size_t n = 0;
        for (size_t i = 0; i < t->n; i++) {
                if (!t->cpus[i].online)
                        continue;
                bool seen = false;
                for (size_t k = 0; k < i && !seen; k++)
                        seen = t->cpus[k].online && t->cpus[k].package_id == t->cpus[i].package_id;
                n += !seen;
        }
        return n;
}
