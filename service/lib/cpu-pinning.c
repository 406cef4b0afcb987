#include "cpu-pinning.h"

#include <errno.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* The most vCPUs a domain may have here: one per possible host CPU id. */
#define VCPUS_MAX (CPU_ID_MAX + 1)

static void xml_freep(xmlChar **p) {
        xmlFree(*p);
}
#define _cleanup_xml_ _cleanup_(xml_freep)

static void xml_doc_freep(xmlDocPtr *p) {
        if (*p)
                xmlFreeDoc(*p);
}

static void xpath_ctx_freep(xmlXPathContextPtr *p) {
        xmlXPathFreeContext(*p);
}

static void xpath_obj_freep(xmlXPathObjectPtr *p) {
        xmlXPathFreeObject(*p);
}

/* A <domain> document; NULL for anything else. */
static xmlDocPtr parse_domain(const char *xml) {
        if (!xml)
                return NULL;
        xmlDocPtr doc = xmlReadMemory(xml, (int) strnlen(xml, INT32_MAX), "domain.xml", NULL,
                                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
        /* libvirt's domain XML has no namespace; XPath below matches no-namespace names only. */
        if (!root || root->ns || xmlStrcmp(root->name, BAD_CAST "domain") != 0) {
                xmlFreeDoc(doc);
                return NULL;
        }
        return doc;
}

/* "12" -> 12 when 0 <= value <= max; decimal digits only, as libvirt writes them. */
static bool parse_uint(const char *s, unsigned max, unsigned *ret) {
        if (!s || !*s || strlen(s) > 9 || strspn(s, "0123456789") != strlen(s))
                return false;
        unsigned long v = strtoul(s, NULL, 10);
        if (v > max)
                return false;
        *ret = (unsigned) v;
        return true;
}

/* Up to 32 bytes of what the domain or the caller wrote, for a message: printable ASCII only,
 * so a cut never splits a UTF-8 sequence and a message stays valid on the bus. */
typedef struct Quoted {
        char s[33];
} Quoted;

static Quoted quote(const void *text) {
        Quoted q = { "" };
        const unsigned char *t = text;
        size_t k = 0;
        for (; t && *t && k < sizeof(q.s) - 1; t++)
                q.s[k++] = *t >= 0x20 && *t < 0x7f ? (char) *t : '?';
        q.s[k] = '\0';
        return q;
}

static xmlNodePtr first_node(xmlXPathContextPtr ctx, const char *expr) {
        _cleanup_(xpath_obj_freep) xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST expr, ctx);
        return o && o->nodesetval && o->nodesetval->nodeNr > 0 ? o->nodesetval->nodeTab[0] : NULL;
}

/* --- reading what the domain says ----------------------------------------------------- */

typedef struct Pinning {
        unsigned n;             /* vCPUs */
        CpuSet **pins;          /* effective pins per vCPU, NULL when it floats; into vcpupins or &fallback */
        CpuSet *vcpupins;       /* one per valid <vcpupin>, at most n */
        size_t n_vcpupins;
        CpuSet fallback;        /* <vcpu cpuset> */
        CpuSet unpinned;        /* vCPUs without a <vcpupin> */
        char *invalid;          /* the first invalid <vcpupin> or <vcpu cpuset>, described */
        size_t n_invalid;
        int emulator;           /* 1 set and valid, 0 absent, -1 invalid */
        CpuSet emulator_cpus;
        char *emulator_text;
        CpuSet vcpu_cpus;       /* union of the effective pins */
        bool has_topology;
        unsigned topo[5];       /* sockets, dies, clusters, cores, threads; 0 when invalid */
        char *topology_problem;
} Pinning;

static const char *const topo_names[5] = { "sockets", "dies", "clusters", "cores", "threads" };

static void pinning_clear(Pinning *p) {
        free(p->pins);
        free(p->vcpupins);
        free(p->invalid);
        free(p->emulator_text);
        free(p->topology_problem);
}

static void note_invalid(Pinning *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note_invalid(Pinning *p, const char *fmt, ...) {
        if (p->n_invalid++ > 0)
                return;
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&p->invalid, fmt, ap) < 0)
                p->invalid = NULL;
        va_end(ap);
}

static int read_vcpupins(xmlXPathContextPtr ctx, Pinning *p) {
        _cleanup_(xpath_obj_freep) xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST "/domain/cputune/vcpupin", ctx);
        int nodes = o && o->nodesetval ? o->nodesetval->nodeNr : 0;
        for (int i = 0; i < nodes; i++) {
                _cleanup_xml_ xmlChar *vcpu = xmlGetProp(o->nodesetval->nodeTab[i], BAD_CAST "vcpu");
                _cleanup_xml_ xmlChar *cpuset = xmlGetProp(o->nodesetval->nodeTab[i], BAD_CAST "cpuset");
                unsigned v;
                CpuSet s;
                if (!parse_uint((const char *) vcpu, VCPUS_MAX, &v) || v >= p->n)
                        note_invalid(p, "<vcpupin vcpu='%s'> names no vCPU of %u", quote(vcpu).s, p->n);
                else if (p->pins[v])
                        note_invalid(p, "vCPU %u has two <vcpupin>", v);
                else if (!cpuset || cpuset_parse((const char *) cpuset, &s) < 0 || cpu_set_is_empty(&s))
                        note_invalid(p, "<vcpupin vcpu='%u' cpuset='%s'> is not a CPU list", v, quote(cpuset).s);
                else {
                        p->vcpupins[p->n_vcpupins] = s;
                        p->pins[v] = &p->vcpupins[p->n_vcpupins++];
                }
        }
        return 0;
}

static int pinning_read(xmlXPathContextPtr ctx, unsigned n, Pinning *p) {
        *p = (Pinning) { .n = n };
        p->pins = calloc(n, sizeof(CpuSet *));
        p->vcpupins = calloc(n, sizeof(CpuSet));
        if (!p->pins || !p->vcpupins)
                return -ENOMEM;
        int r = read_vcpupins(ctx, p);
        if (r < 0)
                return r;
        cpu_set_zero(&p->unpinned);
        for (unsigned v = 0; v < n; v++)
                if (!p->pins[v])
                        cpu_set_add(&p->unpinned, v);

        xmlNodePtr vcpu = first_node(ctx, "/domain/vcpu");
        _cleanup_xml_ xmlChar *fallback = vcpu ? xmlGetProp(vcpu, BAD_CAST "cpuset") : NULL;
        if (fallback) {
                if (cpuset_parse((const char *) fallback, &p->fallback) < 0 || cpu_set_is_empty(&p->fallback))
                        note_invalid(p, "<vcpu cpuset='%s'> is not a CPU list", quote(fallback).s);
                else
                        for (unsigned v = 0; v < n; v++)
                                if (!p->pins[v])
                                        p->pins[v] = &p->fallback;
        }
        cpu_set_zero(&p->vcpu_cpus);
        for (unsigned v = 0; v < n; v++)
                if (p->pins[v])
                        cpu_set_union(&p->vcpu_cpus, p->pins[v]);

        xmlNodePtr emu = first_node(ctx, "/domain/cputune/emulatorpin");
        if (emu) {
                _cleanup_xml_ xmlChar *cpuset = xmlGetProp(emu, BAD_CAST "cpuset");
                if (asprintf(&p->emulator_text, "%s", quote(cpuset).s) < 0) {
                        p->emulator_text = NULL;
                        return -ENOMEM;
                }
                p->emulator = cpuset && cpuset_parse((const char *) cpuset, &p->emulator_cpus) == 0 &&
                              !cpu_set_is_empty(&p->emulator_cpus) ? 1 : -1;
        }

        xmlNodePtr topo = first_node(ctx, "/domain/cpu[1]/topology");    /* where apply writes */
        p->has_topology = topo != NULL;
        for (int i = 0; topo && i < 5; i++) {
                _cleanup_xml_ xmlChar *v = xmlGetProp(topo, BAD_CAST topo_names[i]);
                /* dies and clusters default to 1; libvirt requires the other three. */
                if (!v && (i == 1 || i == 2))
                        p->topo[i] = 1;
                else if (!parse_uint((const char *) v, VCPUS_MAX, &p->topo[i]) || p->topo[i] == 0) {
                        p->topo[i] = 0;
                        if (!p->topology_problem &&
                            asprintf(&p->topology_problem, "<topology %s='%s'> is not a number from 1 to %u",
                                     topo_names[i], quote(v).s, VCPUS_MAX) < 0)
                                return -ENOMEM;
                }
        }
        return 0;
}

/* The threads per core the guest is told about: 1 without a valid <topology>. */
static unsigned guest_threads(const Pinning *p) {
        return p->has_topology && p->topo[4] > 0 ? p->topo[4] : 1;
}

/* --- the checks ----------------------------------------------------------------------- */

/* A set as text for a message; "?" when out of memory keeps the message well formed. */
typedef struct Text {
        char *s[4];
        int n;
} Text;

static void text_clear(Text *t) {
        for (int i = 0; i < t->n; i++)
                free(t->s[i]);
}

static const char *fmt_set(Text *t, const CpuSet *s) {
        char *x = t->n < 4 ? cpulist_format(s) : NULL;
        if (!x)
                return "?";
        return t->s[t->n++] = x;
}

static int check_pinned(const Pinning *p, CheckList *l) {
        const char *id = "cpu.pinned";
        _cleanup_(text_clear) Text t = { 0 };
        if (p->n_invalid > 0)
                return check_list_add(l, id, CHECK_FAIL,
                                      "winvmctl doctor --fix vm.cpu-pinning (a plan for this host), or by hand: give "
                                      "each vCPU one <vcpupin vcpu='N' cpuset='CPU'/> in <cputune>, with N below "
                                      "the <vcpu> count and CPU a host CPU list such as 4 or 4-5",
                                      "%s%s", p->invalid ? p->invalid : "A <vcpupin> is not valid",
                                      p->n_invalid > 1 ? " (and more)" : "");
        size_t n_unpinned = cpu_set_count(&p->unpinned);
        if (n_unpinned > 0)
                return check_list_add(l, id, CHECK_WARN,
                                      "winvmctl doctor --fix vm.cpu-pinning (a plan for this host), or pin each vCPU "
                                      "to its own host CPU with <vcpupin vcpu='N' cpuset='CPU'/> in <cputune>",
                                      "%zu of %u vCPUs have no <vcpupin> and float over %s: vCPUs %s",
                                      n_unpinned, p->n, cpu_set_is_empty(&p->fallback) ? "every host CPU"
                                      : "the <vcpu cpuset> CPUs", fmt_set(&t, &p->unpinned));
        /* Each host CPU should carry one vCPU: two on one thread halve both. */
        CpuSet seen, shared;
        cpu_set_zero(&seen);
        cpu_set_zero(&shared);
        for (unsigned v = 0; v < p->n; v++) {
                for (size_t w = 0; w < CPU_SET_WORDS; w++)
                        shared.bits[w] |= seen.bits[w] & p->pins[v]->bits[w];
                cpu_set_union(&seen, p->pins[v]);
        }
        if (!cpu_set_is_empty(&shared))
                return check_list_add(l, id, CHECK_WARN,
                                      "Pin each vCPU to a host CPU of its own (<vcpupin> in <cputune>; winvmctl cpu "
                                      "plan --apply writes one)",
                                      "All %u vCPUs are pinned, but host CPUs %s carry more than one vCPU", p->n,
                                      fmt_set(&t, &shared));
        return check_list_add(l, id, CHECK_OK, NULL, "All %u vCPUs are pinned, each to its own host CPUs", p->n);
}

static int check_online(const CpuTopology *topo, const Pinning *p, CheckList *l) {
        const char *id = "cpu.online";
        _cleanup_(text_clear) Text t = { 0 };
        CpuSet all = p->vcpu_cpus, missing, offline;
        if (p->emulator > 0)
                cpu_set_union(&all, &p->emulator_cpus);
        if (cpu_set_is_empty(&all))
                return check_list_add(l, id, CHECK_SKIPPED, NULL, "Nothing is pinned to a host CPU");
        cpu_set_zero(&missing);
        cpu_set_zero(&offline);
        for (int c = cpu_set_next(&all, 0); c >= 0; c = cpu_set_next(&all, (unsigned) c + 1)) {
                const HostCpu *h = cpu_topology_find(topo, (unsigned) c);
                if (!h)
                        cpu_set_add(&missing, (unsigned) c);
                else if (!h->online)
                        cpu_set_add(&offline, (unsigned) c);
        }
        const char *remedy = "Pin only to CPUs the host has online (lscpu -e, /sys/devices/system/cpu/online): "
                             "winvmctl cpu plan --p N --e M --host-p K --apply writes <vcpupin> and <emulatorpin> "
                             "from the host's CPUs";
        if (!cpu_set_is_empty(&missing))
                return check_list_add(l, id, CHECK_FAIL, remedy, "The domain pins to host CPUs %s, which this host "
                                      "does not have (it has %zu CPUs)", fmt_set(&t, &missing), topo->n);
        if (!cpu_set_is_empty(&offline))
                return check_list_add(l, id, CHECK_FAIL, remedy,
                                      "The domain pins to host CPUs %s, which are offline: the guest will not start",
                                      fmt_set(&t, &offline));
        return check_list_add(l, id, CHECK_OK, NULL, "Every pinned host CPU (%s) is online", fmt_set(&t, &all));
}

static int check_emulator(const Pinning *p, CheckList *l) {
        const char *id = "cpu.emulator";
        _cleanup_(text_clear) Text t = { 0 };
        const char *remedy = "Pin QEMU's emulator threads to CPUs kept for the host, apart from the vCPUs: "
                             "<emulatorpin cpuset='0-3'/> in <cputune> (winvmctl cpu plan --apply writes it with "
                             "the vCPUs' pins)";
        if (p->emulator == 0)
                return check_list_add(l, id, CHECK_WARN, remedy,
                                      "No <emulatorpin>: QEMU's emulator and I/O threads run on any CPU, the vCPUs' too");
        if (p->emulator < 0)
                return check_list_add(l, id, CHECK_FAIL, remedy, "<emulatorpin cpuset='%s'> is not a CPU list",
                                      p->emulator_text);
        if (cpu_set_intersects(&p->emulator_cpus, &p->vcpu_cpus)) {
                CpuSet both = p->emulator_cpus;
                for (size_t w = 0; w < CPU_SET_WORDS; w++)
                        both.bits[w] &= p->vcpu_cpus.bits[w];
                return check_list_add(l, id, CHECK_WARN, remedy,
                                      "The emulator threads share host CPUs %s with vCPUs: they take time from the guest",
                                      fmt_set(&t, &both));
        }
        return check_list_add(l, id, CHECK_OK, NULL, "The emulator threads are pinned to host CPUs %s, apart from the vCPUs",
                              fmt_set(&t, &p->emulator_cpus));
}

static int check_host_cpus(const Pinning *p, const char *host_cpus, CheckList *l) {
        const char *id = "cpu.host-cpus";
        _cleanup_(text_clear) Text t = { 0 };
        CpuSet host;
        if (!host_cpus || !host_cpus[strspn(host_cpus, " \t\n")])
                return check_list_add(l, id, CHECK_SKIPPED, NULL, "No CPUs are configured as kept for the host");
        if (cpuset_parse(host_cpus, &host) < 0)
                return check_list_add(l, id, CHECK_FAIL, "Configure the CPUs kept for the host as a CPU list, e.g. 0-3",
                                      "The CPUs kept for the host, '%s', are not a CPU list", quote(host_cpus).s);
        CpuSet vcpus, cpus;
        cpu_set_zero(&vcpus);
        cpu_set_zero(&cpus);
        for (unsigned v = 0; v < p->n; v++)
                if (p->pins[v] && cpu_set_intersects(p->pins[v], &host)) {
                        cpu_set_add(&vcpus, v);
                        for (size_t w = 0; w < CPU_SET_WORDS; w++)
                                cpus.bits[w] |= p->pins[v]->bits[w] & host.bits[w];
                }
        if (!cpu_set_is_empty(&vcpus))
                return check_list_add(l, id, CHECK_WARN,
                                      "Move these vCPUs' <vcpupin> to CPUs the host does not keep, or keep other CPUs "
                                      "for the host",
                                      "vCPUs %s are pinned to host CPUs %s, which are kept for the host (%s)",
                                      fmt_set(&t, &vcpus), fmt_set(&t, &cpus), fmt_set(&t, &host));
        return check_list_add(l, id, CHECK_OK, NULL, "No vCPU is on the CPUs kept for the host (%s)", fmt_set(&t, &host));
}

static int check_smt_siblings(const CpuTopology *topo, const Pinning *p, CheckList *l) {
        const char *id = "cpu.smt-siblings";
        _cleanup_(text_clear) Text t = { 0 };
        unsigned threads = guest_threads(p);
        if (threads < 2)
                return check_list_add(l, id, CHECK_OK, NULL,
                                      "The guest is told of one thread per core: no vCPUs are declared as SMT siblings");
        /* QEMU numbers vCPUs thread-first: vCPUs k*threads .. k*threads+threads-1 are one core. */
        CpuSet bad_vcpus, bad_cpus;
        cpu_set_zero(&bad_vcpus);
        cpu_set_zero(&bad_cpus);
        for (unsigned first = 0; first + 1 < p->n; first += threads) {
                unsigned last = first + threads - 1 < p->n ? first + threads - 1 : p->n - 1;
                CpuSet used;
                cpu_set_zero(&used);
                bool all_pinned = true;
                for (unsigned v = first; v <= last; v++) {
                        all_pinned = all_pinned && p->pins[v];
                        if (p->pins[v])
                                cpu_set_union(&used, p->pins[v]);
                }
                if (!all_pinned)
                        continue;       /* cpu.pinned says so */
                int c = cpu_set_next(&used, 0);
                const HostCpu *h = c >= 0 ? cpu_topology_find(topo, (unsigned) c) : NULL;
                CpuSet sib;
                if (h)
                        cpu_topology_siblings(h, &sib);
                if (h && cpu_set_is_subset(&used, &sib) && cpu_set_count(&sib) >= last - first + 1)
                        continue;
                for (unsigned v = first; v <= last; v++)
                        cpu_set_add(&bad_vcpus, v);
                cpu_set_union(&bad_cpus, &used);
        }
        if (!cpu_set_is_empty(&bad_vcpus))
                return check_list_add(l, id, CHECK_WARN,
                                      "Pin the vCPUs of each guest core to the SMT threads of one host core "
                                      "(thread_siblings_list), or declare threads='1' in <cpu><topology> with cores "
                                      "equal to the vCPU count",
                                      "The guest topology declares threads='%u', but vCPUs %s are not on SMT siblings of "
                                      "one host core (they are on host CPUs %s)",
                                      threads, fmt_set(&t, &bad_vcpus), fmt_set(&t, &bad_cpus));
        return check_list_add(l, id, CHECK_OK, NULL,
                              "Every guest core's %u vCPUs are on SMT siblings of one host core", threads);
}

static int check_e_core_threads(const CpuTopology *topo, const Pinning *p, CheckList *l) {
        const char *id = "cpu.e-core-threads";
        _cleanup_(text_clear) Text t = { 0 };
        unsigned threads = guest_threads(p);
        if (!topo->hybrid)
                return check_list_add(l, id, CHECK_OK, NULL, "This host has no E-cores");
        if (threads < 2)
                return check_list_add(l, id, CHECK_OK, NULL, "The guest is told of one thread per core, as E-cores have");
        CpuSet e, vcpus, cpus;
        cpu_set_zero(&e);
        cpu_set_zero(&vcpus);
        cpu_set_zero(&cpus);
        for (size_t i = 0; i < topo->n; i++)
                if (topo->cpus[i].kind == CPU_KIND_E)
                        cpu_set_add(&e, topo->cpus[i].id);
        for (unsigned v = 0; v < p->n; v++)
                if (p->pins[v] && cpu_set_intersects(p->pins[v], &e)) {
                        cpu_set_add(&vcpus, v);
                        for (size_t w = 0; w < CPU_SET_WORDS; w++)
                                cpus.bits[w] |= p->pins[v]->bits[w] & e.bits[w];
                }
        if (cpu_set_is_empty(&vcpus))
                return check_list_add(l, id, CHECK_OK, NULL, "No vCPU is on an E-core");
        _cleanup_free_ char *remedy = NULL;
        if (asprintf(&remedy, "Declare <topology sockets='1' dies='1' cores='%u' threads='1'/> in <cpu>, or pin the "
                     "vCPUs to P-cores only (winvmctl cpu plan --apply writes both together)", p->n) < 0)
                return -ENOMEM;
        return check_list_add(l, id, CHECK_WARN, remedy,
                              "vCPUs %s are on E-cores (host CPUs %s), which have no SMT sibling, but the guest "
                              "topology declares threads='%u'",
                              fmt_set(&t, &vcpus), fmt_set(&t, &cpus), threads);
}

static int check_topology(const Pinning *p, CheckList *l) {
        const char *id = "cpu.topology";
        _cleanup_free_ char *remedy = NULL;
        if (asprintf(&remedy, "Set <topology sockets='1' dies='1' cores='%u' threads='1'/> in <cpu> (or cores='%u' "
                     "threads='2' on SMT pairs), so the product is the <vcpu> count %u (winvmctl cpu plan --apply "
                     "writes a matching one)",
                     p->n, p->n / 2 ? p->n / 2 : 1, p->n) < 0)
                return -ENOMEM;
        if (!p->has_topology) {
                if (p->n == 1)
                        return check_list_add(l, id, CHECK_OK, NULL, "One vCPU, no <topology> needed");
                /* libvirt's default is one socket per vCPU; Windows 11 client editions use at most two. */
                return check_list_add(l, id, CHECK_WARN, remedy,
                                      "No <cpu><topology>: the guest sees %u sockets of one core, and Windows 11 uses "
                                      "at most 2 sockets", p->n);
        }
        if (p->topology_problem)
                return check_list_add(l, id, CHECK_FAIL, remedy, "%s", p->topology_problem);
        uint64_t product = 1;
        for (int i = 0; i < 5 && product <= VCPUS_MAX; i++)
                product *= p->topo[i];  /* each <= 8192: stop before five of them overflow */
        if (product != p->n)
                return check_list_add(l, id, CHECK_FAIL, remedy,
                                      "<topology> gives sockets*dies*clusters*cores*threads = %u*%u*%u*%u*%u, not the "
                                      "%u vCPUs of <vcpu>", p->topo[0], p->topo[1], p->topo[2], p->topo[3], p->topo[4],
                                      p->n);
        return check_list_add(l, id, CHECK_OK, NULL, "%u socket(s) * %u core(s) * %u thread(s) = %u vCPUs",
                              p->topo[0] * p->topo[1] * p->topo[2], p->topo[3], p->topo[4], p->n);
}

static const char *const check_ids[] = { "cpu.pinned", "cpu.online", "cpu.emulator", "cpu.host-cpus",
                                         "cpu.smt-siblings", "cpu.e-core-threads", "cpu.topology" };

int cpu_pinning_check(const CpuTopology *t, const char *domain_xml, const char *host_cpus, CheckList *out) {
        if (!t || !out)
                return -EINVAL;
        _cleanup_(xml_doc_freep) xmlDocPtr doc = parse_domain(domain_xml);
        if (!doc)
                return -EINVAL;
        _cleanup_(xpath_ctx_freep) xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
        if (!ctx)
                return -ENOMEM;
        CheckList l = CHECK_LIST_INIT;
        int r = 0;

        /* libvirt's default is one vCPU. */
        xmlNodePtr vcpu = first_node(ctx, "/domain/vcpu");
        _cleanup_xml_ xmlChar *count = vcpu ? xmlNodeGetContent(vcpu) : NULL;
        char buf[16] = "1";
        if (count)
                snprintf(buf, sizeof(buf), "%.15s", (const char *) count + strspn((const char *) count, " \t\n"));
        buf[strcspn(buf, " \t\n")] = '\0';
        unsigned n = 0;
        if (!parse_uint(buf, VCPUS_MAX, &n) || n == 0) {
                for (size_t i = 0; r == 0 && i + 1 < ELEMENTSOF(check_ids); i++)
                        r = check_list_add(&l, check_ids[i], CHECK_SKIPPED, NULL, "The <vcpu> count is not valid");
                if (r == 0)
                        r = check_list_add(&l, "cpu.topology", CHECK_FAIL,
                                           "Set <vcpu placement='static'>N</vcpu> with N the number of vCPUs",
                                           "The <vcpu> count '%s' is not a number from 1 to %u", quote(buf).s, VCPUS_MAX);
        } else {
                _cleanup_(pinning_clear) Pinning p;
                r = pinning_read(ctx, n, &p);
                if (r == 0)
                        r = check_pinned(&p, &l);
                if (r == 0)
                        r = check_online(t, &p, &l);
                if (r == 0)
                        r = check_emulator(&p, &l);
                if (r == 0)
                        r = check_host_cpus(&p, host_cpus, &l);
                if (r == 0)
                        r = check_smt_siblings(t, &p, &l);
                if (r == 0)
                        r = check_e_core_threads(t, &p, &l);
                if (r == 0)
                        r = check_topology(&p, &l);
        }
        if (r == 0)
                r = check_list_move(out, &l);
        check_list_clear(&l);
        return r;
}

/* --- planning ------------------------------------------------------------------------- */

/* x86 cores have at most 2 threads; more are ignored rather than trusted from sysfs. */
#define CORE_THREADS_MAX 8

/* A physical core: the online CPUs of one thread_siblings_list. */
typedef struct Core {
        unsigned package, core_id;
        CpuKind kind;
        unsigned threads[CORE_THREADS_MAX];
        unsigned n;
        bool taken;
} Core;

/* Every online core, in the order of its lowest CPU. */
static int list_cores(const CpuTopology *t, Core **ret, size_t *ret_n) {
        Core *cores = calloc(t->n ? t->n : 1, sizeof(Core));
        if (!cores)
                return -ENOMEM;
        size_t n = 0;
        CpuSet done, online;
        cpu_set_zero(&done);
        cpu_topology_online(t, &online);
        for (size_t i = 0; i < t->n; i++) {
                const HostCpu *c = &t->cpus[i];
                if (!c->online || cpu_set_has(&done, c->id))
                        continue;
                Core *k = &cores[n++];
                *k = (Core) { .package = c->package_id, .core_id = c->core_id, .kind = c->kind };
                CpuSet sib;
                cpu_topology_siblings(c, &sib);
                cpu_set_add(&sib, c->id);
                for (int s = cpu_set_next(&sib, 0); s >= 0; s = cpu_set_next(&sib, (unsigned) s + 1))
                        if (cpu_set_has(&online, (unsigned) s) && !cpu_set_has(&done, (unsigned) s)) {
                                cpu_set_add(&done, (unsigned) s);
                                if (k->n < CORE_THREADS_MAX)
                                        k->threads[k->n++] = (unsigned) s;
                        }
        }
        *ret = cores;
        *ret_n = n;
        return 0;
}

static bool is_p(const Core *c, bool hybrid) {
        return hybrid ? c->kind == CPU_KIND_P : true;
}

/* Marks the first `want` free cores of this kind (in package pkg, or any when pkg is NULL). */
static void take(Core *cores, size_t n, bool hybrid, bool p_kind, const unsigned *pkg, size_t want, Core **out) {
        for (size_t i = 0, k = 0; i < n && k < want; i++) {
                Core *c = &cores[i];
                bool kind_ok = p_kind ? is_p(c, hybrid) : hybrid && c->kind == CPU_KIND_E;
                if (c->taken || !kind_ok || (pkg && c->package != *pkg))
                        continue;
                c->taken = true;
                out[k++] = c;
        }
}

static size_t count_free(const Core *cores, size_t n, bool hybrid, bool p_kind, const unsigned *pkg) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
                const Core *c = &cores[i];
                bool kind_ok = p_kind ? is_p(c, hybrid) : hybrid && c->kind == CPU_KIND_E;
                k += !c->taken && kind_ok && (!pkg || c->package == *pkg);
        }
        return k;
}

void cpu_plan_clear(CpuPlan *p) {
        free(p->vcpu_pins);
        free(p->guest_cpus);
        free(p->emulator_cpus);
        free(p->host_cpus);
        free(p->cputune_xml);
        free(p->topology_xml);
        free(p->table);
        *p = (CpuPlan) { 0 };
}

static int refuse(char **error, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int refuse(char **error, const char *fmt, ...) {
        if (error) {
                va_list ap;
                va_start(ap, fmt);
                if (vasprintf(error, fmt, ap) < 0)
                        *error = NULL;
                va_end(ap);
        }
        return -EINVAL;
}

static void free_corep(Core **p) {
        free(*p);
}

static void memstream_closep(FILE **f) {
        if (*f)
                fclose(*f);
}

/* The text of a plan: the XML snippets and the table. */
static int plan_texts(const CpuTopology *t, Core *const *guest, size_t n_guest, bool mixed, CpuPlan *p) {
        _cleanup_free_ char *tune = NULL, *table = NULL;
        size_t size = 0;
        {
                _cleanup_(memstream_closep) FILE *f = open_memstream(&tune, &size);
                if (!f)
                        return -ENOMEM;
                fputs("<cputune>\n", f);
                for (unsigned v = 0; v < p->n_vcpus; v++)
                        fprintf(f, "  <vcpupin vcpu='%u' cpuset='%u'/>\n", v, p->vcpu_pins[v]);
                fprintf(f, "  <emulatorpin cpuset='%s'/>\n</cputune>\n", p->emulator_cpus);
                if (fclose(f) != 0) {
                        f = NULL;
                        return -ENOMEM;
                }
                f = NULL;
        }
        bool packages = cpu_topology_n_packages(t) > 1;
        {
                _cleanup_(memstream_closep) FILE *f = open_memstream(&table, &size);
                if (!f)
                        return -ENOMEM;
                fprintf(f, "vCPU  host CPU  %score  type\n", packages ? "package  " : "");
                unsigned v = 0;
                for (size_t i = 0; i < n_guest; i++)
                        for (unsigned k = 0; k < guest[i]->n; k++, v++) {
                                const HostCpu *h = cpu_topology_find(t, guest[i]->threads[k]);
                                fprintf(f, "%4u  %8u  ", v, guest[i]->threads[k]);
                                if (packages)
                                        fprintf(f, "%7u  ", guest[i]->package);
                                fprintf(f, "%4u  %s\n", guest[i]->core_id, h ? cpu_kind_to_string(h->kind) : "?");
                        }
                fprintf(f, "guest topology: sockets='1' dies='1' cores='%u' threads='%u'%s\n", p->cores, p->threads,
                        mixed ? " (E-cores have no SMT sibling: threads='1' so that no E-core pair is declared as one "
                                "core's threads; the P-core pairs still run on sibling threads)"
                              : p->threads > 1 ? " (each vCPU pair is the two threads of one host core)" : "");
                fprintf(f, "emulator: host CPUs %s\nhost keeps: %s\n", p->emulator_cpus,
                        *p->host_cpus ? p->host_cpus : "nothing");
                if (fclose(f) != 0) {
                        f = NULL;
                        return -ENOMEM;
                }
                f = NULL;
        }
        if (asprintf(&p->topology_xml, "<topology sockets='1' dies='1' cores='%u' threads='%u'/>", p->cores,
                     p->threads) < 0) {
                p->topology_xml = NULL;
                return -ENOMEM;
        }
        p->cputune_xml = tune;
        p->table = table;
        tune = table = NULL;
        return 0;
}

int cpu_pinning_plan(const CpuTopology *t, unsigned p_cores, unsigned e_cores, unsigned host_p_cores,
                     CpuPlan *ret, char **error) {
        if (error)
                *error = NULL;
        if (!t || !ret)
                return -EINVAL;
        bool hybrid = t->hybrid;
        const char *pw = hybrid ? "P-cores" : "cores";
        _cleanup_(free_corep) Core *cores = NULL;
        size_t n_cores;
        int r = list_cores(t, &cores, &n_cores);
        if (r < 0)
                return r;
        size_t n_p = count_free(cores, n_cores, hybrid, true, NULL);
        size_t n_e = count_free(cores, n_cores, hybrid, false, NULL);
        uint64_t want_p = (uint64_t) p_cores + host_p_cores;
        if ((uint64_t) p_cores + e_cores == 0)
                return refuse(error, "the guest needs at least one core");
        if (!hybrid && e_cores > 0)
                return refuse(error, "this host has no E-cores (its %zu cores are all alike); ask for cores only", n_p);
        if (want_p > n_p)
                return refuse(error, "this host has %zu %s; %u for the guest and %u for the host is %llu", n_p, pw,
                              p_cores, host_p_cores, (unsigned long long) want_p);
        if (e_cores > n_e)
                return refuse(error, "this host has %zu E-cores; %u asked for the guest", n_e, e_cores);

        /* Lowest P-cores for the host (see cpu-pinning.h); then the guest, in one package if any fits. */
        _cleanup_free_ Core **host = calloc(host_p_cores + 1, sizeof(Core *));
        _cleanup_free_ Core **guest = calloc((size_t) p_cores + e_cores + 1, sizeof(Core *));
        if (!host || !guest)
                return -ENOMEM;
        take(cores, n_cores, hybrid, true, NULL, host_p_cores, host);
        const unsigned *pkg = NULL;
        for (size_t i = 0; i < n_cores && !pkg; i++)
                if (!cores[i].taken && count_free(cores, n_cores, hybrid, true, &cores[i].package) >= p_cores &&
                    count_free(cores, n_cores, hybrid, false, &cores[i].package) >= e_cores)
                        pkg = &cores[i].package;
        unsigned pkg_value = pkg ? *pkg : 0;    /* take() marks cores; keep the value, not the pointer's core */
        take(cores, n_cores, hybrid, true, pkg ? &pkg_value : NULL, p_cores, guest);
        take(cores, n_cores, hybrid, false, pkg ? &pkg_value : NULL, e_cores, guest + p_cores);

        CpuPlan p = { .sockets = 1, .dies = 1 };
        CpuSet guest_set, emu, host_set, online;
        cpu_set_zero(&guest_set);
        cpu_set_zero(&emu);
        unsigned threads = guest[0]->n;
        bool even = true;
        for (size_t i = 0; i < (size_t) p_cores + e_cores; i++) {
                even = even && guest[i]->n == threads;
                for (unsigned k = 0; k < guest[i]->n; k++)
                        cpu_set_add(&guest_set, guest[i]->threads[k]);
        }
        for (unsigned i = 0; i < host_p_cores; i++)
                for (unsigned k = 0; k < host[i]->n; k++)
                        cpu_set_add(&emu, host[i]->threads[k]);
        cpu_topology_online(t, &online);
        for (size_t w = 0; w < CPU_SET_WORDS; w++)
                host_set.bits[w] = online.bits[w] & ~guest_set.bits[w];
        /* Without host P-cores the emulator gets whatever the guest leaves. */
        if (host_p_cores == 0)
                emu = host_set;
        if (cpu_set_is_empty(&emu))
                return refuse(error, "nothing would be left for the host: keep at least one of the %zu %s for it",
                              n_p, pw);

        p.n_vcpus = (unsigned) cpu_set_count(&guest_set);
        bool mixed = e_cores > 0 && p_cores > 0;
        p.threads = e_cores == 0 && even ? threads : 1;
        p.cores = p.n_vcpus / p.threads;
        p.vcpu_pins = calloc(p.n_vcpus, sizeof(unsigned));
        p.guest_cpus = cpulist_format(&guest_set);
        p.emulator_cpus = cpulist_format(&emu);
        p.host_cpus = cpulist_format(&host_set);
        if (!p.vcpu_pins || !p.guest_cpus || !p.emulator_cpus || !p.host_cpus) {
                cpu_plan_clear(&p);
                return -ENOMEM;
        }
        unsigned v = 0;
        for (size_t i = 0; i < (size_t) p_cores + e_cores; i++)
                for (unsigned k = 0; k < guest[i]->n; k++)
                        p.vcpu_pins[v++] = guest[i]->threads[k];
        r = plan_texts(t, guest, (size_t) p_cores + e_cores, mixed, &p);
        if (r < 0) {
                cpu_plan_clear(&p);
                return r;
        }
        *ret = p;
        return 0;
}

/* --- writing a plan into a domain ------------------------------------------------------ */

static xmlNodePtr child_named(xmlNodePtr parent, const char *name) {
        for (xmlNodePtr c = parent ? parent->children : NULL; c; c = c->next)
                if (c->type == XML_ELEMENT_NODE && !c->ns && xmlStrcmp(c->name, BAD_CAST name) == 0)
                        return c;
        return NULL;
}

static bool is_blank(xmlNodePtr n) {
        return n && n->type == XML_TEXT_NODE && xmlIsBlankNode(n);
}

/* Unlinks and frees an element with the indentation before it. */
static void remove_element(xmlNodePtr n) {
        if (is_blank(n->prev)) {
                xmlNodePtr blank = n->prev;
                xmlUnlinkNode(blank);
                xmlFreeNode(blank);
        }
        xmlUnlinkNode(n);
        xmlFreeNode(n);
}

/* A text node of a newline and two spaces per level, as libvirt indents. */
static xmlNodePtr indent_text(xmlNodePtr parent, bool closing) {
        unsigned depth = 0;
        for (xmlNodePtr n = parent; n && n->type == XML_ELEMENT_NODE; n = n->parent)
                depth++;
        char pad[2 + 2 * 32] = "\n";
        unsigned spaces = 2 * ((closing ? depth - 1 : depth) < 32 ? (closing ? depth - 1 : depth) : 32);
        memset(pad + 1, ' ', spaces);
        pad[1 + spaces] = '\0';
        return xmlNewText(BAD_CAST pad);
}

/* A new element in parent: after `after`, or before `before`, or last; indented. NULL on ENOMEM. */
static xmlNodePtr insert_element(xmlNodePtr parent, xmlNodePtr after, xmlNodePtr before, const char *name) {
        xmlNodePtr e = xmlNewNode(NULL, BAD_CAST name), pad = indent_text(parent, false);
        if (!e || !pad) {
                xmlFreeNode(e);
                xmlFreeNode(pad);
                return NULL;
        }
        if (after) {
                xmlAddNextSibling(after, e);
                xmlAddPrevSibling(e, pad);
        } else if (before) {
                xmlAddPrevSibling(before, e);
                xmlAddNextSibling(e, pad);
        } else if (is_blank(parent->last)) {
                xmlAddPrevSibling(parent->last, e);
                xmlAddPrevSibling(e, pad);
        } else {
                xmlAddChild(parent, e);
                xmlAddPrevSibling(e, pad);
                xmlNodePtr close = indent_text(parent, true);
                if (close)
                        xmlAddNextSibling(e, close);
        }
        return e;
}

static xmlNodePtr first_element(xmlNodePtr parent) {
        for (xmlNodePtr c = parent->children; c; c = c->next)
                if (c->type == XML_ELEMENT_NODE)
                        return c;
        return NULL;
}

static int set_uint_prop(xmlNodePtr n, const char *name, unsigned v) {
        char buf[16];
        snprintf(buf, sizeof(buf), "%u", v);
        return xmlSetProp(n, BAD_CAST name, BAD_CAST buf) ? 0 : -ENOMEM;
}

static int apply_vcpu(xmlNodePtr dom, const CpuPlan *plan, xmlNodePtr *ret_vcpu) {
        xmlNodePtr vcpu = child_named(dom, "vcpu");
        if (!vcpu) {
                xmlNodePtr after = child_named(dom, "currentMemory");
                after = after ? after : child_named(dom, "memory");
                vcpu = insert_element(dom, after, NULL, "vcpu");
                if (!vcpu)
                        return -ENOMEM;
        }
        char buf[16];
        snprintf(buf, sizeof(buf), "%u", plan->n_vcpus);
        xmlNodeSetContent(vcpu, BAD_CAST buf);
        if (!xmlSetProp(vcpu, BAD_CAST "placement", BAD_CAST "static"))
                return -ENOMEM;
        /* Every vCPU online at boot; a <vcpus> list would have to match the new count. */
        xmlUnsetProp(vcpu, BAD_CAST "current");
        xmlUnsetProp(vcpu, BAD_CAST "cpuset");  /* only for unpinned vCPUs, and there are none */
        xmlNodePtr list;
        while ((list = child_named(dom, "vcpus")))
                remove_element(list);
        *ret_vcpu = vcpu;
        return 0;
}

static int apply_cputune(xmlNodePtr dom, xmlNodePtr vcpu, const CpuPlan *plan) {
        xmlNodePtr tune = child_named(dom, "cputune");
        if (!tune && !(tune = insert_element(dom, child_named(dom, "iothreads") ?: vcpu, NULL, "cputune")))
                return -ENOMEM;
        /* libvirt reads the pins of every <cputune>: clear them all, write into the first. */
        for (xmlNodePtr t = dom->children; t; t = t->next) {
                if (t->type != XML_ELEMENT_NODE || t->ns || xmlStrcmp(t->name, BAD_CAST "cputune") != 0)
                        continue;
                for (xmlNodePtr c = t->children, next; c; c = next) {
                        next = c->next;
                        if (c->type == XML_ELEMENT_NODE && !c->ns &&
                            (xmlStrcmp(c->name, BAD_CAST "vcpupin") == 0 || xmlStrcmp(c->name, BAD_CAST "emulatorpin") == 0))
                                remove_element(c);
                }
        }
        /* The pins go first, as libvirt writes them; other children (vcpusched, shares) stay. */
        xmlNodePtr before = first_element(tune);
        for (unsigned v = 0; v <= plan->n_vcpus; v++) {
                bool emu = v == plan->n_vcpus;
                xmlNodePtr e = insert_element(tune, NULL, before, emu ? "emulatorpin" : "vcpupin");
                if (!e)
                        return -ENOMEM;
                int r = emu ? 0 : set_uint_prop(e, "vcpu", v);
                if (r == 0)
                        r = emu ? (xmlSetProp(e, BAD_CAST "cpuset", BAD_CAST plan->emulator_cpus) ? 0 : -ENOMEM)
                                : set_uint_prop(e, "cpuset", plan->vcpu_pins[v]);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int apply_topology(xmlNodePtr dom, const CpuPlan *plan) {
        xmlNodePtr cpu = child_named(dom, "cpu");
        if (!cpu) {
                xmlNodePtr after = child_named(dom, "features");
                cpu = insert_element(dom, after ? after : child_named(dom, "cputune"), NULL, "cpu");
                if (!cpu || !xmlSetProp(cpu, BAD_CAST "mode", BAD_CAST "host-passthrough"))
                        return -ENOMEM;
        }
        xmlNodePtr topo = child_named(cpu, "topology");
        if (!topo && !(topo = insert_element(cpu, NULL, first_element(cpu), "topology")))
                return -ENOMEM;
        int r = set_uint_prop(topo, "sockets", plan->sockets);
        if (r == 0)
                r = set_uint_prop(topo, "dies", plan->dies);
        if (r == 0 && xmlHasProp(topo, BAD_CAST "clusters"))
                r = set_uint_prop(topo, "clusters", 1);
        if (r == 0)
                r = set_uint_prop(topo, "cores", plan->cores);
        if (r == 0)
                r = set_uint_prop(topo, "threads", plan->threads);
        return r;
}

int cpu_pinning_apply_to_xml(const char *domain_xml, const CpuPlan *plan, char **ret_xml) {
        if (!plan || plan->n_vcpus == 0 || !plan->vcpu_pins || !plan->emulator_cpus ||
            (uint64_t) plan->sockets * plan->dies * plan->cores * plan->threads != plan->n_vcpus)
                return -EINVAL;
        _cleanup_(xml_doc_freep) xmlDocPtr doc = parse_domain(domain_xml);
        if (!doc)
                return -EINVAL;
        xmlNodePtr dom = xmlDocGetRootElement(doc), vcpu;
        int r = apply_vcpu(dom, plan, &vcpu);
        if (r == 0)
                r = apply_cputune(dom, vcpu, plan);
        if (r == 0)
                r = apply_topology(dom, plan);
        if (r < 0)
                return r;
        xmlChar *out = NULL;
        int len = 0;
        /* Always UTF-8, whatever encoding the input declared (see domain-xml.c). */
        xmlDocDumpMemoryEnc(doc, &out, &len, "UTF-8");
        *ret_xml = out ? strdup((const char *) out) : NULL;
        xmlFree(out);
        return *ret_xml ? 0 : -ENOMEM;
}
