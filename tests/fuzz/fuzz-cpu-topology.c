/* Fuzzes the CPU lists and the pinning checks (service/lib/cpu-topology.c, cpu-pinning.c) against the
 * seed host's topology (tests/fixtures/hosts/intel-seed: 8 P-cores with SMT, 12 E-cores).
 *
 * The input's first line is a CPU list (also passed as the CPUs kept for the host), the rest a
 * domain XML. Checks: what parses formats canonically and parses back to the same set (as a
 * bitmap and as an array, in both syntaxes); errors are -EINVAL or -ERANGE; the checks come out
 * in the documented order and well formed (fuzz-checks.h) or the XML is refused with nothing
 * added; and once a plan is written into the XML, the checks find no problem with it. */
#include <errno.h>
#include <libxml/parser.h>

#include "cpu-pinning.h"
#include "cpu-topology.h"
#include "fuzz-checks.h"
#include "fuzz-common.h"
#include "util.h"

#ifndef FUZZ_HOST_ROOT
#define FUZZ_HOST_ROOT "/nonexistent"
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv);

static CpuTopology topo;
static CpuPlan plans[2];        /* 6 P + 4 E (threads='1') and 6 P (threads='2'), 2 P for the host */

static void quiet(void *ctx, const char *msg, ...) {
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        xmlSetGenericErrorFunc(NULL, quiet);
        if (cpu_topology_read(FUZZ_HOST_ROOT, &topo) < 0 || cpu_pinning_plan(&topo, 6, 4, 2, &plans[0], NULL) < 0 ||
            cpu_pinning_plan(&topo, 6, 0, 2, &plans[1], NULL) < 0)
                abort();
        return 0;
}

static void check_cpulist(const char *text) {
        CpuSet s, again;
        int r = cpulist_parse(text, &s);
        fuzz_check(r == 0 || r == -EINVAL || r == -ERANGE, "cpulist_parse returned %d", r);
        if (r == 0) {
                char *f = cpulist_format(&s);
                fuzz_check(f, "cpulist_format failed");
                fuzz_check(cpulist_parse(f, &again) == 0 && cpu_set_equal(&s, &again), "'%s' does not parse back", f);
                char *f2 = cpulist_format(&again);
                fuzz_check(f2 && strcmp(f, f2) == 0, "'%s' formats as '%s'", f, fuzz_str(f2));
                if (*f)
                        fuzz_check(cpuset_parse(f, &again) == 0 && cpu_set_equal(&s, &again),
                                   "'%s' is not the same libvirt cpuset", f);
                unsigned *ids = NULL;
                size_t n = 0;
                fuzz_check(cpu_set_to_array(&s, &ids, &n) == 0 && n == cpu_set_count(&s), "array of %zu", n);
                for (size_t i = 1; i < n; i++)
                        fuzz_check(ids[i - 1] < ids[i], "array not sorted at %zu", i);
                char *f3 = cpulist_format_array(ids, n);
                fuzz_check(f3 && strcmp(f, f3) == 0, "array formats as '%s', not '%s'", fuzz_str(f3), f);
                free(ids);
                free(f);
                free(f2);
                free(f3);
        }
        r = cpuset_parse(text, &s);
        fuzz_check(r == 0 || r == -EINVAL || r == -ERANGE, "cpuset_parse returned %d", r);
        if (r == 0 && !cpu_set_is_empty(&s)) {
                char *f = cpulist_format(&s);
                fuzz_check(f && cpuset_parse(f, &again) == 0 && cpu_set_equal(&s, &again), "cpuset '%s' does not "
                           "parse back", fuzz_str(f));
                free(f);
        }
}

static const char *const ids[] = { "cpu.pinned", "cpu.online", "cpu.emulator", "cpu.host-cpus",
                                   "cpu.smt-siblings", "cpu.e-core-threads", "cpu.topology" };

static int run_checks(const char *xml, const char *host_cpus, CheckList *l) {
        int r = cpu_pinning_check(&topo, xml, host_cpus, l);
        fuzz_check(r == 0 || r == -EINVAL, "cpu_pinning_check returned %d", r);
        if (r < 0) {
                fuzz_check(l->n == 0, "refused XML, but %zu checks", l->n);
                return r;
        }
        fuzz_check(l->n == ELEMENTSOF(ids), "%zu checks", l->n);
        for (size_t i = 0; i < l->n; i++)
                fuzz_check(strcmp(l->items[i].id, ids[i]) == 0, "check %zu is %s", i, l->items[i].id);
        fuzz_check_list(l);
        /* Quoted input is cut to printable ASCII: a message is always valid UTF-8 for the bus. */
        for (size_t i = 0; i < l->n; i++)
                for (const char *c = l->items[i].message; *c; c++)
                        fuzz_check(*c >= 0x20 && *c < 0x7f, "%s: byte 0x%02x in the message", l->items[i].id,
                                   (unsigned char) *c);
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text = fuzz_strndup(data, size);
        char *nl = strchr(text, '\n');
        const char *xml = nl ? nl + 1 : text;
        if (nl)
                *nl = '\0';
        check_cpulist(text);

        CheckList l = CHECK_LIST_INIT;
        int r = run_checks(xml, nl ? text : NULL, &l);
        check_list_clear(&l);

        const CpuPlan *plan = &plans[size % 2];
        char *edited = NULL;
        int a = cpu_pinning_apply_to_xml(xml, plan, &edited);
        fuzz_check(a == 0 || a == -EINVAL, "cpu_pinning_apply_to_xml returned %d", a);
        fuzz_check(a == r, "the checks returned %d, the edit %d", r, a);
        if (a == 0) {
                fuzz_check(run_checks(edited, plan->host_cpus, &l) == 0, "the edited XML does not parse");
                for (size_t i = 0; i < l.n; i++)
                        fuzz_check(l.items[i].status == CHECK_OK || l.items[i].status == CHECK_SKIPPED,
                                   "after the plan, %s is %s: %s", l.items[i].id,
                                   check_status_to_string(l.items[i].status), l.items[i].message);
                check_list_clear(&l);
        }
        free(edited);
        free(text);
        return 0;
}
