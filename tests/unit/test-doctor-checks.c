/* Unit tests for service/lib/doctor-checks.c: the vm.* checks on the seed's domain XML (which passes
 * them) and on a bare one (which does not), each check's other outcomes, and the whole doctor
 * on fixture hosts. */
#include <check.h>
#include <errno.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "doctor-checks.h"
#include "host-fixtures.h"
#include "util.h"

static CheckList checks;
static char *seed_xml, *bare_xml;

static void setup(void) {
        checks = CHECK_LIST_INIT;
        seed_xml = fixture_text("domains/windows11-seed.xml");
        bare_xml = fixture_text("domains/windows11-bare.xml");
}

static void teardown(void) {
        check_list_clear(&checks);
        free(seed_xml);
        free(bare_xml);
}

static void run_vm(const char *host, const char *xml, const char *user) {
        DoctorInput in = { .root = host ? host_root(host) : "/nonexistent-winvm-root", .domain_xml = xml, .user = user };
        ck_assert_int_eq(doctor_vm_checks(&in, &checks), 0);
        ck_assert_uint_eq(checks.n, 9);
}

/* A copy of xml with one string replaced. */
static char *replace(const char *xml, const char *from, const char *to) {
        const char *at = strstr(xml, from);
        ck_assert_msg(at != NULL, "'%s' not in the XML", from);
        char *out = NULL;
        ck_assert_int_ge(asprintf(&out, "%.*s%s%s", (int) (at - xml), xml, to, at + strlen(from)), 0);
        return out;
}

START_TEST(test_seed_xml) {
        run_vm("intel-seed", seed_xml, "jarrett");
        assert_check(&checks, "vm.memballoon", CHECK_OK, "disabled", NULL);
        assert_check(&checks, "vm.hyperv", CHECK_OK, "relaxed, vapic and spinlocks", NULL);
        assert_check(&checks, "vm.kvm-hidden", CHECK_OK, NULL, NULL);
        assert_check(&checks, "vm.vendor-id", CHECK_OK, "'AuthenticAMD'", NULL);
        assert_check(&checks, "vm.cpu-pinning", CHECK_OK, "All 16 vCPUs are pinned", NULL);
        /* The seed's known issue: its virtiofsd is a Nix store path. */
        assert_check(&checks, "vm.virtiofsd", CHECK_WARN,
                     "virtiofsd /nix/store/vw6vbapxh9dwaw8mhs3pyzlbr7bks6kk-virtiofsd-1.13.2-looking-glass/bin/virtiofsd "
                     "is a Nix store path",
                     "winvmctl --vm Windows11 doctor --fix vm.virtiofsd (it sets <binary "
                     "path='/run/current-system/sw/bin/virtiofsd'/> in the domain's virtiofs <filesystem>; the guest "
                     "uses it from its next start)");
        assert_check(&checks, "vm.session-duplicate", CHECK_OK, "Windows11 is not defined in jarrett's session", NULL);
        assert_check(&checks, "vm.images-nocow", CHECK_SKIPPED, "not read", NULL);
        ck_assert_uint_eq(check_list_summary(&checks).warn, 1);
}
END_TEST

/* Once the seed's TODO is done, nothing is left. */
START_TEST(test_seed_xml_fixed) {
        _cleanup_free_ char *xml = replace(seed_xml,
                                           "/nix/store/vw6vbapxh9dwaw8mhs3pyzlbr7bks6kk-virtiofsd-1.13.2-looking-glass/bin/virtiofsd",
                                           "/run/current-system/sw/bin/virtiofsd");
        run_vm("intel-seed", xml, "jarrett");
        assert_check(&checks, "vm.virtiofsd", CHECK_OK,
                     "virtiofsd /run/current-system/sw/bin/virtiofsd exists and is executable", NULL);
        ck_assert_int_eq(check_list_worst(&checks), CHECK_OK);
        ck_assert_uint_eq(check_list_summary(&checks).skipped, 1);
}
END_TEST

START_TEST(test_bare_xml) {
        run_vm("intel-seed", bare_xml, "jarrett");
        assert_check(&checks, "vm.memballoon", CHECK_WARN, "no <memballoon> element, so libvirt adds a virtio balloon",
                     "winvmctl doctor --fix vm.memballoon");
        assert_check(&checks, "vm.hyperv", CHECK_WARN, "Hyper-V enlightenments missing: relaxed, vapic, spinlocks",
                     "<hyperv mode='custom'><relaxed state='on'/><vapic state='on'/><spinlocks state='on' "
                     "retries='8191'/></hyperv>");
        assert_check(&checks, "vm.kvm-hidden", CHECK_WARN, "Code 43", "winvmctl doctor --fix vm.kvm-hidden (it writes <kvm><hidden state='on'/></kvm>");
        assert_check(&checks, "vm.vendor-id", CHECK_WARN, "No Hyper-V vendor_id is set",
                     "<vendor_id state='on' value='AuthenticAMD'/>");
        assert_check(&checks, "vm.cpu-pinning", CHECK_WARN, "None of the 1 vCPUs is pinned", "winvmctl doctor --fix vm.cpu-pinning");
        assert_check(&checks, "vm.virtiofsd", CHECK_OK, "no virtiofs share", NULL);
        assert_check(&checks, "vm.session-duplicate", CHECK_OK, NULL, NULL);
        assert_check(&checks, "vm.images-nocow", CHECK_SKIPPED, NULL, NULL);
        assert_check(&checks, "vm.input", CHECK_WARN, "no virtio mouse, no virtio keyboard",
                     "winvmctl doctor --fix vm.input");
        CheckSummary s = check_list_summary(&checks);
        ck_assert_uint_eq(s.warn, 6);
        ck_assert_uint_eq(s.fail, 0);
}
END_TEST

START_TEST(test_memballoon_virtio) {
        _cleanup_free_ char *xml = replace(seed_xml, "<memballoon model='none'/>", "<memballoon model='virtio'/>");
        run_vm("intel-seed", xml, NULL);
        assert_check(&checks, "vm.memballoon", CHECK_WARN, "memory balloon (model virtio)", "<memballoon model='none'/>");
        assert_check(&checks, "vm.session-duplicate", CHECK_SKIPPED, "No desktop user", NULL);
}
END_TEST

START_TEST(test_hyperv_partial) {
        _cleanup_free_ char *xml = replace(seed_xml, "<vapic state='on'/>", "<vapic state='off'/>");
        run_vm("intel-seed", xml, NULL);
        assert_check(&checks, "vm.hyperv", CHECK_WARN, "missing: vapic (", "<vapic state='on'/>");
        _cleanup_free_ char *pass = replace(bare_xml, "<apic/>", "<apic/><hyperv mode='passthrough'/>");
        check_list_clear(&checks);
        run_vm("intel-seed", pass, NULL);
        assert_check(&checks, "vm.hyperv", CHECK_OK, "passthrough", NULL);
}
END_TEST

START_TEST(test_vendor_id_too_long) {
        _cleanup_free_ char *xml = replace(seed_xml, "value='AuthenticAMD'", "value='ThirteenChars!'");
        run_vm("intel-seed", xml, NULL);
        assert_check(&checks, "vm.vendor-id", CHECK_WARN, "longer than 12 characters", "up to 12");
        _cleanup_free_ char *off = replace(seed_xml, "<vendor_id state='on'", "<vendor_id state='off'");
        check_list_clear(&checks);
        run_vm("intel-seed", off, NULL);
        assert_check(&checks, "vm.vendor-id", CHECK_WARN, "No Hyper-V vendor_id", NULL);
        _cleanup_free_ char *hidden = replace(seed_xml, "<hidden state='on'/>", "<hidden state='off'/>");
        check_list_clear(&checks);
        run_vm("intel-seed", hidden, NULL);
        assert_check(&checks, "vm.kvm-hidden", CHECK_WARN, NULL, "<kvm><hidden state='on'/></kvm>");
}
END_TEST

START_TEST(test_partial_pinning) {
        _cleanup_free_ char *a = replace(seed_xml, "    <vcpupin vcpu='3' cpuset='5'/>\n", "");
        _cleanup_free_ char *b = replace(a, "    <vcpupin vcpu='15' cpuset='19'/>\n", "");
        run_vm("intel-seed", b, NULL);
        assert_check(&checks, "vm.cpu-pinning", CHECK_WARN, "2 of 16 vCPUs are not pinned: 3,15",
                     "winvmctl doctor --fix vm.cpu-pinning");
}
END_TEST

/* The seed's store path after a rebuild and garbage collection, on a Debian-like host. */
START_TEST(test_virtiofsd_gone) {
        run_vm("amd", seed_xml, "jarrett");
        assert_check(&checks, "vm.virtiofsd", CHECK_FAIL,
                     "does not exist (a rebuild and garbage collection removed it): the guest cannot start",
                     "doctor --fix vm.virtiofsd (it sets <binary path='/run/current-system/sw/bin/virtiofsd'/>");
        _cleanup_free_ char *xml = replace(seed_xml,
                                           "/nix/store/vw6vbapxh9dwaw8mhs3pyzlbr7bks6kk-virtiofsd-1.13.2-looking-glass/bin/virtiofsd",
                                           "/usr/bin/virtiofsd");
        check_list_clear(&checks);
        run_vm("amd", xml, "jarrett");
        assert_check(&checks, "vm.virtiofsd", CHECK_FAIL, "virtiofsd /usr/bin/virtiofsd does not exist: the guest cannot start",
                     "doctor --fix vm.virtiofsd (it sets <binary path='/usr/libexec/virtiofsd'/>");
        check_list_clear(&checks);
        run_vm("iommu-off", xml, "jarrett");
        assert_check(&checks, "vm.virtiofsd", CHECK_FAIL, NULL, "Install virtiofsd");
}
END_TEST

START_TEST(test_virtiofsd_not_executable) {
        /* /etc/passwd exists under every fixture root and is not executable. */
        _cleanup_free_ char *xml = replace(seed_xml,
                                           "/nix/store/vw6vbapxh9dwaw8mhs3pyzlbr7bks6kk-virtiofsd-1.13.2-looking-glass/bin/virtiofsd",
                                           "/etc/passwd");
        run_vm("amd", xml, NULL);
        assert_check(&checks, "vm.virtiofsd", CHECK_FAIL, "virtiofsd /etc/passwd is not an executable file",
                     "/usr/libexec/virtiofsd");
        _cleanup_free_ char *dir = replace(seed_xml,
                                           "/nix/store/vw6vbapxh9dwaw8mhs3pyzlbr7bks6kk-virtiofsd-1.13.2-looking-glass/bin/virtiofsd",
                                           "/usr/libexec");
        check_list_clear(&checks);
        run_vm("amd", dir, NULL);
        assert_check(&checks, "vm.virtiofsd", CHECK_FAIL, "is not an executable file", NULL);
        _cleanup_free_ char *nobinary = replace(seed_xml,
                "<binary path='/nix/store/vw6vbapxh9dwaw8mhs3pyzlbr7bks6kk-virtiofsd-1.13.2-looking-glass/bin/virtiofsd'/>",
                "");
        check_list_clear(&checks);
        run_vm("amd", nobinary, NULL);
        assert_check(&checks, "vm.virtiofsd", CHECK_OK, "libvirt finds virtiofsd itself", NULL);
}
END_TEST

START_TEST(test_session_duplicate) {
        run_vm("shared-group", seed_xml, "jarrett");
        assert_check(&checks, "vm.session-duplicate", CHECK_WARN,
                     "Windows11 is also defined in jarrett's session (qemu:///session, "
                     "/home/jarrett/.config/libvirt/qemu/Windows11.xml)",
                     "As jarrett: virsh --connect qemu:///session undefine --nvram Windows11");
        check_list_clear(&checks);
        run_vm("shared-group", seed_xml, "mallory");
        assert_check(&checks, "vm.session-duplicate", CHECK_SKIPPED, "mallory is not in /etc/passwd", NULL);
        _cleanup_free_ char *other = replace(seed_xml, "<name>Windows11</name>", "<name>Gaming</name>");
        check_list_clear(&checks);
        run_vm("shared-group", other, "jarrett");
        assert_check(&checks, "vm.session-duplicate", CHECK_OK, "Gaming is not defined", NULL);
}
END_TEST

START_TEST(test_images) {
        DoctorImage imgs[] = {
                { "/vm-storage/images/windows11.qcow2", 0 },
                { "/vm-storage/images/data.qcow2", 1 },
        };
        DoctorInput in = { .root = host_root("intel-seed"), .domain_xml = seed_xml, .images_known = true,
                           .images = imgs, .n_images = 2 };
        ck_assert_int_eq(doctor_vm_checks(&in, &checks), 0);
        assert_check(&checks, "vm.images-nocow", CHECK_WARN, "scrub cannot see rot in them: /vm-storage/images/data.qcow2",
                     "cp --reflink=never IMAGE IMAGE.cow && mv IMAGE.cow IMAGE");
        check_list_clear(&checks);

        imgs[1].nocow = -EACCES;
        ck_assert_int_eq(doctor_vm_checks(&in, &checks), 0);
        assert_check(&checks, "vm.images-nocow", CHECK_SKIPPED,
                     "could not be read: /vm-storage/images/data.qcow2 (Permission denied)", NULL);
        check_list_clear(&checks);

        imgs[1].nocow = 0;
        ck_assert_int_eq(doctor_vm_checks(&in, &checks), 0);
        assert_check(&checks, "vm.images-nocow", CHECK_OK, "No image is NOCOW", NULL);
        check_list_clear(&checks);

        in.n_images = 0;
        ck_assert_int_eq(doctor_vm_checks(&in, &checks), 0);
        assert_check(&checks, "vm.images-nocow", CHECK_OK, "no file-backed images", NULL);
}
END_TEST

START_TEST(test_no_xml) {
        run_vm("intel-seed", NULL, "jarrett");
        const char *ids[] = { "vm.memballoon", "vm.hyperv", "vm.kvm-hidden", "vm.vendor-id",
                              "vm.cpu-pinning", "vm.virtiofsd", "vm.session-duplicate" };
        for (size_t i = 0; i < G_N_ELEMENTS(ids); i++)
                assert_check(&checks, ids[i], CHECK_SKIPPED, "No domain XML to check", NULL);
        check_list_clear(&checks);
        run_vm("intel-seed", "<domain><name>x</name>", "jarrett");
        for (size_t i = 0; i < G_N_ELEMENTS(ids); i++)
                assert_check(&checks, ids[i], CHECK_SKIPPED, "The domain XML does not parse", NULL);
}
END_TEST

/* Check ids come out in the documented order. */
START_TEST(test_order) {
        run_vm("intel-seed", seed_xml, "jarrett");
        const char *ids[] = { "vm.memballoon", "vm.hyperv", "vm.kvm-hidden", "vm.vendor-id", "vm.cpu-pinning",
                              "vm.virtiofsd", "vm.session-duplicate", "vm.images-nocow" };
        for (size_t i = 0; i < G_N_ELEMENTS(ids); i++)
                ck_assert_str_eq(checks.items[i].id, ids[i]);
}
END_TEST

/* --- the whole doctor ---------------------------------------------------------------------- */

START_TEST(test_doctor_intel_seed) {
        HostOps ops = FAKE_OPS(&intel_seed_host);
        KvmfrConfig kc;
        kvmfr_config_init(&kc);
        kc.owner = "jarrett";
        DoctorInput in = { .root = host_root("intel-seed"), .domain_xml = seed_xml, .user = "jarrett",
                           .kvmfr = &kc, .ops = &ops };
        ck_assert_int_eq(doctor_run(&in, &checks), 0);
        ck_assert_uint_eq(checks.n, 7 + 8 + 9);
        ck_assert_str_eq(checks.items[0].id, "kvmfr.loaded");
        ck_assert_str_eq(checks.items[7].id, "vfio.iommu-enabled");
        ck_assert_str_eq(checks.items[15].id, "vm.memballoon");
        CheckSummary s = check_list_summary(&checks);
        ck_assert_uint_eq(s.fail, 0);
        ck_assert_uint_eq(s.warn, 1);   /* vm.virtiofsd: the Nix store path */
        ck_assert_uint_eq(s.skipped, 1);/* vm.images-nocow */
        ck_assert_uint_eq(s.ok, 22);
        /* Every id is distinct. */
        for (size_t i = 0; i < checks.n; i++)
                for (size_t k = i + 1; k < checks.n; k++)
                        ck_assert_str_ne(checks.items[i].id, checks.items[k].id);
}
END_TEST

/* A sandbox-like host: no kvmfr, no passthrough devices, a bare guest. Every non-ok check has a
 * remedy (assert_check checks that for each). */
START_TEST(test_doctor_iommu_off) {
        HostOps ops = FAKE_OPS(&no_nodes_host);
        DoctorInput in = { .root = host_root("iommu-off"), .domain_xml = bare_xml, .user = "jarrett", .ops = &ops };
        ck_assert_int_eq(doctor_run(&in, &checks), 0);
        ck_assert_uint_eq(checks.n, 24);
        for (size_t i = 0; i < checks.n; i++) {
                const Check *c = &checks.items[i];
                if (c->status == CHECK_WARN || c->status == CHECK_FAIL)
                        ck_assert_msg(*c->remedy, "%s has no remedy", c->id);
                else
                        ck_assert_msg(!*c->remedy, "%s (%s) has a remedy", c->id, check_status_to_string(c->status));
        }
        assert_check(&checks, "kvmfr.loaded", CHECK_FAIL, NULL, NULL);
        assert_check(&checks, "kvmfr.ivshmem-path", CHECK_FAIL, "no IVSHMEM device", NULL);
        assert_check(&checks, "vfio.iommu-enabled", CHECK_FAIL, NULL, NULL);
        assert_check(&checks, "vm.hyperv", CHECK_WARN, NULL, NULL);
        ck_assert_int_eq(check_list_worst(&checks), CHECK_FAIL);
}
END_TEST

START_TEST(test_doctor_bad_input) {
        char *bad[] = { "nonsense", NULL };
        DoctorInput in = { .root = host_root("intel-seed"), .pci_ids = bad };
        ck_assert_int_eq(doctor_run(&in, &checks), -EINVAL);
}
END_TEST

static Suite *doctor_suite(void) {
        Suite *s = suite_create("doctor-checks");
        TCase *tc = tcase_create("vm");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_seed_xml);
        tcase_add_test(tc, test_seed_xml_fixed);
        tcase_add_test(tc, test_bare_xml);
        tcase_add_test(tc, test_memballoon_virtio);
        tcase_add_test(tc, test_hyperv_partial);
        tcase_add_test(tc, test_vendor_id_too_long);
        tcase_add_test(tc, test_partial_pinning);
        tcase_add_test(tc, test_virtiofsd_gone);
        tcase_add_test(tc, test_virtiofsd_not_executable);
        tcase_add_test(tc, test_session_duplicate);
        tcase_add_test(tc, test_images);
        tcase_add_test(tc, test_no_xml);
        tcase_add_test(tc, test_order);
        suite_add_tcase(s, tc);

        tc = tcase_create("doctor");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_doctor_intel_seed);
        tcase_add_test(tc, test_doctor_iommu_off);
        tcase_add_test(tc, test_doctor_bad_input);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        SRunner *sr = srunner_create(doctor_suite());
        srunner_set_fork_status(sr, CK_FORK_GETENV); /* forks unless CK_FORK=no */
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
