/* Unit tests for a NixOS host (service/lib/nixos-host.c) and the desktop user by default
 * (service/lib/desktop-user.c), on the nixos fixture host: qemu.conf in /var/lib/libvirt, /etc
 * from /etc/static, the kvmfr options in NixOS's modprobe file, jarrett the only member of the
 * polkit group. The doctor reports no false failure there. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "desktop-user.h"
#include "doctor-checks.h"
#include "host-fixtures.h"
#include "nixos-host.h"
#include "util.h"
#include "virtiofsd-checks.h"

static CheckList checks;
static char *seed_xml;

static void setup(void) {
        checks = CHECK_LIST_INIT;
        seed_xml = fixture_text("domains/windows11-seed.xml");
}

static void teardown(void) {
        check_list_clear(&checks);
        free(seed_xml);
}

START_TEST(test_recognised) {
        ck_assert(nixos_host(host_root("nixos")));
        /* intel-seed has NixOS's /run/current-system but no NixOS /etc: not taken for one. */
        ck_assert(!nixos_host(host_root("intel-seed")));
        ck_assert(!nixos_host(host_root("amd")));
        ck_assert_str_eq(nixos_qemu_conf(host_root("nixos"), NULL), NIXOS_QEMU_CONF);
        ck_assert_str_eq(nixos_qemu_conf(host_root("nixos"), "/etc/libvirt/qemu.conf"), NIXOS_QEMU_CONF);
        ck_assert_str_eq(nixos_qemu_conf(host_root("nixos"), "/srv/qemu.conf"), "/srv/qemu.conf");
        ck_assert_str_eq(nixos_qemu_conf(host_root("intel-seed"), NULL), "/etc/libvirt/qemu.conf");
}
END_TEST

START_TEST(test_desktop_user) {
        DesktopUser u;
        ck_assert_int_eq(desktop_user_resolve(host_root("nixos"), NULL, "winvm", &u), 0);
        ck_assert_int_eq(u.source, DESKTOP_USER_GROUP);
        ck_assert_str_eq(u.name, "jarrett");
        ck_assert_int_eq(desktop_user_check(&u, &checks), 0);
        assert_check(&checks, "host.desktop-user", CHECK_OK, "jarrett, the only member of the winvm group", NULL);
        desktop_user_clear(&u);
        /* Configured wins. */
        ck_assert_int_eq(desktop_user_resolve(host_root("nixos"), "alice", "winvm", &u), 0);
        ck_assert_int_eq(u.source, DESKTOP_USER_CONFIGURED);
        ck_assert_str_eq(u.name, "alice");
        desktop_user_clear(&u);
        /* Two members (kvm: jarrett and qemu-libvirtd): none, and the check says what to set. */
        ck_assert_int_eq(desktop_user_resolve(host_root("nixos"), NULL, "kvm", &u), 0);
        ck_assert_ptr_null(u.name);
        ck_assert_uint_eq(u.n_members, 2);
        check_list_clear(&checks);
        ck_assert_int_eq(desktop_user_check(&u, &checks), 0);
        assert_check(&checks, "host.desktop-user", CHECK_SKIPPED, "the kvm group has 2 members", NULL);
        desktop_user_clear(&u);
        /* A group named only as a primary group in passwd counts its users. */
        _cleanup_(strv_freep) char **m = NULL;
        ck_assert_int_eq(desktop_group_members(host_root("nixos"), "users", &m), 0);
        ck_assert_uint_eq(strv_length(m), 1);
        ck_assert_str_eq(m[0], "jarrett");
        ck_assert_int_eq(desktop_group_members(host_root("nixos"), "nosuchgroup", &m), -ENOENT);
        /* No such group on intel-seed: no default. */
        ck_assert_int_eq(desktop_user_resolve(host_root("intel-seed"), NULL, "winvm", &u), 0);
        ck_assert_ptr_null(u.name);
        desktop_user_clear(&u);
}
END_TEST

/* The whole doctor on the NixOS host with the seed's guest, no [Host] DesktopUser and no [Kvmfr]
 * Owner: nothing fails; the desktop user is found, so the duplicate-session check and the kvmfr
 * owner check run. The one warning is true: the seed's virtiofsd is a Nix store path. */
START_TEST(test_doctor) {
        HostOps ops = FAKE_OPS(&nixos_fixture_host);
        KvmfrConfig kc;
        kvmfr_config_init(&kc);
        kc.modprobe_path = "/etc/modprobe.d/nixos.conf";        /* as nix/module.nix sets it */
        VirtiofsdFacts vf;
        char *allowed[] = { "/nix/store/vw6vbapxh9dwaw8mhs3pyzlbr7bks6kk-virtiofsd-1.13.2-looking-glass/bin/virtiofsd",
                            NULL };
        ck_assert_int_eq(virtiofsd_facts_read(host_root("nixos"), seed_xml, allowed, &vf), 0);
        DoctorInput in = { .root = host_root("nixos"), .domain_xml = seed_xml, .kvmfr = &kc, .ops = &ops,
                           .polkit_group = "winvm", .virtiofsd = &vf };
        ck_assert_int_eq(doctor_run(&in, &checks), 0);
        virtiofsd_facts_clear(&vf);
        for (size_t i = 0; i < checks.n; i++)
                ck_assert_msg(checks.items[i].status != CHECK_FAIL, "%s fails: %s", checks.items[i].id,
                              checks.items[i].message);
        assert_check(&checks, "host.desktop-user", CHECK_OK, "jarrett, the only member of the winvm group", NULL);
        assert_check(&checks, "kvmfr.cgroup-acl", CHECK_OK, "cgroup_device_acl in /var/lib/libvirt/qemu.conf lists /dev/kvmfr0",
                     NULL);
        assert_check(&checks, "kvmfr.size", CHECK_OK, NULL, NULL);
        assert_check(&checks, "kvmfr.permissions", CHECK_OK, "jarrett:kvm 0660", NULL);
        assert_check(&checks, "vm.session-duplicate", CHECK_OK, "not defined in jarrett's session", NULL);
        assert_check(&checks, "vm.virtiofsd", CHECK_WARN, "is a Nix store path", "doctor --fix vm.virtiofsd");
        assert_check(&checks, "vm.virtiofsd-version", CHECK_OK, "1.13.2-dev", NULL);
        assert_check(&checks, "vm.virtiofsd-running", CHECK_OK, NULL, NULL);
        CheckSummary s = check_list_summary(&checks);
        ck_assert_uint_eq(s.fail, 0);
        ck_assert_uint_eq(s.warn, 1);
}
END_TEST

/* The kvmfr owner defaults to the desktop user: a device root owns, with no ACL, fails the
 * permission check instead of passing unchecked. */
START_TEST(test_owner_default) {
        static const FakeNode nodes[] = { { "/dev/kvmfr0", S_IFCHR | 0660, 242, 0, 0, 302, NULL } };
        FakeHost host = { nodes, 1 };
        HostOps ops = FAKE_OPS(&host);
        KvmfrConfig kc;
        kvmfr_config_init(&kc);
        DoctorInput in = { .root = host_root("nixos"), .domain_xml = seed_xml, .kvmfr = &kc, .ops = &ops,
                           .polkit_group = "winvm" };
        ck_assert_int_eq(doctor_run(&in, &checks), 0);
        assert_check(&checks, "kvmfr.permissions", CHECK_FAIL, "owner root, not jarrett", "services.udev.extraRules");
}
END_TEST

/* A device qemu.conf does not list: the remedy names NixOS's option, not a file to edit. */
START_TEST(test_cgroup_remedy) {
        HostOps ops = FAKE_OPS(&nixos_fixture_host);
        KvmfrConfig kc;
        kvmfr_config_init(&kc);
        kc.device = "/dev/kvmfr1";
        KvmfrState st;
        ck_assert_int_eq(kvmfr_state_read(host_root("nixos"), &kc, &ops, &st), 0);
        ck_assert_int_eq(kvmfr_checks(host_root("nixos"), &kc, &st, NULL, &checks), 0);
        kvmfr_state_clear(&st);
        assert_check(&checks, "kvmfr.cgroup-acl", CHECK_FAIL, "/var/lib/libvirt/qemu.conf does not list /dev/kvmfr1",
                     "Set virtualisation.libvirtd.qemu.verbatimConfig = ''cgroup_device_acl = [");
}
END_TEST

int main(void) {
        Suite *s = suite_create("nixos-host");
        TCase *tc = tcase_create("nixos");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_recognised);
        tcase_add_test(tc, test_desktop_user);
        tcase_add_test(tc, test_doctor);
        tcase_add_test(tc, test_owner_default);
        tcase_add_test(tc, test_cgroup_remedy);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_set_fork_status(sr, CK_FORK_GETENV);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
