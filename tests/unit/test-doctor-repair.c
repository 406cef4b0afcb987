/* Unit tests for service/lib/doctor-repair.c and service/lib/ivshmem-construct.c: on the seed's domain XML
 * (tests/fixtures/domains/windows11-seed.xml) with one setting taken out, each repair turns its
 * doctor check to ok, changes nothing else a check sees, and is a change the definition guard
 * admits; the guard admits exactly the IVSHMEM construct winvm writes and no other
 * qemu:commandline. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cpu-pinning.h"
#include "cpu-topology.h"
#include "definition-guard.h"
#include "doctor-checks.h"
#include "doctor-repair.h"
#include "host-fixtures.h"
#include "ivshmem-construct.h"
#include "kvmfr-checks.h"
#include "util.h"

#define STORE_VIRTIOFSD "/nix/store/vw6vbapxh9dwaw8mhs3pyzlbr7bks6kk-virtiofsd-1.13.2-looking-glass/bin/virtiofsd"
#define NIXOS_VIRTIOFSD "/run/current-system/sw/bin/virtiofsd"
#define SEED_IVSHMEM_OBJECT                                                                                           \
        "{'qom-type':'memory-backend-file','id':'looking-glass','mem-path':'/dev/kvmfr0','size':134217728,'share':true}"

static char *seed_xml;
static CpuTopology topology;
static CpuPlan plan;
static bool have_plan;
static char *allowed[] = { NIXOS_VIRTIOFSD, "/usr/libexec/virtiofsd", NULL };
static const DefinitionPolicy policy = {
        .virtiofsd_allowed = allowed,
        .ivshmem_device = "/dev/kvmfr0",
        .ivshmem_size = 128ull * 1024 * 1024,
};

static void setup(void) {
        seed_xml = fixture_text("domains/windows11-seed.xml");
        ck_assert_int_eq(cpu_topology_read(host_root("intel-seed"), &topology), 0);
        have_plan = false;
}

static void teardown(void) {
        free(seed_xml);
        cpu_topology_clear(&topology);
        if (have_plan)
                cpu_plan_clear(&plan);
}

static RepairContext context(void) {
        return (RepairContext) { .kvmfr_device = "/dev/kvmfr0", .kvmfr_size_mib = 128, .virtiofsd = NIXOS_VIRTIOFSD };
}

/* A copy of xml with one string replaced (it must be there). */
static char *replace(const char *xml, const char *from, const char *to) {
        const char *at = strstr(xml, from);
        ck_assert_msg(at != NULL, "'%s' not in the XML", from);
        char *out = NULL;
        ck_assert_int_ge(asprintf(&out, "%.*s%s%s", (int) (at - xml), xml, to, at + strlen(from)), 0);
        return out;
}

/* The status of one check of the doctor (vm.* on intel-seed, kvmfr.* with its device facts). */
static CheckStatus status_of(const char *xml, const char *id) {
        CheckList l = CHECK_LIST_INIT;
        HostOps ops = FAKE_OPS(&intel_seed_host);
        KvmfrConfig kc;
        kvmfr_config_init(&kc);
        DoctorInput in = { .root = host_root("intel-seed"), .domain_xml = xml, .kvmfr = &kc, .ops = &ops };
        ck_assert_int_eq(doctor_run(&in, &l), 0);
        const Check *c = check_list_find(&l, id);
        ck_assert_msg(c != NULL, "no check %s", id);
        CheckStatus s = c->status;
        check_list_clear(&l);
        return s;
}

/* Repairs id on broken (whose check is not ok): the check turns ok, the guard admits the
 * change, exactly id is reported, and repairing again changes nothing. */
static void assert_repairs(const char *broken, const char *id, const RepairContext *ctx) {
        ck_assert_msg(status_of(broken, id) != CHECK_OK, "%s is ok before the repair", id);
        char *ids[] = { (char *) id, NULL };
        _cleanup_free_ char *fixed = NULL, *why = NULL, *again = NULL, *why2 = NULL, *what = NULL;
        _cleanup_(strv_freep) char **done = NULL, **done2 = NULL;
        ck_assert_int_eq(doctor_repair_apply(broken, ids, ctx, &fixed, &done, &why), 0);
        ck_assert_ptr_nonnull(fixed);
        ck_assert_uint_eq(strv_length(done), 1);
        ck_assert_str_eq(done[0], id);
        ck_assert_int_eq(status_of(fixed, id), CHECK_OK);
        int r = definition_guard_check(broken, fixed, &policy, &what);
        ck_assert_msg(r == 0, "the guard refuses the repair of %s: %s", id, what ? what : "?");
        ck_assert_int_eq(doctor_repair_apply(fixed, ids, ctx, &again, &done2, &why2), 0);
        ck_assert_ptr_null(again);
        ck_assert_uint_eq(strv_length(done2), 0);
}

START_TEST(test_memballoon) {
        RepairContext ctx = context();
        _cleanup_free_ char *virtio = replace(seed_xml, "<memballoon model='none'/>",
                                              "<memballoon model='virtio'><stats period='5'/></memballoon>");
        assert_repairs(virtio, "vm.memballoon", &ctx);
        _cleanup_free_ char *none = replace(seed_xml, "<memballoon model='none'/>", "");
        assert_repairs(none, "vm.memballoon", &ctx);
}
END_TEST

START_TEST(test_hyperv) {
        RepairContext ctx = context();
        _cleanup_free_ char *a = replace(seed_xml, "      <relaxed state='on'/>\n", "");
        _cleanup_free_ char *b = replace(a, "<spinlocks state='on' retries='8191'/>", "<spinlocks state='off'/>");
        assert_repairs(b, "vm.hyperv", &ctx);
        _cleanup_free_ char *fixed = NULL, *why = NULL;
        _cleanup_(strv_freep) char **done = NULL;
        char *ids[] = { "vm.hyperv", NULL };
        ck_assert_int_eq(doctor_repair_apply(b, ids, &ctx, &fixed, &done, &why), 0);
        ck_assert_ptr_nonnull(strstr(fixed, "retries=\"8191\""));
}
END_TEST

START_TEST(test_kvm_hidden_and_vendor_id) {
        RepairContext ctx = context();
        _cleanup_free_ char *no_kvm = replace(seed_xml, "<kvm>\n      <hidden state='on'/>\n    </kvm>", "");
        assert_repairs(no_kvm, "vm.kvm-hidden", &ctx);
        _cleanup_free_ char *long_id = replace(seed_xml, "value='AuthenticAMD'", "value='ThirteenChars'");
        assert_repairs(long_id, "vm.vendor-id", &ctx);
        /* No <hyperv> at all: the vendor_id repair makes a custom one. */
        const char *from = strstr(seed_xml, "    <hyperv mode='custom'>"), *to = strstr(seed_xml, "</hyperv>\n");
        _cleanup_free_ char *cut = strndup(from, (size_t) (to + strlen("</hyperv>\n") - from));
        _cleanup_free_ char *no_hyperv = replace(seed_xml, cut, "");
        assert_repairs(no_hyperv, "vm.vendor-id", &ctx);
}
END_TEST

START_TEST(test_input) {
        RepairContext ctx = context();
        _cleanup_free_ char *a = replace(seed_xml, "<input type='mouse' bus='virtio'/>", "<input type='tablet' bus='usb'/>");
        assert_repairs(a, "vm.input", &ctx);
        _cleanup_free_ char *fixed = NULL, *why = NULL;
        _cleanup_(strv_freep) char **done = NULL;
        char *ids[] = { "vm.input", NULL };
        ck_assert_int_eq(doctor_repair_apply(a, ids, &ctx, &fixed, &done, &why), 0);
        ck_assert_ptr_null(strstr(fixed, "tablet"));
}
END_TEST

START_TEST(test_virtiofsd) {
        /* The seed's known issue: a Nix store path; the repair moves it to the stable one. */
        RepairContext ctx = context();
        assert_repairs(seed_xml, "vm.virtiofsd", &ctx);
        _cleanup_free_ char *fixed = NULL, *why = NULL;
        _cleanup_(strv_freep) char **done = NULL;
        char *ids[] = { "vm.virtiofsd", NULL };
        ck_assert_int_eq(doctor_repair_apply(seed_xml, ids, &ctx, &fixed, &done, &why), 0);
        ck_assert_ptr_nonnull(strstr(fixed, "path=\"" NIXOS_VIRTIOFSD "\""));
        ck_assert_ptr_null(strstr(fixed, STORE_VIRTIOFSD));
        /* None allowed exists: named, the repair says so; among all, it is left out. */
        free(fixed);
        fixed = NULL;
        strv_free(done);
        done = NULL;
        ctx.virtiofsd = NULL;
        ck_assert_int_eq(doctor_repair_apply(seed_xml, ids, &ctx, &fixed, &done, &why), -ENOENT);
        ck_assert_ptr_nonnull(strstr(why, "AllowedBinaries"));
        ck_assert_ptr_null(fixed);
}
END_TEST

START_TEST(test_ivshmem) {
        RepairContext ctx = context();
        const char *from = strstr(seed_xml, "  <qemu:commandline>"), *to = strstr(seed_xml, "</qemu:commandline>\n");
        _cleanup_free_ char *cut = strndup(from, (size_t) (to + strlen("</qemu:commandline>\n") - from));
        _cleanup_free_ char *none = replace(seed_xml, cut, "");
        assert_repairs(none, "kvmfr.ivshmem-path", &ctx);
        /* A bare domain without the qemu namespace gets it declared. */
        _cleanup_free_ char *no_ns = replace(none, " xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'", "");
        assert_repairs(no_ns, "kvmfr.ivshmem-path", &ctx);
        /* The backend on /dev/shm, and a wrong size: the same construct replaces them. */
        _cleanup_free_ char *shm = replace(seed_xml, "'mem-path':'/dev/kvmfr0'", "'mem-path':'/dev/shm/looking-glass'");
        assert_repairs(shm, "kvmfr.ivshmem-path", &ctx);
        _cleanup_free_ char *small = replace(seed_xml, "'size':134217728", "'size':67108864");
        assert_repairs(small, "kvmfr.ivshmem-size", &ctx);
}
END_TEST

START_TEST(test_ivshmem_keeps_other_arguments) {
        RepairContext ctx = context();
        _cleanup_free_ char *extra = replace(seed_xml, "  </qemu:commandline>",
                                             "    <qemu:arg value='-no-hpet'/>\n  </qemu:commandline>");
        _cleanup_free_ char *small = replace(extra, "'size':134217728", "'size':67108864");
        char *ids[] = { "kvmfr.ivshmem-size", NULL };
        _cleanup_free_ char *fixed = NULL, *why = NULL;
        _cleanup_(strv_freep) char **done = NULL;
        ck_assert_int_eq(doctor_repair_apply(small, ids, &ctx, &fixed, &done, &why), -EEXIST);
        ck_assert_ptr_null(fixed);
        ck_assert_ptr_nonnull(strstr(why, "administrator"));
}
END_TEST

START_TEST(test_cpu_pinning) {
        _cleanup_free_ char *why = NULL;
        ck_assert_int_eq(doctor_repair_plan(&topology, 16, &plan, &why), 0);
        have_plan = true;
        ck_assert_uint_eq(plan.n_vcpus, 16);
        RepairContext ctx = context();
        ctx.plan = &plan;
        const char *from = strstr(seed_xml, "  <cputune>"), *to = strstr(seed_xml, "</cputune>\n");
        _cleanup_free_ char *cut = strndup(from, (size_t) (to + strlen("</cputune>\n") - from));
        _cleanup_free_ char *unpinned = replace(seed_xml, cut, "");
        assert_repairs(unpinned, "vm.cpu-pinning", &ctx);
        /* The host checks of pinning agree. */
        _cleanup_free_ char *fixed = NULL, *why2 = NULL;
        _cleanup_(strv_freep) char **done = NULL;
        char *ids[] = { "vm.cpu-pinning", NULL };
        ck_assert_int_eq(doctor_repair_apply(unpinned, ids, &ctx, &fixed, &done, &why2), 0);
        CheckList l = CHECK_LIST_INIT;
        ck_assert_int_eq(cpu_pinning_check(&topology, fixed, plan.host_cpus, &l), 0);
        for (size_t i = 0; i < l.n; i++)
                ck_assert_msg(l.items[i].status == CHECK_OK, "%s: %s", l.items[i].id, l.items[i].message);
        check_list_clear(&l);
        /* No plan: named, it says why. */
        ctx.plan = NULL;
        ctx.plan_why = "no topology";
        free(fixed);
        fixed = NULL;
        strv_free(done);
        done = NULL;
        ck_assert_int_eq(doctor_repair_apply(unpinned, ids, &ctx, &fixed, &done, &why2), -ENOENT);
        ck_assert_ptr_nonnull(strstr(why2, "no topology"));
}
END_TEST

START_TEST(test_plan_sizes) {
        _cleanup_free_ char *why = NULL;
        /* 1 vCPU on the hybrid host: one E-core. 14 + 12 E: does not fit. */
        ck_assert_int_eq(doctor_repair_plan(&topology, 1, &plan, &why), 0);
        ck_assert_uint_eq(plan.n_vcpus, 1);
        cpu_plan_clear(&plan);
        ck_assert_int_eq(doctor_repair_plan(&topology, 40, &plan, &why), -EINVAL);
        ck_assert_ptr_nonnull(why);
}
END_TEST

/* Every repair at once on the bare sandbox-like guest: every vm.* check it can fix turns ok. */
START_TEST(test_all_on_bare) {
        _cleanup_free_ char *bare = fixture_text("domains/windows11-bare.xml"), *why = NULL, *fixed = NULL;
        ck_assert_int_eq(doctor_repair_plan(&topology, 1, &plan, &why), 0);
        have_plan = true;
        RepairContext ctx = context();
        ctx.plan = &plan;
        _cleanup_(strv_freep) char **done = NULL;
        ck_assert_int_eq(doctor_repair_apply(bare, NULL, &ctx, &fixed, &done, &why), 0);
        ck_assert_ptr_nonnull(fixed);
        const char *ids[] = { "vm.memballoon", "vm.hyperv", "vm.kvm-hidden", "vm.vendor-id", "vm.input",
                              "kvmfr.ivshmem-path", "kvmfr.ivshmem-size", "vm.cpu-pinning" };
        for (size_t i = 0; i < ELEMENTSOF(ids); i++)
                ck_assert_msg(status_of(fixed, ids[i]) == CHECK_OK, "%s is not ok after every repair", ids[i]);
        ck_assert(strv_contains(done, "kvmfr.ivshmem-path"));
        ck_assert(!strv_contains(done, "kvmfr.ivshmem-size")); /* one repair, reported once */
        ck_assert(!strv_contains(done, "vm.virtiofsd"));       /* no share */
        _cleanup_free_ char *what = NULL;
        ck_assert_int_eq(definition_guard_check(bare, fixed, &policy, &what), 0);
        /* The seed has everything but the stable virtiofsd path: all else changes nothing. */
        _cleanup_free_ char *seed_fixed = NULL;
        _cleanup_(strv_freep) char **seed_done = NULL;
        ck_assert_int_eq(doctor_repair_apply(seed_xml, NULL, &ctx, &seed_fixed, &seed_done, &why), 0);
        ck_assert_uint_eq(strv_length(seed_done), 1);
        ck_assert_str_eq(seed_done[0], "vm.virtiofsd");
}
END_TEST

START_TEST(test_unknown_id) {
        RepairContext ctx = context();
        char *ids[] = { "vm.memballoon", "kvmfr.loaded", NULL };
        _cleanup_free_ char *fixed = NULL, *why = NULL;
        _cleanup_(strv_freep) char **done = NULL;
        ck_assert_int_eq(doctor_repair_apply(seed_xml, ids, &ctx, &fixed, &done, &why), -EINVAL);
        ck_assert_ptr_nonnull(strstr(why, "'kvmfr.loaded'"));
        ck_assert(!doctor_repair_known("kvmfr.loaded"));
        ck_assert(doctor_repair_known("kvmfr.ivshmem-size"));
}
END_TEST

/* The guard: only the construct winvm writes, byte for byte. */
START_TEST(test_guard_commandline) {
        const char *from = strstr(seed_xml, "  <qemu:commandline>"), *to = strstr(seed_xml, "</qemu:commandline>\n");
        _cleanup_free_ char *cut = strndup(from, (size_t) (to + strlen("</qemu:commandline>\n") - from));
        _cleanup_free_ char *none = replace(seed_xml, cut, "");
        _cleanup_free_ char *what = NULL;
        /* The seed's own construct is winvm's: admitted as an addition, and removable. */
        ck_assert_int_eq(definition_guard_check(none, seed_xml, &policy, &what), 0);
        ck_assert_int_eq(definition_guard_check(seed_xml, none, &policy, &what), 0);
        static const struct {
                const char *from, *to;
        } bad[] = {
                { "'size':134217728", "'size':268435456" },
                { "'mem-path':'/dev/kvmfr0'", "'mem-path':'/etc/shadow'" },
                { "'share':true}", "'share':true,'prealloc':true}" },
                { "  </qemu:commandline>", "    <qemu:arg value='-no-hpet'/>\n  </qemu:commandline>" },
                { "  </qemu:commandline>", "    <qemu:env name='LD_PRELOAD' value='/tmp/x.so'/>\n  </qemu:commandline>" },
                { "<qemu:arg value='-object'/>", "<qemu:arg value='-object' extra='1'/>" },
                { "<qemu:arg value='-object'/>", "<qemu:arg value='-object'>text</qemu:arg>" },
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *changed = replace(seed_xml, bad[i].from, bad[i].to);
                free(what);
                what = NULL;
                ck_assert_msg(definition_guard_check(none, changed, &policy, &what) == -EPERM, "admitted %s", bad[i].to);
                ck_assert_ptr_nonnull(strstr(what, "qemu:commandline"));
                free(what);
                what = NULL;
                ck_assert_msg(definition_guard_check(seed_xml, changed, &policy, &what) == -EPERM, "admitted change to %s",
                              bad[i].to);
                ck_assert_ptr_nonnull(strstr(what, "qemu:commandline"));
        }
        /* Without a kvmfr device in the policy, none at all. */
        DefinitionPolicy none_allowed = policy;
        none_allowed.ivshmem_device = NULL;
        free(what);
        what = NULL;
        ck_assert_int_eq(definition_guard_check(none, seed_xml, &none_allowed, &what), -EPERM);
}
END_TEST

START_TEST(test_construct) {
        char *args[IVSHMEM_N_ARGS];
        ck_assert_int_eq(ivshmem_construct_args("/dev/kvmfr0", 134217728ull, args), 0);
        ck_assert_str_eq(args[0], "-device");
        ck_assert_str_eq(args[1], "{'driver':'ivshmem-plain','id':'shmem0','memdev':'looking-glass'}");
        ck_assert_str_eq(args[2], "-object");
        ck_assert_str_eq(args[3], SEED_IVSHMEM_OBJECT);
        ivshmem_construct_args_free(args);
        ck_assert_int_eq(ivshmem_construct_args("/dev/kvmfr0'x", 1, args), -EINVAL);
        ck_assert_int_eq(ivshmem_construct_args("/dev/shm/lg", 1, args), -EINVAL);
        ck_assert_int_eq(ivshmem_construct_args("/dev/kvmfr1", 0, args), -EINVAL);
        ck_assert(ivshmem_device_valid("/dev/kvmfr12"));
        ck_assert(!ivshmem_device_valid("/dev/kvmfr"));
}
END_TEST

static Suite *repair_suite(void) {
        Suite *s = suite_create("doctor-repair");
        TCase *tc = tcase_create("repairs");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_memballoon);
        tcase_add_test(tc, test_hyperv);
        tcase_add_test(tc, test_kvm_hidden_and_vendor_id);
        tcase_add_test(tc, test_input);
        tcase_add_test(tc, test_virtiofsd);
        tcase_add_test(tc, test_ivshmem);
        tcase_add_test(tc, test_ivshmem_keeps_other_arguments);
        tcase_add_test(tc, test_cpu_pinning);
        tcase_add_test(tc, test_plan_sizes);
        tcase_add_test(tc, test_all_on_bare);
        tcase_add_test(tc, test_unknown_id);
        suite_add_tcase(s, tc);
        tc = tcase_create("guard");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_guard_commandline);
        tcase_add_test(tc, test_construct);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        SRunner *sr = srunner_create(repair_suite());
        srunner_set_fork_status(sr, CK_FORK_GETENV);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
