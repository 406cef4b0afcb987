/* Unit tests for service/lib/cpu-topology.c and service/lib/cpu-pinning.c: the topology of each fixture
 * host (tests/fixtures/hosts: the seed's hybrid i7-14700KF, a uniform 8-core with SMT, two
 * sockets), the cpulist parsers on good and hostile text, the pinning checks on the seed's own
 * domain and on hand-made ones, and plans: each one the checks pass once written into a domain,
 * and impossible ones refused with a message. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cpu-pinning.h"
#include "cpu-topology.h"
#include "host-fixtures.h"
#include "util.h"

static CpuTopology topo;
static CheckList checks;
static CpuPlan plan;
static char *xml, *edited, *error;

static void setup(void) {
        topo = (CpuTopology) { 0 };
        checks = CHECK_LIST_INIT;
        plan = (CpuPlan) { 0 };
        xml = edited = error = NULL;
}

static void teardown(void) {
        cpu_topology_clear(&topo);
        check_list_clear(&checks);
        cpu_plan_clear(&plan);
        free(xml);
        free(edited);
        free(error);
}

static void read_host(const char *name) {
        int r = cpu_topology_read(host_root(name), &topo);
        ck_assert_msg(r == 0, "cpu_topology_read(%s): %d", name, r);
}

static const HostCpu *cpu(unsigned id) {
        const HostCpu *c = cpu_topology_find(&topo, id);
        ck_assert_msg(c != NULL, "no CPU %u", id);
        return c;
}

static void assert_cpu(unsigned id, unsigned core, unsigned package, CpuKind kind, const char *siblings) {
        const HostCpu *c = cpu(id);
        ck_assert_msg(c->core_id == core, "CPU %u: core_id %u, expected %u", id, c->core_id, core);
        ck_assert_msg(c->package_id == package, "CPU %u: package %u, expected %u", id, c->package_id, package);
        ck_assert_msg(c->kind == kind, "CPU %u: kind %s", id, cpu_kind_to_string(c->kind));
        ck_assert_str_eq(c->siblings, siblings);
        ck_assert(c->online);
}

static const char *const ids[] = { "cpu.pinned", "cpu.online", "cpu.emulator", "cpu.host-cpus",
                                   "cpu.smt-siblings", "cpu.e-core-threads", "cpu.topology" };

/* Runs the checks on text; every id comes once, in the documented order. */
static void run_check(const char *text, const char *host_cpus) {
        check_list_clear(&checks);
        int r = cpu_pinning_check(&topo, text, host_cpus, &checks);
        ck_assert_msg(r == 0, "cpu_pinning_check: %d", r);
        ck_assert_uint_eq(checks.n, ELEMENTSOF(ids));
        for (size_t i = 0; i < checks.n; i++)
                ck_assert_str_eq(checks.items[i].id, ids[i]);
}

static void assert_no_problem(void) {
        for (size_t i = 0; i < checks.n; i++)
                ck_assert_msg(checks.items[i].status == CHECK_OK || checks.items[i].status == CHECK_SKIPPED,
                              "%s is %s: %s", checks.items[i].id, check_status_to_string(checks.items[i].status),
                              checks.items[i].message);
}

/* Plans, writes the plan into xml (already loaded) and checks the result against the host. */
static void plan_apply_check(unsigned p, unsigned e, unsigned host) {
        cpu_plan_clear(&plan);
        int r = cpu_pinning_plan(&topo, p, e, host, &plan, &error);
        ck_assert_msg(r == 0, "plan %u+%u+%u: %d %s", p, e, host, r, error ? error : "");
        ck_assert_ptr_null(error);
        free(edited);
        edited = NULL;
        ck_assert_int_eq(cpu_pinning_apply_to_xml(xml, &plan, &edited), 0);
        run_check(edited, plan.host_cpus);
        assert_no_problem();
        /* Applying twice changes nothing more. */
        char *again = NULL;
        ck_assert_int_eq(cpu_pinning_apply_to_xml(edited, &plan, &again), 0);
        ck_assert_str_eq(again, edited);
        free(again);
}

static void assert_pins(const unsigned *want, size_t n) {
        ck_assert_uint_eq(plan.n_vcpus, n);
        for (size_t i = 0; i < n; i++)
                ck_assert_msg(plan.vcpu_pins[i] == want[i], "vCPU %zu on %u, expected %u", i, plan.vcpu_pins[i], want[i]);
}

static void refused(unsigned p, unsigned e, unsigned host, const char *message) {
        free(error);
        error = NULL;
        ck_assert_int_eq(cpu_pinning_plan(&topo, p, e, host, &plan, &error), -EINVAL);
        ck_assert_ptr_nonnull(error);
        ck_assert_msg(strstr(error, message) != NULL, "error '%s' lacks '%s'", error, message);
        ck_assert_ptr_null(plan.vcpu_pins);
}

/* --- topology of the fixture hosts --------------------------------------------------------- */

START_TEST(test_topology_intel_seed) {
        read_host("intel-seed");
        ck_assert_uint_eq(topo.n, 28);
        ck_assert(topo.hybrid);
        for (unsigned c = 0; c < 8; c++) {
                char sib[16];
                snprintf(sib, sizeof(sib), "%u-%u", 2 * c, 2 * c + 1);
                assert_cpu(2 * c, 4 * c, 0, CPU_KIND_P, sib);
                assert_cpu(2 * c + 1, 4 * c, 0, CPU_KIND_P, sib);
        }
        for (unsigned c = 16; c < 28; c++) {
                char sib[16];
                snprintf(sib, sizeof(sib), "%u", c);
                assert_cpu(c, c + 16, 0, CPU_KIND_E, sib);
        }
        ck_assert_ptr_null(cpu_topology_find(&topo, 28));
        ck_assert_uint_eq(cpu_topology_n_packages(&topo), 1);
        ck_assert_str_eq(cpu_kind_to_string(cpu(3)->kind), "P");
        ck_assert_str_eq(cpu_kind_to_string(cpu(16)->kind), "E");
}
END_TEST

START_TEST(test_topology_uniform) {
        read_host("uniform-8core");
        ck_assert_uint_eq(topo.n, 16);
        ck_assert(!topo.hybrid);
        assert_cpu(0, 0, 0, CPU_KIND_UNIFORM, "0,8");
        assert_cpu(3, 3, 0, CPU_KIND_UNIFORM, "3,11");
        assert_cpu(11, 3, 0, CPU_KIND_UNIFORM, "3,11");
        assert_cpu(15, 7, 0, CPU_KIND_UNIFORM, "7,15");
        ck_assert_str_eq(cpu_kind_to_string(cpu(3)->kind), "uniform");
        ck_assert_uint_eq(cpu_topology_n_packages(&topo), 1);
}
END_TEST

START_TEST(test_topology_two_socket) {
        read_host("two-socket");
        ck_assert_uint_eq(topo.n, 16);
        ck_assert(!topo.hybrid);
        assert_cpu(0, 0, 0, CPU_KIND_UNIFORM, "0,8");
        assert_cpu(3, 3, 0, CPU_KIND_UNIFORM, "3,11");
        assert_cpu(4, 0, 1, CPU_KIND_UNIFORM, "4,12");
        assert_cpu(12, 0, 1, CPU_KIND_UNIFORM, "4,12");
        assert_cpu(15, 3, 1, CPU_KIND_UNIFORM, "7,15");
        ck_assert_uint_eq(cpu_topology_n_packages(&topo), 2);
}
END_TEST

START_TEST(test_topology_missing) {
        /* iommu-off has no /sys/devices/system/cpu at all. */
        ck_assert_int_eq(cpu_topology_read(host_root("iommu-off"), &topo), -ENOENT);
        ck_assert_ptr_null(topo.cpus);
}
END_TEST

/* --- cpulists -------------------------------------------------------------------------------- */

static void assert_list(const char *text, const char *canonical) {
        CpuSet s;
        ck_assert_msg(cpulist_parse(text, &s) == 0, "cpulist '%s' refused", text);
        char *f = cpulist_format(&s);
        ck_assert_str_eq(f, canonical);
        CpuSet again;
        ck_assert_int_eq(cpulist_parse(f, &again), 0);
        ck_assert(cpu_set_equal(&s, &again));
        free(f);
}

START_TEST(test_cpulist_good) {
        assert_list("0-3,8,10-11", "0-3,8,10-11");
        assert_list("0-1\n", "0-1");
        assert_list(" 3 , 1,2 ", "1-3");
        assert_list("11,10,8,0-3,2", "0-3,8,10-11");
        assert_list("0,8", "0,8");
        assert_list("", "");
        assert_list("\n", "");
        assert_list("8191", "8191");
        assert_list("0-8191", "0-8191");
        assert_list("007", "7");

        CpuSet s;
        ck_assert_int_eq(cpulist_parse("0-8191", &s), 0);
        ck_assert_uint_eq(cpu_set_count(&s), 8192);

        unsigned *a = NULL;
        size_t n = 0;
        ck_assert_int_eq(cpulist_parse_array("10-11,0-2,8,1", &a, &n), 0);
        ck_assert_uint_eq(n, 6);
        const unsigned want[] = { 0, 1, 2, 8, 10, 11 };
        for (size_t i = 0; i < n; i++)
                ck_assert_uint_eq(a[i], want[i]);
        char *f = cpulist_format_array(a, n);
        ck_assert_str_eq(f, "0-2,8,10-11");
        free(f);
        free(a);
        ck_assert_int_eq(cpulist_parse_array("", &a, &n), 0);
        ck_assert_uint_eq(n, 0);
        ck_assert_ptr_null(a);
}
END_TEST

START_TEST(test_cpuset_libvirt) {
        CpuSet s;
        ck_assert_int_eq(cpuset_parse("0-7,^3", &s), 0);
        char *f = cpulist_format(&s);
        ck_assert_str_eq(f, "0-2,4-7");
        free(f);
        /* Exclusions apply whatever their place, as in libvirt. */
        ck_assert_int_eq(cpuset_parse("^5, 4-6", &s), 0);
        f = cpulist_format(&s);
        ck_assert_str_eq(f, "4,6");
        free(f);
        ck_assert_int_eq(cpuset_parse("2,^2", &s), 0);
        ck_assert(cpu_set_is_empty(&s));
        ck_assert_int_eq(cpuset_parse("", &s), -EINVAL);
        ck_assert_int_eq(cpuset_parse("  ", &s), -EINVAL);
        ck_assert_int_eq(cpulist_parse("0-7,^3", &s), -EINVAL);     /* the kernel's format has none */
}
END_TEST

START_TEST(test_cpulist_hostile) {
        static const char *const einval[] = {
                "3-1", "1-", "-1", "1,,2", ",1", "1,", "0x1", "1 2", "1-2-3", "^", "^1", "a", "1-a",
                "1;2", "0-3:2/4", "+1", "1.5", "\xff", "0\n1",
        };
        CpuSet s;
        for (size_t i = 0; i < ELEMENTSOF(einval); i++) {
                int r = cpulist_parse(einval[i], &s);
                ck_assert_msg(r == -EINVAL, "cpulist '%s' gave %d", einval[i], r);
        }
        static const char *const erange[] = { "8192", "0-8192", "99999999999999999999999", "4294967296",
                                              "1,100000" };
        for (size_t i = 0; i < ELEMENTSOF(erange); i++) {
                ck_assert_int_eq(cpulist_parse(erange[i], &s), -ERANGE);
                ck_assert_int_eq(cpuset_parse(erange[i], &s), -ERANGE);
        }
        ck_assert_int_eq(cpuset_parse("^8192", &s), -ERANGE);
        ck_assert_int_eq(cpuset_parse("1-^2", &s), -EINVAL);
        ck_assert_int_eq(cpulist_parse(NULL, &s), -EINVAL);
}
END_TEST

/* --- checks ----------------------------------------------------------------------------------- */

START_TEST(test_check_seed) {
        read_host("intel-seed");
        xml = fixture_text("domains/windows11-seed.xml");
        /* What the seed keeps for the host: P-cores 0 and 7, E-cores 20-27. */
        run_check(xml, "0-1,14-15,20-27");
        assert_check(&checks, "cpu.pinned", CHECK_OK, "All 16 vCPUs are pinned", NULL);
        assert_check(&checks, "cpu.online", CHECK_OK, "0-19", NULL);
        assert_check(&checks, "cpu.emulator", CHECK_OK, "0-1,14-15", NULL);
        assert_check(&checks, "cpu.host-cpus", CHECK_OK, NULL, NULL);
        /* vCPUs 12-15 are two declared cores on E-cores 16-19, which are no siblings. */
        assert_check(&checks, "cpu.smt-siblings", CHECK_WARN,
                     "declares threads='2', but vCPUs 12-15 are not on SMT siblings of one host core (they are on "
                     "host CPUs 16-19)", "threads='1'");
        assert_check(&checks, "cpu.e-core-threads", CHECK_WARN,
                     "vCPUs 12-15 are on E-cores (host CPUs 16-19)",
                     "<topology sockets='1' dies='1' cores='16' threads='1'/>");
        assert_check(&checks, "cpu.topology", CHECK_OK, "16 vCPUs", NULL);

        /* Without a host list that check is skipped; one that overlaps is named. */
        run_check(xml, NULL);
        assert_check(&checks, "cpu.host-cpus", CHECK_SKIPPED, NULL, NULL);
        run_check(xml, "");
        assert_check(&checks, "cpu.host-cpus", CHECK_SKIPPED, NULL, NULL);
        run_check(xml, "0-3");
        assert_check(&checks, "cpu.host-cpus", CHECK_WARN, "vCPUs 0-1 are pinned to host CPUs 2-3", NULL);
        run_check(xml, "0-3,zz");
        assert_check(&checks, "cpu.host-cpus", CHECK_FAIL, "'0-3,zz'", NULL);
}
END_TEST

static const char *const head = "<domain type='kvm'><name>w</name><memory unit='MiB'>128</memory>";

static char *domain(const char *body) {
        char *s = NULL;
        ck_assert_int_ge(asprintf(&s, "%s%s</domain>", head, body), 0);
        return s;
}

START_TEST(test_check_problems) {
        read_host("intel-seed");
        const char *topology = "<cpu mode='host-passthrough'><topology sockets='1' dies='1' cores='2' threads='2'/></cpu>";
        char body[1024];

        /* A clean one first, so that each problem below is the only one. */
        snprintf(body, sizeof(body), "<vcpu>4</vcpu><cputune><vcpupin vcpu='0' cpuset='4'/><vcpupin vcpu='1' "
                 "cpuset='5'/><vcpupin vcpu='2' cpuset='6'/><vcpupin vcpu='3' cpuset='7'/><emulatorpin "
                 "cpuset='0-1'/></cputune>%s", topology);
        xml = domain(body);
        run_check(xml, "0-1");
        assert_no_problem();
        assert_check(&checks, "cpu.smt-siblings", CHECK_OK, NULL, NULL);
        assert_check(&checks, "cpu.e-core-threads", CHECK_OK, "No vCPU is on an E-core", NULL);
        free(xml);

        /* vCPU 3 unpinned, no emulatorpin. */
        snprintf(body, sizeof(body), "<vcpu>4</vcpu><cputune><vcpupin vcpu='0' cpuset='4'/><vcpupin vcpu='1' "
                 "cpuset='5'/><vcpupin vcpu='2' cpuset='6'/></cputune>%s", topology);
        xml = domain(body);
        run_check(xml, NULL);
        assert_check(&checks, "cpu.pinned", CHECK_WARN, "1 of 4 vCPUs have no <vcpupin>", "<vcpupin");
        assert_check(&checks, "cpu.emulator", CHECK_WARN, "No <emulatorpin>", "<emulatorpin");
        free(xml);

        /* Pins to a CPU the host lacks, one vCPU number out of range, a bad cpuset. */
        xml = domain("<vcpu>2</vcpu><cputune><vcpupin vcpu='0' cpuset='99'/><vcpupin vcpu='1' cpuset='2'/>"
                     "<emulatorpin cpuset='0'/></cputune><cpu><topology sockets='1' cores='2' threads='1'/></cpu>");
        run_check(xml, NULL);
        assert_check(&checks, "cpu.online", CHECK_FAIL, "host CPUs 99, which this host does not have", NULL);
        assert_check(&checks, "cpu.pinned", CHECK_OK, NULL, NULL);
        free(xml);
        xml = domain("<vcpu>2</vcpu><cputune><vcpupin vcpu='0' cpuset='4'/><vcpupin vcpu='2' cpuset='5'/>"
                     "</cputune>");
        run_check(xml, NULL);
        assert_check(&checks, "cpu.pinned", CHECK_FAIL, "<vcpupin vcpu='2'> names no vCPU of 2", NULL);
        free(xml);
        xml = domain("<vcpu>2</vcpu><cputune><vcpupin vcpu='0' cpuset='4-'/><vcpupin vcpu='1' cpuset='5'/>"
                     "<emulatorpin cpuset='x'/></cputune>");
        run_check(xml, NULL);
        assert_check(&checks, "cpu.pinned", CHECK_FAIL, "cpuset='4-'> is not a CPU list", NULL);
        assert_check(&checks, "cpu.emulator", CHECK_FAIL, "<emulatorpin cpuset='x'>", NULL);
        /* No topology: one socket per vCPU. */
        assert_check(&checks, "cpu.topology", CHECK_WARN, "No <cpu><topology>", "cores='2' threads='1'");
        free(xml);

        /* Two vCPUs on one thread; the emulator on a vCPU's CPU; libvirt's ranges and exclusions. */
        xml = domain("<vcpu placement='static'>2</vcpu><cputune><vcpupin vcpu='0' cpuset='4-6,^5'/>"
                     "<vcpupin vcpu='1' cpuset='6'/><emulatorpin cpuset='0,4'/></cputune>"
                     "<cpu><topology sockets='1' dies='1' cores='1' threads='2'/></cpu>");
        run_check(xml, NULL);
        assert_check(&checks, "cpu.pinned", CHECK_WARN, "host CPUs 6 carry more than one vCPU", NULL);
        assert_check(&checks, "cpu.emulator", CHECK_WARN, "share host CPUs 4 with vCPUs", NULL);
        /* 4 and 6 are threads of two different cores. */
        assert_check(&checks, "cpu.smt-siblings", CHECK_WARN, "vCPUs 0-1", NULL);
        free(xml);

        /* The topology product is not the vCPU count; a topology value that is no number. */
        xml = domain("<vcpu>4</vcpu><cpu><topology sockets='1' dies='1' cores='4' threads='2'/></cpu>");
        run_check(xml, NULL);
        assert_check(&checks, "cpu.topology", CHECK_FAIL, "1*1*1*4*2, not the 4 vCPUs", "cores='4' threads='1'");
        free(xml);
        xml = domain("<vcpu>4</vcpu><cpu><topology sockets='1' cores='-4' threads='1'/></cpu>");
        run_check(xml, NULL);
        assert_check(&checks, "cpu.topology", CHECK_FAIL, "<topology cores='-4'>", NULL);
        free(xml);

        /* What the XML says is quoted as printable ASCII, cut at 32 bytes: valid UTF-8 on the bus (the
         * tab is a space already: XML normalizes attribute values). */
        xml = domain("<vcpu>1</vcpu><cputune><vcpupin vcpu='0' cpuset='\xc3\xa9\t0123456789012345678901234567890123'/>"
                     "</cputune>");
        run_check(xml, NULL);
        assert_check(&checks, "cpu.pinned", CHECK_FAIL, "cpuset='?? 01234567890123456789012345678'> is not", NULL);
        free(xml);

        /* A vCPU count libvirt would refuse: only cpu.topology says something. */
        xml = domain("<vcpu>lots</vcpu>");
        run_check(xml, NULL);
        assert_check(&checks, "cpu.topology", CHECK_FAIL, "'lots'", "<vcpu placement='static'>");
        assert_check(&checks, "cpu.pinned", CHECK_SKIPPED, NULL, NULL);
        free(xml);
        xml = NULL;

        /* Not a domain: nothing is added. */
        check_list_clear(&checks);
        ck_assert_int_eq(cpu_pinning_check(&topo, "<domain", NULL, &checks), -EINVAL);
        ck_assert_int_eq(cpu_pinning_check(&topo, "<network/>", NULL, &checks), -EINVAL);
        ck_assert_int_eq(cpu_pinning_check(&topo, NULL, NULL, &checks), -EINVAL);
        ck_assert_uint_eq(checks.n, 0);
}
END_TEST

START_TEST(test_check_offline) {
        read_host("intel-seed");
        /* As if `echo 0 > /sys/devices/system/cpu/cpu5/online` had run. */
        for (size_t i = 0; i < topo.n; i++)
                if (topo.cpus[i].id == 5)
                        topo.cpus[i].online = false;
        xml = domain("<vcpu>2</vcpu><cputune><vcpupin vcpu='0' cpuset='4'/><vcpupin vcpu='1' cpuset='5'/>"
                     "<emulatorpin cpuset='0-1'/></cputune>"
                     "<cpu><topology sockets='1' dies='1' cores='1' threads='2'/></cpu>");
        run_check(xml, NULL);
        assert_check(&checks, "cpu.online", CHECK_FAIL, "host CPUs 5, which are offline", "online");
        /* A plan leaves the offline thread out: its core has one thread left, so the cores are
         * uneven and the guest is told of one thread per core. */
        ck_assert_int_eq(cpu_pinning_plan(&topo, 7, 0, 1, &plan, &error), 0);
        ck_assert_uint_eq(plan.n_vcpus, 13);
        ck_assert_uint_eq(plan.threads, 1);
        ck_assert_str_eq(plan.guest_cpus, "2-4,6-15");
}
END_TEST

/* --- plans ------------------------------------------------------------------------------------ */

START_TEST(test_plan_seed) {
        read_host("intel-seed");
        xml = fixture_text("domains/windows11-seed.xml");
        plan_apply_check(6, 4, 2);
        /* Host: the lowest P-cores 0-1 (CPUs 0-3); guest: P-cores 2-7 (CPUs 4-15), E-cores 16-19. */
        const unsigned want[] = { 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19 };
        assert_pins(want, ELEMENTSOF(want));
        ck_assert_str_eq(plan.guest_cpus, "4-19");
        ck_assert_str_eq(plan.emulator_cpus, "0-3");
        ck_assert_str_eq(plan.host_cpus, "0-3,20-27");
        ck_assert_uint_eq(plan.cores, 16);
        ck_assert_uint_eq(plan.threads, 1);
        ck_assert_str_eq(plan.topology_xml, "<topology sockets='1' dies='1' cores='16' threads='1'/>");
        ck_assert_ptr_nonnull(strstr(plan.cputune_xml, "<vcpupin vcpu='15' cpuset='19'/>"));
        ck_assert_ptr_nonnull(strstr(plan.cputune_xml, "<emulatorpin cpuset='0-3'/>"));
        ck_assert_ptr_nonnull(strstr(plan.table, "vCPU  host CPU  core  type\n"));
        ck_assert_ptr_nonnull(strstr(plan.table, "   0         4     8  P\n"));
        ck_assert_ptr_nonnull(strstr(plan.table, "  15        19    35  E\n"));
        ck_assert_ptr_nonnull(strstr(plan.table, "E-cores have no SMT sibling"));
        /* The seed's clusters='1' stays 1; the rest of <cpu> and the domain are kept. */
        ck_assert_ptr_nonnull(strstr(edited, "<topology sockets=\"1\" dies=\"1\" clusters=\"1\" cores=\"16\" threads=\"1\"/>"));
        ck_assert_ptr_nonnull(strstr(edited, "<feature policy=\"require\" name=\"topoext\"/>"));
        ck_assert_ptr_nonnull(strstr(edited, "<vcpu placement=\"static\">16</vcpu>"));
        ck_assert_ptr_null(strstr(edited, "cpuset=\"0-1,14-15\""));
        ck_assert_ptr_nonnull(strstr(edited, "\n    <vcpupin vcpu=\"0\" cpuset=\"4\"/>\n"));

        /* P-cores only: vCPU pairs are the two threads of a core, declared threads='2'. */
        plan_apply_check(6, 0, 2);
        const unsigned want_p[] = { 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
        assert_pins(want_p, ELEMENTSOF(want_p));
        ck_assert_uint_eq(plan.cores, 6);
        ck_assert_uint_eq(plan.threads, 2);
        assert_check(&checks, "cpu.smt-siblings", CHECK_OK, NULL, NULL);

        /* E-cores only, and every P-core for the guest with the emulator on the E-cores left. */
        plan_apply_check(0, 4, 1);
        ck_assert_str_eq(plan.guest_cpus, "16-19");
        plan_apply_check(8, 0, 0);
        ck_assert_str_eq(plan.emulator_cpus, "16-27");
}
END_TEST

START_TEST(test_plan_everything_refused) {
        read_host("intel-seed");
        /* All 20 cores for the guest leaves nothing for the host. */
        refused(8, 12, 0, "nothing would be left for the host");
}
END_TEST

START_TEST(test_plan_impossible) {
        read_host("intel-seed");
        refused(6, 4, 3, "this host has 8 P-cores; 6 for the guest and 3 for the host is 9");
        refused(6, 13, 2, "this host has 12 E-cores; 13 asked for the guest");
        refused(0, 0, 2, "at least one core");
        refused(4294967295u, 0, 4294967295u, "this host has 8 P-cores");
        cpu_topology_clear(&topo);
        read_host("uniform-8core");
        refused(4, 2, 2, "this host has no E-cores");
        refused(7, 0, 2, "this host has 8 cores; 7 for the guest and 2 for the host is 9");
        refused(8, 0, 0, "nothing would be left for the host");
        /* error may be NULL. */
        ck_assert_int_eq(cpu_pinning_plan(&topo, 9, 0, 0, &plan, NULL), -EINVAL);
}
END_TEST

START_TEST(test_plan_uniform) {
        read_host("uniform-8core");
        xml = fixture_text("domains/windows11-bare.xml");
        plan_apply_check(6, 0, 2);
        /* Cores 0-1 (CPUs 0,8,1,9) for the host; core N is CPUs N and N+8. */
        const unsigned want[] = { 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15 };
        assert_pins(want, ELEMENTSOF(want));
        ck_assert_str_eq(plan.emulator_cpus, "0-1,8-9");
        ck_assert_uint_eq(plan.cores, 6);
        ck_assert_uint_eq(plan.threads, 2);
        ck_assert_ptr_nonnull(strstr(plan.table, "   1        10     2  uniform\n"));
        /* The bare guest had no <cputune> and no <cpu>: both were made. */
        ck_assert_ptr_nonnull(strstr(edited, "<cpu mode=\"host-passthrough\">"));
        ck_assert_ptr_nonnull(strstr(edited, "<topology sockets=\"1\" dies=\"1\" cores=\"6\" threads=\"2\"/>"));
        plan_apply_check(1, 0, 7);
}
END_TEST

START_TEST(test_plan_two_socket) {
        read_host("two-socket");
        xml = fixture_text("domains/windows11-bare.xml");
        /* The host keeps core 0 of package 0; 4 cores fit only in package 1. */
        plan_apply_check(4, 0, 1);
        const unsigned want[] = { 4, 12, 5, 13, 6, 14, 7, 15 };
        assert_pins(want, ELEMENTSOF(want));
        ck_assert_str_eq(plan.emulator_cpus, "0,8");
        ck_assert_str_eq(plan.host_cpus, "0-3,8-11");
        ck_assert_ptr_nonnull(strstr(plan.table, "vCPU  host CPU  package  core  type\n"));
        ck_assert_ptr_nonnull(strstr(plan.table, "   0         4        1     0  uniform\n"));
        /* 3 cores fit next to the host's in package 0. */
        plan_apply_check(3, 0, 1);
        const unsigned want3[] = { 1, 9, 2, 10, 3, 11 };
        assert_pins(want3, ELEMENTSOF(want3));
        /* 6 cores fit in no package: they span both. */
        plan_apply_check(6, 0, 1);
        ck_assert_str_eq(plan.guest_cpus, "1-6,9-14");
}
END_TEST

START_TEST(test_apply_keeps_cputune) {
        read_host("intel-seed");
        xml = strdup("<domain type='kvm'>\n  <name>w</name>\n  <vcpu placement='auto' current='2'>4</vcpu>\n"
                     "  <vcpus>\n    <vcpu id='0' enabled='yes'/>\n  </vcpus>\n"
                     "  <cputune>\n    <vcpupin vcpu='0' cpuset='1'/>\n    <shares>2048</shares>\n"
                     "    <emulatorpin cpuset='1'/>\n    <vcpusched vcpus='0' scheduler='fifo' priority='1'/>\n"
                     "  </cputune>\n  <cpu mode='custom'>\n    <model>Skylake</model>\n  </cpu>\n</domain>\n");
        plan_apply_check(2, 0, 1);
        ck_assert_ptr_nonnull(strstr(edited, "<shares>2048</shares>"));
        ck_assert_ptr_nonnull(strstr(edited, "<vcpusched vcpus=\"0\" scheduler=\"fifo\" priority=\"1\"/>"));
        ck_assert_ptr_nonnull(strstr(edited, "<vcpu placement=\"static\">4</vcpu>"));
        ck_assert_ptr_null(strstr(edited, "<vcpus>"));
        ck_assert_ptr_null(strstr(edited, "cpuset=\"1\""));
        ck_assert_ptr_nonnull(strstr(edited, "<cpu mode=\"custom\">"));
        ck_assert_ptr_nonnull(strstr(edited, "<model>Skylake</model>"));
        ck_assert_ptr_nonnull(strstr(edited, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));

        /* A plan that is not one, and XML that is not a domain. */
        CpuPlan bad = plan;
        bad.cores = 3;
        ck_assert_int_eq(cpu_pinning_apply_to_xml(xml, &bad, &edited), -EINVAL);
        ck_assert_int_eq(cpu_pinning_apply_to_xml("<network/>", &plan, &edited), -EINVAL);
        ck_assert_int_eq(cpu_pinning_apply_to_xml("<domain>", &plan, &edited), -EINVAL);
}
END_TEST

static Suite *cpu_suite(void) {
        Suite *s = suite_create("cpu-pinning");
        TCase *tc = tcase_create("topology");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_topology_intel_seed);
        tcase_add_test(tc, test_topology_uniform);
        tcase_add_test(tc, test_topology_two_socket);
        tcase_add_test(tc, test_topology_missing);
        suite_add_tcase(s, tc);

        tc = tcase_create("cpulist");
        tcase_add_test(tc, test_cpulist_good);
        tcase_add_test(tc, test_cpuset_libvirt);
        tcase_add_test(tc, test_cpulist_hostile);
        suite_add_tcase(s, tc);

        tc = tcase_create("check");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_check_seed);
        tcase_add_test(tc, test_check_problems);
        tcase_add_test(tc, test_check_offline);
        suite_add_tcase(s, tc);

        tc = tcase_create("plan");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_plan_seed);
        tcase_add_test(tc, test_plan_everything_refused);
        tcase_add_test(tc, test_plan_impossible);
        tcase_add_test(tc, test_plan_uniform);
        tcase_add_test(tc, test_plan_two_socket);
        tcase_add_test(tc, test_apply_keeps_cputune);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        SRunner *sr = srunner_create(cpu_suite());
        srunner_set_fork_status(sr, CK_FORK_GETENV); /* forks unless CK_FORK=no */
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
