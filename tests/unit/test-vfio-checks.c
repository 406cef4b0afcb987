/* Unit tests for service/lib/vfio-checks.c: every VFIO check against every fixture host
 * (tests/fixtures/hosts), the report's structure, the command-line parser, and the check logic
 * on hand-made reports for cases no fixture has. */
#include <check.h>
#include <errno.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "host-fixtures.h"
#include "util.h"
#include "vfio-checks.h"

static VfioReport report;
static CheckList checks;

static void setup(void) {
        memset(&report, 0, sizeof(report));
        checks = CHECK_LIST_INIT;
}

static void teardown(void) {
        vfio_report_clear(&report);
        check_list_clear(&checks);
}

/* Reads a fixture host with the default ids and runs the checks. */
static void run_host(const char *name) {
        int r = vfio_report_read(host_root(name), NULL, &report);
        ck_assert_int_eq(r, 0);
        ck_assert_int_eq(vfio_checks(&report, &checks), 0);
        /* 4 host checks, then driver and group for each of the 2 devices, nothing else. */
        ck_assert_uint_eq(checks.n, 8);
}

static const VfioDevice *device(const char *pci_id) {
        for (size_t i = 0; i < report.n_devices; i++)
                if (strcmp(report.devices[i].pci_id, pci_id) == 0)
                        return &report.devices[i];
        ck_abort_msg("no device %s in the report", pci_id);
        return NULL;
}

static const VfioGroupMember *member(const VfioDevice *d, const char *address) {
        for (size_t i = 0; i < d->n_members; i++)
                if (strcmp(d->members[i].address, address) == 0)
                        return &d->members[i];
        ck_abort_msg("no member %s in group %s", address, d->group);
        return NULL;
}

/* --- fixture hosts ------------------------------------------------------------------------- */

START_TEST(test_intel_seed) {
        run_host("intel-seed");
        ck_assert_int_eq(report.cpu_vendor, VFIO_CPU_INTEL);
        ck_assert_str_eq(report.cpu_vendor_id, "GenuineIntel");
        ck_assert(report.iommu_active);
        ck_assert_uint_eq(report.n_groups, 3);
        ck_assert_uint_eq(report.n_devices, 2);

        const VfioDevice *gpu = device("10de:2489");
        ck_assert_str_eq(gpu->address, "0000:01:00.0");
        ck_assert_str_eq(gpu->driver, "vfio-pci");
        ck_assert_str_eq(gpu->group, "14");
        ck_assert_uint_eq(gpu->n_members, 2);
        const VfioGroupMember *m = member(gpu, "0000:01:00.1");
        ck_assert_str_eq(m->pci_id, "10de:228b");
        ck_assert_str_eq(m->driver, "vfio-pci");
        ck_assert_uint_eq(m->pci_class, 0x040300);
        ck_assert(!m->is_bridge && !m->is_blocker);
        m = member(gpu, "0000:01:00.0");
        ck_assert_uint_eq(m->pci_class, 0x030000);
        ck_assert(!m->is_blocker);
        ck_assert_str_eq(device("10de:228b")->address, "0000:01:00.1");

        assert_check(&checks, "vfio.iommu-enabled", CHECK_OK, "3 IOMMU groups", NULL);
        assert_check(&checks, "vfio.cmdline.iommu", CHECK_OK, "intel_iommu=on", NULL);
        assert_check(&checks, "vfio.cmdline.iommu-pt", CHECK_OK, NULL, NULL);
        assert_check(&checks, "vfio.cmdline.vfio-pci-ids", CHECK_OK, "10de:2489,10de:228b", NULL);
        assert_check(&checks, "vfio.driver.10de:2489", CHECK_OK, "0000:01:00.0 (10de:2489) is on vfio-pci", NULL);
        assert_check(&checks, "vfio.group.10de:2489", CHECK_OK, "IOMMU group 14", NULL);
        assert_check(&checks, "vfio.driver.10de:228b", CHECK_OK, NULL, NULL);
        assert_check(&checks, "vfio.group.10de:228b", CHECK_OK, NULL, NULL);
        ck_assert_int_eq(check_list_worst(&checks), CHECK_OK);
}
END_TEST

START_TEST(test_audio_on_snd) {
        run_host("audio-on-snd");
        const VfioDevice *gpu = device("10de:2489");
        const VfioGroupMember *audio = member(gpu, "0000:01:00.1");
        ck_assert_str_eq(audio->driver, "snd_hda_intel");
        ck_assert(audio->is_blocker);

        assert_check(&checks, "vfio.iommu-enabled", CHECK_OK, NULL, NULL);
        assert_check(&checks, "vfio.cmdline.iommu", CHECK_OK, NULL, NULL);
        assert_check(&checks, "vfio.cmdline.iommu-pt", CHECK_OK, NULL, NULL);
        assert_check(&checks, "vfio.cmdline.vfio-pci-ids", CHECK_FAIL, "vfio-pci.ids does not list 10de:228b",
                     "Set `vfio-pci.ids=10de:2489,10de:228b` on the kernel command line (NixOS: boot.kernelParams");
        assert_check(&checks, "vfio.driver.10de:2489", CHECK_OK, NULL, NULL);
        assert_check(&checks, "vfio.group.10de:2489", CHECK_FAIL,
                     "IOMMU group 14 also holds 0000:01:00.1 (10de:228b, class 0x040300, on snd_hda_intel)",
                     "Bind 0000:01:00.1 to vfio-pci (see vfio.driver.10de:228b).");
        assert_check(&checks, "vfio.driver.10de:228b", CHECK_FAIL, "0000:01:00.1 (10de:228b) is on snd_hda_intel, not vfio-pci",
                     "Add 10de:228b to vfio-pci.ids: set `vfio-pci.ids=10de:2489,10de:228b`");
        assert_check(&checks, "vfio.driver.10de:228b", CHECK_FAIL, NULL,
                     "echo vfio-pci | sudo tee /sys/bus/pci/devices/0000:01:00.1/driver_override; "
                     "echo 0000:01:00.1 | sudo tee /sys/bus/pci/devices/0000:01:00.1/driver/unbind; "
                     "echo 0000:01:00.1 | sudo tee /sys/bus/pci/drivers_probe");
        /* The audio function's own driver is vfio.driver's business; its group has nothing else. */
        assert_check(&checks, "vfio.group.10de:228b", CHECK_OK, NULL, NULL);
}
END_TEST

START_TEST(test_shared_group) {
        run_host("shared-group");
        const VfioDevice *gpu = device("10de:2489");
        ck_assert_uint_eq(gpu->n_members, 4);
        const VfioGroupMember *port = member(gpu, "0000:00:01.0");
        ck_assert(port->is_bridge);
        ck_assert(!port->is_blocker);
        ck_assert_str_eq(port->driver, "pcieport");
        const VfioGroupMember *usb = member(gpu, "0000:00:14.0");
        ck_assert_str_eq(usb->pci_id, "8086:7ae0");
        ck_assert_str_eq(usb->driver, "xhci_hcd");
        ck_assert_uint_eq(usb->pci_class, 0x0c0330);
        ck_assert(!usb->is_bridge && usb->is_blocker);

        assert_check(&checks, "vfio.iommu-enabled", CHECK_OK, "1 IOMMU groups", NULL);
        assert_check(&checks, "vfio.cmdline.iommu", CHECK_OK, NULL, NULL);
        assert_check(&checks, "vfio.cmdline.iommu-pt", CHECK_OK, NULL, NULL);
        assert_check(&checks, "vfio.cmdline.vfio-pci-ids", CHECK_OK, NULL, NULL);
        assert_check(&checks, "vfio.driver.10de:2489", CHECK_OK, NULL, NULL);
        assert_check(&checks, "vfio.driver.10de:228b", CHECK_OK, NULL, NULL);
        const char *msg = "IOMMU group 14 also holds 0000:00:14.0 (8086:7ae0, class 0x0c0330, on xhci_hcd)";
        assert_check(&checks, "vfio.group.10de:2489", CHECK_FAIL, msg,
                     "Pass the other devices through as well (add their ids to vfio-pci.ids), or move the card to "
                     "a slot whose IOMMU group it has alone");
        assert_check(&checks, "vfio.group.10de:228b", CHECK_FAIL, msg, "ACS override patch");
        /* The bridge is not named as a blocker. */
        ck_assert_ptr_null(strstr(check_list_find(&checks, "vfio.group.10de:2489")->message, "0000:00:01.0"));
}
END_TEST

START_TEST(test_iommu_off) {
        run_host("iommu-off");
        ck_assert(!report.iommu_active);
        ck_assert_uint_eq(report.n_groups, 0);
        const VfioDevice *gpu = device("10de:2489");
        ck_assert_str_eq(gpu->driver, "nouveau");
        ck_assert_ptr_null(gpu->group);
        ck_assert_uint_eq(gpu->n_members, 0);

        assert_check(&checks, "vfio.iommu-enabled", CHECK_FAIL, "The IOMMU is not active",
                     "Enable VT-d in the firmware setup and add `intel_iommu=on iommu=pt` to the kernel command line");
        assert_check(&checks, "vfio.cmdline.iommu", CHECK_FAIL, "intel_iommu=on is not on the kernel command line",
                     "Add `intel_iommu=on` to the kernel command line (NixOS: boot.kernelParams");
        assert_check(&checks, "vfio.cmdline.iommu-pt", CHECK_WARN, NULL, "Add `iommu=pt` to the kernel command line");
        assert_check(&checks, "vfio.cmdline.vfio-pci-ids", CHECK_FAIL,
                     "vfio-pci.ids is not on the kernel command line, so nothing binds 10de:2489,10de:228b",
                     "Set `vfio-pci.ids=10de:2489,10de:228b`");
        assert_check(&checks, "vfio.driver.10de:2489", CHECK_FAIL, "is on nouveau, not vfio-pci",
                     "Add 10de:2489 to vfio-pci.ids");
        assert_check(&checks, "vfio.driver.10de:228b", CHECK_FAIL, "is on snd_hda_intel, not vfio-pci",
                     "Add 10de:228b to vfio-pci.ids");
        assert_check(&checks, "vfio.group.10de:2489", CHECK_FAIL, "0000:01:00.0 (10de:2489) is in no IOMMU group",
                     "Turn the IOMMU on first (see vfio.iommu-enabled)");
        assert_check(&checks, "vfio.group.10de:228b", CHECK_FAIL, "is in no IOMMU group", "vfio.iommu-enabled");
}
END_TEST

START_TEST(test_amd) {
        run_host("amd");
        ck_assert_int_eq(report.cpu_vendor, VFIO_CPU_AMD);
        ck_assert(report.iommu_active);
        const VfioDevice *gpu = device("10de:2489");
        ck_assert_str_eq(gpu->address, "0000:0b:00.0");
        ck_assert_str_eq(gpu->group, "25");

        assert_check(&checks, "vfio.iommu-enabled", CHECK_OK, "2 IOMMU groups", NULL);
        assert_check(&checks, "vfio.cmdline.iommu", CHECK_OK, "no flag is needed", NULL);
        assert_check(&checks, "vfio.cmdline.iommu-pt", CHECK_OK, NULL, NULL);
        assert_check(&checks, "vfio.cmdline.vfio-pci-ids", CHECK_OK, NULL, NULL);
        assert_check(&checks, "vfio.driver.10de:2489", CHECK_OK, "0000:0b:00.0", NULL);
        assert_check(&checks, "vfio.group.10de:2489", CHECK_OK, "group 25", NULL);
        assert_check(&checks, "vfio.driver.10de:228b", CHECK_OK, "0000:0b:00.1", NULL);
        assert_check(&checks, "vfio.group.10de:228b", CHECK_OK, NULL, NULL);
}
END_TEST

/* An id no device has: the driver check fails with how to find the right id, the group one is
 * skipped; the ids on the command line are still compared with the configured ones. */
START_TEST(test_unknown_id) {
        _cleanup_(strv_freep) char **ids = NULL;
        ck_assert_int_eq(vfio_parse_pci_ids("10DE:2489, 1002:73bf", &ids), 0);
        ck_assert_str_eq(ids[0], "10de:2489");
        ck_assert_int_eq(vfio_report_read(host_root("intel-seed"), ids, &report), 0);
        ck_assert_int_eq(vfio_checks(&report, &checks), 0);
        ck_assert_uint_eq(checks.n, 8);
        ck_assert_ptr_null(device("1002:73bf")->address);
        assert_check(&checks, "vfio.driver.1002:73bf", CHECK_FAIL, "No PCI device has the id 1002:73bf",
                     "Check the device's id with `lspci -nn`");
        assert_check(&checks, "vfio.group.1002:73bf", CHECK_SKIPPED, "No PCI device has the id 1002:73bf", NULL);
        assert_check(&checks, "vfio.cmdline.vfio-pci-ids", CHECK_FAIL, "does not list 1002:73bf",
                     "`vfio-pci.ids=10de:2489,1002:73bf`");
}
END_TEST

/* Hosts that are not there: every fact missing, no crash, checks say so. */
START_TEST(test_empty_root) {
        ck_assert_int_eq(vfio_report_read("/nonexistent-winvm-root", NULL, &report), 0);
        ck_assert_int_eq(vfio_checks(&report, &checks), 0);
        assert_check(&checks, "vfio.iommu-enabled", CHECK_FAIL, NULL, NULL);
        assert_check(&checks, "vfio.cmdline.iommu", CHECK_SKIPPED, "/proc/cmdline could not be read", NULL);
        assert_check(&checks, "vfio.cmdline.iommu-pt", CHECK_SKIPPED, NULL, NULL);
        assert_check(&checks, "vfio.cmdline.vfio-pci-ids", CHECK_SKIPPED, NULL, NULL);
        assert_check(&checks, "vfio.driver.10de:2489", CHECK_FAIL, "No PCI device", NULL);
}
END_TEST

START_TEST(test_invalid_ids) {
        char **ids = NULL;
        ck_assert_int_eq(vfio_parse_pci_ids("10de:248", &ids), -EINVAL);
        ck_assert_int_eq(vfio_parse_pci_ids("10de-2489", &ids), -EINVAL);
        ck_assert_int_eq(vfio_parse_pci_ids("", &ids), -EINVAL);
        ck_assert_int_eq(vfio_parse_pci_ids(" , ", &ids), -EINVAL);
        ck_assert_int_eq(vfio_parse_pci_ids("10de:2489,../../etc", &ids), -EINVAL);
        ck_assert_ptr_null(ids);
        char *bad[] = { "10de:2489", "x", NULL };
        ck_assert_int_eq(vfio_report_read(host_root("intel-seed"), bad, &report), -EINVAL);
}
END_TEST

/* --- the kernel command line --------------------------------------------------------------- */

START_TEST(test_cmdline_get) {
        const char *cmdline = "BOOT_IMAGE=/vmlinuz quiet intel_iommu=on,sm_on vfio_pci.ids=10de:2489 "
                              "iommu=pt x=\"a b\" vfio-pci.ids=10de:2489,10de:228b -- intel_iommu=off";
        char *v = vfio_cmdline_get(cmdline, "intel_iommu");
        ck_assert_str_eq(v, "on,sm_on");        /* the one after "--" is for init */
        free(v);
        v = vfio_cmdline_get(cmdline, "vfio-pci.ids");
        ck_assert_str_eq(v, "10de:2489,10de:228b");     /* the last one wins; '_' and '-' alike */
        free(v);
        v = vfio_cmdline_get(cmdline, "x");
        ck_assert_str_eq(v, "a b");
        free(v);
        v = vfio_cmdline_get(cmdline, "quiet");
        ck_assert_str_eq(v, "");
        free(v);
        ck_assert_ptr_null(vfio_cmdline_get(cmdline, "amd_iommu"));
        ck_assert_ptr_null(vfio_cmdline_get(cmdline, "iommu=pt"));
        ck_assert_ptr_null(vfio_cmdline_get("", "iommu"));
}
END_TEST

/* --- the check logic on hand-made reports ---------------------------------------------------- */

static VfioDevice devs[2];
static VfioGroupMember members[2];

static VfioReport make_report(VfioCpuVendor vendor, const char *cmdline, bool active, const char *driver) {
        members[0] = (VfioGroupMember) { .address = "0000:01:00.0", .pci_id = "10de:2489", .driver = (char *) driver,
                                         .pci_class = 0x030000 };
        devs[0] = (VfioDevice) { .pci_id = "10de:2489", .address = "0000:01:00.0", .driver = (char *) driver,
                                 .group = active ? "14" : NULL, .members = members, .n_members = active ? 1 : 0 };
        return (VfioReport) { .cpu_vendor = vendor, .cmdline = (char *) cmdline, .iommu_active = active,
                              .n_groups = active ? 1 : 0, .devices = devs, .n_devices = 1 };
}

START_TEST(test_amd_without_iommu) {
        VfioReport r = make_report(VFIO_CPU_AMD, "ro quiet", false, NULL);
        ck_assert_int_eq(vfio_checks(&r, &checks), 0);
        assert_check(&checks, "vfio.iommu-enabled", CHECK_FAIL, NULL, "Enable the IOMMU (AMD-Vi");
        assert_check(&checks, "vfio.cmdline.iommu", CHECK_WARN, "the firmware has it off", "amd_iommu=on is not a kernel option");
        assert_check(&checks, "vfio.driver.10de:2489", CHECK_FAIL, "has no driver",
                     "Add 10de:2489 to vfio-pci.ids");
}
END_TEST

START_TEST(test_iommu_off_flags) {
        VfioReport r = make_report(VFIO_CPU_INTEL, "intel_iommu=off", false, NULL);
        ck_assert_int_eq(vfio_checks(&r, &checks), 0);
        assert_check(&checks, "vfio.cmdline.iommu", CHECK_FAIL, "intel_iommu=off",
                     "Replace `intel_iommu=off` with `intel_iommu=on`");
        check_list_clear(&checks);
        r = make_report(VFIO_CPU_AMD, "amd_iommu=off", false, NULL);
        ck_assert_int_eq(vfio_checks(&r, &checks), 0);
        assert_check(&checks, "vfio.cmdline.iommu", CHECK_FAIL, NULL, "Remove `amd_iommu=off`");
        check_list_clear(&checks);
        r = make_report(VFIO_CPU_INTEL, "intel_iommu=on iommu=off", false, NULL);
        ck_assert_int_eq(vfio_checks(&r, &checks), 0);
        assert_check(&checks, "vfio.cmdline.iommu", CHECK_FAIL, NULL, "Remove `iommu=off`");
}
END_TEST

/* Intel kernels built with CONFIG_INTEL_IOMMU_DEFAULT_ON need no flag. */
START_TEST(test_intel_default_on) {
        VfioReport r = make_report(VFIO_CPU_INTEL, "iommu=pt vfio-pci.ids=10de:2489", true, "vfio-pci");
        ck_assert_int_eq(vfio_checks(&r, &checks), 0);
        assert_check(&checks, "vfio.cmdline.iommu", CHECK_OK, "on by default", NULL);
        ck_assert_int_eq(check_list_worst(&checks), CHECK_OK);
}
END_TEST

/* On vfio-pci without vfio-pci.ids (driverctl, a script): works now, may not after a reboot. */
START_TEST(test_bound_without_ids) {
        VfioReport r = make_report(VFIO_CPU_INTEL, "intel_iommu=on iommu=pt", true, "vfio-pci");
        ck_assert_int_eq(vfio_checks(&r, &checks), 0);
        assert_check(&checks, "vfio.cmdline.vfio-pci-ids", CHECK_WARN, "bound some other way",
                     "`vfio-pci.ids=10de:2489`");
        assert_check(&checks, "vfio.driver.10de:2489", CHECK_OK, NULL, NULL);
}
END_TEST

/* Listed in vfio-pci.ids but on another driver: that driver loaded first. No driver: vfio-pci
 * is not loaded. */
START_TEST(test_listed_but_not_bound) {
        /* An entry with a subsystem id (vendor:device:subvendor:subdevice) covers the device. */
        VfioReport r = make_report(VFIO_CPU_INTEL, "intel_iommu=on iommu=pt vfio-pci.ids=10de:2489:1458:4057", true,
                                   "vfio-pci");
        ck_assert_int_eq(vfio_checks(&r, &checks), 0);
        assert_check(&checks, "vfio.cmdline.vfio-pci-ids", CHECK_OK, NULL, NULL);
        check_list_clear(&checks);
        r = make_report(VFIO_CPU_INTEL, "intel_iommu=on iommu=pt vfio-pci.ids=10de:24890", true, "vfio-pci");
        ck_assert_int_eq(vfio_checks(&r, &checks), 0);
        assert_check(&checks, "vfio.cmdline.vfio-pci-ids", CHECK_WARN, NULL, NULL);
        check_list_clear(&checks);
        r = make_report(VFIO_CPU_INTEL, "intel_iommu=on iommu=pt vfio-pci.ids=10de:2489", true, "nouveau");
        ck_assert_int_eq(vfio_checks(&r, &checks), 0);
        assert_check(&checks, "vfio.cmdline.vfio-pci-ids", CHECK_OK, NULL, NULL);
        assert_check(&checks, "vfio.driver.10de:2489", CHECK_FAIL, "is on nouveau",
                     "add `softdep nouveau pre: vfio-pci` to /etc/modprobe.d/vfio.conf");
        check_list_clear(&checks);
        r = make_report(VFIO_CPU_INTEL, "intel_iommu=on iommu=pt vfio-pci.ids=10de:2489", true, NULL);
        ck_assert_int_eq(vfio_checks(&r, &checks), 0);
        assert_check(&checks, "vfio.driver.10de:2489", CHECK_FAIL, "has no driver",
                     "vfio-pci.ids lists 10de:2489 but vfio-pci is not loaded");
}
END_TEST

/* One id matching two cards: one check per card, the address in the id. */
START_TEST(test_two_cards_one_id) {
        VfioReport r = make_report(VFIO_CPU_INTEL, "intel_iommu=on iommu=pt vfio-pci.ids=10de:2489", true, "vfio-pci");
        devs[1] = devs[0];
        devs[1].address = "0000:02:00.0";
        devs[1].driver = "nvidia";
        devs[1].n_members = 0;
        r.n_devices = 2;
        ck_assert_int_eq(vfio_checks(&r, &checks), 0);
        assert_check(&checks, "vfio.driver.10de:2489@0000:01:00.0", CHECK_OK, NULL, NULL);
        assert_check(&checks, "vfio.driver.10de:2489@0000:02:00.0", CHECK_FAIL, "is on nvidia", "softdep nvidia");
        ck_assert_ptr_null(check_list_find(&checks, "vfio.driver.10de:2489"));
}
END_TEST

static Suite *vfio_suite(void) {
        Suite *s = suite_create("vfio-checks");
        TCase *tc = tcase_create("hosts");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_intel_seed);
        tcase_add_test(tc, test_audio_on_snd);
        tcase_add_test(tc, test_shared_group);
        tcase_add_test(tc, test_iommu_off);
        tcase_add_test(tc, test_amd);
        tcase_add_test(tc, test_unknown_id);
        tcase_add_test(tc, test_empty_root);
        tcase_add_test(tc, test_invalid_ids);
        suite_add_tcase(s, tc);

        tc = tcase_create("cmdline");
        tcase_add_test(tc, test_cmdline_get);
        suite_add_tcase(s, tc);

        tc = tcase_create("logic");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_amd_without_iommu);
        tcase_add_test(tc, test_iommu_off_flags);
        tcase_add_test(tc, test_intel_default_on);
        tcase_add_test(tc, test_bound_without_ids);
        tcase_add_test(tc, test_listed_but_not_bound);
        tcase_add_test(tc, test_two_cards_one_id);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        SRunner *sr = srunner_create(vfio_suite());
        srunner_set_fork_status(sr, CK_FORK_GETENV); /* forks unless CK_FORK=no */
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
