/* Unit tests for service/lib/checks.c (the check list) and service/lib/host-files.c (reading a host
 * through a root prefix, never outside it; users and groups from the root's own files). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host-fixtures.h"
#include "util.h"

/* --- CheckList -------------------------------------------------------------------------------- */

START_TEST(test_status_strings) {
        ck_assert_str_eq(check_status_to_string(CHECK_OK), "ok");
        ck_assert_str_eq(check_status_to_string(CHECK_WARN), "warn");
        ck_assert_str_eq(check_status_to_string(CHECK_FAIL), "fail");
        ck_assert_str_eq(check_status_to_string(CHECK_SKIPPED), "skipped");
        ck_assert_ptr_null(check_status_to_string(_CHECK_STATUS_MAX));
        ck_assert_ptr_null(check_status_to_string((CheckStatus) -1));
        CheckStatus s;
        ck_assert_int_eq(check_status_from_string("skipped", &s), 0);
        ck_assert_int_eq(s, CHECK_SKIPPED);
        ck_assert_int_eq(check_status_from_string("OK", &s), -EINVAL);
        ck_assert_int_eq(check_status_from_string(NULL, &s), -EINVAL);
}
END_TEST

START_TEST(test_list) {
        CheckList l = CHECK_LIST_INIT;
        ck_assert_int_eq(check_list_worst(&l), CHECK_OK);
        for (int i = 0; i < 100; i++)
                ck_assert_int_eq(check_list_add(&l, "x.many", CHECK_OK, NULL, "number %d", i), 0);
        ck_assert_int_eq(check_list_add(&l, "x.warn", CHECK_WARN, "do this", "a %s", "warning"), 0);
        ck_assert_int_eq(check_list_add(&l, "x.skip", CHECK_SKIPPED, NULL, "why"), 0);
        ck_assert_uint_eq(l.n, 102);
        ck_assert_str_eq(l.items[42].message, "number 42");
        ck_assert_str_eq(l.items[42].remedy, "");
        const Check *c = check_list_find(&l, "x.warn");
        ck_assert_ptr_nonnull(c);
        ck_assert_str_eq(c->message, "a warning");
        ck_assert_str_eq(c->remedy, "do this");
        ck_assert_ptr_null(check_list_find(&l, "x.none"));
        ck_assert_int_eq(check_list_worst(&l), CHECK_WARN);
        ck_assert_int_eq(check_list_add(&l, "x.fail", CHECK_FAIL, "fix", "broken"), 0);
        CheckSummary s = check_list_summary(&l);
        ck_assert_uint_eq(s.ok, 100);
        ck_assert_uint_eq(s.warn, 1);
        ck_assert_uint_eq(s.fail, 1);
        ck_assert_uint_eq(s.skipped, 1);
        ck_assert_int_eq(check_list_worst(&l), CHECK_FAIL);

        ck_assert_int_eq(check_list_add(&l, "", CHECK_OK, NULL, "x"), -EINVAL);
        ck_assert_int_eq(check_list_add(&l, NULL, CHECK_OK, NULL, "x"), -EINVAL);
        ck_assert_int_eq(check_list_add(&l, "x.bad", _CHECK_STATUS_MAX, NULL, "x"), -EINVAL);
        ck_assert_uint_eq(l.n, 103);

        CheckList other = CHECK_LIST_INIT;
        ck_assert_int_eq(check_list_add(&other, "y.one", CHECK_OK, NULL, "moved"), 0);
        ck_assert_int_eq(check_list_move(&l, &other), 0);
        ck_assert_uint_eq(other.n, 0);
        ck_assert_ptr_null(other.items);
        ck_assert_uint_eq(l.n, 104);
        ck_assert_str_eq(l.items[103].id, "y.one");
        ck_assert_int_eq(check_list_move(&l, &other), 0);

        check_list_clear(&l);
        ck_assert_uint_eq(l.n, 0);
        ck_assert_int_eq(check_list_add(&l, "x.again", CHECK_OK, NULL, "reusable"), 0);
        check_list_clear(&l);
        check_list_clear(&l);
}
END_TEST

START_TEST(test_remedies_name_vm) {
        CheckList l = CHECK_LIST_INIT;
        ck_assert_int_eq(check_list_add(&l, "vm.memballoon", CHECK_WARN,
                                        "winvmctl doctor --fix vm.memballoon (it writes <memballoon model='none'/>)", "m"), 0);
        ck_assert_int_eq(check_list_add(&l, "vm.virtiofsd", CHECK_WARN,
                                        "Install virtiofsd, then winvmctl doctor --fix vm.virtiofsd", "v"), 0);
        ck_assert_int_eq(check_list_add(&l, "kvmfr.loaded", CHECK_FAIL, "winvmctl kvmfr load", "k"), 0);
        ck_assert_int_eq(check_list_add(&l, "vm.hyperv", CHECK_OK, NULL, "h"), 0);

        ck_assert_int_eq(check_list_name_vm(&l, NULL), 0);
        ck_assert_int_eq(check_list_name_vm(&l, ""), 0);
        ck_assert_str_eq(l.items[0].remedy, "winvmctl doctor --fix vm.memballoon (it writes <memballoon model='none'/>)");

        ck_assert_int_eq(check_list_name_vm(&l, "Windows11"), 0);
        ck_assert_str_eq(l.items[0].remedy,
                         "winvmctl --vm Windows11 doctor --fix vm.memballoon (it writes <memballoon model='none'/>)");
        ck_assert_str_eq(l.items[1].remedy, "Install virtiofsd, then winvmctl --vm Windows11 doctor --fix vm.virtiofsd");
        ck_assert_str_eq(l.items[2].remedy, "winvmctl kvmfr load");
        ck_assert_str_eq(l.items[3].remedy, "");
        /* Once named, a remedy is not named again. */
        ck_assert_int_eq(check_list_name_vm(&l, "Windows11"), 0);
        ck_assert_str_eq(l.items[1].remedy, "Install virtiofsd, then winvmctl --vm Windows11 doctor --fix vm.virtiofsd");
        check_list_clear(&l);
}
END_TEST

/* --- host files ------------------------------------------------------------------------------- */

START_TEST(test_root_forms) {
        ck_assert(host_root_is_host(NULL));
        ck_assert(host_root_is_host(""));
        ck_assert(host_root_is_host("/"));
        ck_assert(host_root_is_host("//"));
        ck_assert(!host_root_is_host("/tmp/x"));
        char *p = host_path("/", "/proc/cmdline");
        ck_assert_str_eq(p, "/proc/cmdline");
        free(p);
        p = host_path("/srv/root//", "/proc/cmdline");
        ck_assert_str_eq(p, "/srv/root/proc/cmdline");
        free(p);
        ck_assert_ptr_null(host_path("/srv", "proc/cmdline"));
        ck_assert_int_eq(host_resolve("/srv", "relative", true, &p), -EINVAL);
}
END_TEST

START_TEST(test_sysfs_reads) {
        const char *root = host_root("intel-seed");
        unsigned long v = 0;
        ck_assert_int_eq(host_read_hex(root, "/sys/bus/pci/devices/0000:01:00.0/vendor", &v), 0);
        ck_assert_uint_eq(v, 0x10de);
        ck_assert_int_eq(host_read_hex(root, "/sys/bus/pci/devices/0000:01:00.1/class", &v), 0);
        ck_assert_uint_eq(v, 0x040300);
        ck_assert_int_eq(host_read_hex(root, "/proc/cpuinfo", &v), -EINVAL);
        ck_assert_int_eq(host_read_hex(root, "/sys/bus/pci/devices/0000:09:00.0/vendor", &v), -ENOENT);

        char *s = NULL;
        ck_assert_int_eq(host_link_basename(root, "/sys/bus/pci/devices/0000:01:00.0/driver", &s), 0);
        ck_assert_str_eq(s, "vfio-pci");
        free(s);
        ck_assert_int_eq(host_link_basename(root, "/sys/bus/pci/devices/0000:01:00.0/iommu_group", &s), 0);
        ck_assert_str_eq(s, "14");
        free(s);
        ck_assert_int_eq(host_readlink(root, "/sys/bus/pci/devices/0000:01:00.0/vendor", &s), -EINVAL);

        _cleanup_(strv_freep) char **names = NULL;
        ck_assert_int_eq(host_list_dir(root, "/sys/kernel/iommu_groups", &names), 0);
        ck_assert_uint_eq(strv_length(names), 3);
        ck_assert_str_eq(names[0], "1");
        ck_assert_str_eq(names[1], "14");
        ck_assert_str_eq(names[2], "7");

        ck_assert_int_eq(host_read_line(root, "/sys/module/kvmfr/parameters/static_size_mb", &s), 0);
        ck_assert_str_eq(s, "128");
        free(s);
        ck_assert_int_eq(host_read_file(root, "/sys/bus/pci/devices", 0, &s), -EISDIR);
        ck_assert_int_eq(host_read_file(root, "/proc/cpuinfo", 10, &s), 0);
        ck_assert_str_eq(s, "processor\t");
        free(s);
}
END_TEST

/* Links resolve inside the root: an absolute target is taken under the root, ".." stops there. */
START_TEST(test_confined) {
        char tmpl[] = "/tmp/winvm-root-XXXXXX";
        char *root = mkdtemp(tmpl);
        ck_assert_ptr_nonnull(root);
        char path[512];
        snprintf(path, sizeof(path), "%s/etc", root);
        ck_assert_int_eq(mkdir(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/etc/passwd", root);
        FILE *f = fopen(path, "we");
        fputs("inside:x:7:7::/home/inside:/bin/sh\n", f);
        fclose(f);
        snprintf(path, sizeof(path), "%s/abs", root);
        ck_assert_int_eq(symlink("/etc/passwd", path), 0);
        snprintf(path, sizeof(path), "%s/up", root);
        ck_assert_int_eq(symlink("../../../../../../etc/passwd", path), 0);
        snprintf(path, sizeof(path), "%s/dir", root);
        ck_assert_int_eq(symlink("/etc", path), 0);
        snprintf(path, sizeof(path), "%s/loop", root);
        ck_assert_int_eq(symlink("loop", path), 0);

        const char *ways[] = { "/abs", "/up", "/dir/passwd", "/../../etc/passwd", "/etc/./../etc/passwd" };
        for (size_t i = 0; i < G_N_ELEMENTS(ways); i++) {
                char *s = NULL;
                ck_assert_int_eq(host_read_file(root, ways[i], 0, &s), 0);
                ck_assert_msg(strcmp(s, "inside:x:7:7::/home/inside:/bin/sh\n") == 0, "%s read %s", ways[i], s);
                free(s);
        }
        char *s = NULL;
        ck_assert_int_eq(host_read_file(root, "/loop", 0, &s), -ELOOP);
        ck_assert_int_eq(host_resolve(root, "/abs", false, &s), 0);
        snprintf(path, sizeof(path), "%s/abs", root);
        ck_assert_str_eq(s, path);
        free(s);
        ck_assert_int_eq(host_resolve(root, "/missing/file", true, &s), -ENOENT);
        ck_assert_int_eq(host_resolve(root, "/etc/missing", true, &s), 0);
        free(s);

        HostUser u;
        ck_assert_int_eq(host_user_by_name(root, "inside", &u), 0);
        ck_assert_uint_eq(u.uid, 7);
        host_user_clear(&u);
        ck_assert_int_eq(host_user_by_name(root, "root", &u), -ENOENT);

        const char *rm[] = { "abs", "up", "dir", "loop", "etc/passwd" };
        for (size_t i = 0; i < G_N_ELEMENTS(rm); i++) {
                snprintf(path, sizeof(path), "%s/%s", root, rm[i]);
                unlink(path);
        }
        snprintf(path, sizeof(path), "%s/etc", root);
        rmdir(path);
        rmdir(root);
}
END_TEST

/* The fixture's NixOS link chain: /run/current-system -> /nix/store/... (absolute). */
START_TEST(test_nixos_links) {
        const char *root = host_root("intel-seed");
        ck_assert(host_exists(root, "/run/current-system/sw/bin/virtiofsd"));
        struct stat st;
        ck_assert_int_eq(host_stat(root, "/run/current-system/sw/bin/virtiofsd", true, &st), 0);
        ck_assert(S_ISREG(st.st_mode));
        ck_assert_int_eq(host_stat(root, "/run/current-system", false, &st), 0);
        ck_assert(S_ISLNK(st.st_mode));
}
END_TEST

START_TEST(test_users) {
        const char *root = host_root("intel-seed");
        HostUser u;
        ck_assert_int_eq(host_user_by_name(root, "jarrett", &u), 0);
        ck_assert_str_eq(u.name, "jarrett");
        ck_assert_uint_eq(u.uid, 1000);
        ck_assert_uint_eq(u.gid, 100);
        ck_assert_str_eq(u.home, "/home/jarrett");
        host_user_clear(&u);
        ck_assert_int_eq(host_user_by_uid(root, 301, &u), 0);
        ck_assert_str_eq(u.name, "qemu-libvirtd");
        host_user_clear(&u);
        ck_assert_int_eq(host_user_by_name(root, "mallory", &u), -ENOENT);
        ck_assert_int_eq(host_user_by_name(root, "", &u), -EINVAL);
        gid_t g;
        ck_assert_int_eq(host_group_by_name(root, "kvm", &g), 0);
        ck_assert_uint_eq(g, 302);
        ck_assert_int_eq(host_group_by_name(root, "winvm", &g), -ENOENT);
        char *name = NULL;
        ck_assert_int_eq(host_group_by_gid(root, 303, &name), 0);
        ck_assert_str_eq(name, "libvirtd");
        free(name);
        name = host_uid_to_name(root, 1000);
        ck_assert_str_eq(name, "jarrett");
        free(name);
        name = host_uid_to_name(root, 4242);
        ck_assert_str_eq(name, "4242");
        free(name);
        name = host_gid_to_name(root, 302);
        ck_assert_str_eq(name, "kvm");
        free(name);
        name = host_gid_to_name("/nonexistent-winvm-root", 0);
        ck_assert_str_eq(name, "0");
        free(name);
}
END_TEST

static Suite *checks_suite(void) {
        Suite *s = suite_create("checks");
        TCase *tc = tcase_create("list");
        tcase_add_test(tc, test_status_strings);
        tcase_add_test(tc, test_list);
        tcase_add_test(tc, test_remedies_name_vm);
        suite_add_tcase(s, tc);

        tc = tcase_create("host_files");
        tcase_add_test(tc, test_root_forms);
        tcase_add_test(tc, test_sysfs_reads);
        tcase_add_test(tc, test_confined);
        tcase_add_test(tc, test_nixos_links);
        tcase_add_test(tc, test_users);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        SRunner *sr = srunner_create(checks_suite());
        srunner_set_fork_status(sr, CK_FORK_GETENV); /* forks unless CK_FORK=no */
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
