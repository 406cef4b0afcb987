/* Unit tests for service/lib/virtiofsd-checks.c: the version rule of the seed's incident (the Looking
 * Glass-compatible virtiofsd is 1.13.2 with vm-memory 0.17 or later when the guest maps
 * /dev/kvmfr0 through IVSHMEM), read by running the nixos fixture host's stand-in binaries, which
 * print the seed's versions; and the running virtiofsd's binary against the configured one. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host-fixtures.h"
#include "util.h"
#include "virtiofsd-checks.h"

#define SEED_STORE "/nix/store/vw6vbapxh9dwaw8mhs3pyzlbr7bks6kk-virtiofsd-1.13.2-looking-glass/bin/virtiofsd"
#define UPSTREAM_1132 "/nix/store/k1m2x6a3bn0q8f4jz5d7c9h2w0p3r6s1-virtiofsd-1.13.2/bin/virtiofsd"
#define OLD_1120 "/nix/store/q9f3c2l7w1m5d8x0z4b6n2k7j3h5g1a9-virtiofsd-1.12.0/bin/virtiofsd"
#define SYSTEM_PATH "/nix/store/3ysd0a8gk0mh5qj6dbj0v8y9j9ffl6yk-system-path/bin/virtiofsd"

static char *allowed[] = { SEED_STORE, UPSTREAM_1132, OLD_1120, "/run/current-system/sw/bin/virtiofsd",
                           "/run/current-system/sw/bin/virtiofsd-gone", NULL };
static char *seed_xml;
static CheckList checks;
static VirtiofsdFacts facts;

static void setup(void) {
        seed_xml = fixture_text("domains/windows11-seed.xml");
        checks = CHECK_LIST_INIT;
        facts = (VirtiofsdFacts) { 0 };
}

static void teardown(void) {
        free(seed_xml);
        check_list_clear(&checks);
        virtiofsd_facts_clear(&facts);
}

static char *replace(const char *xml, const char *from, const char *to) {
        const char *at = strstr(xml, from);
        ck_assert_msg(at != NULL, "'%s' not in the XML", from);
        char *out = NULL;
        ck_assert_int_ge(asprintf(&out, "%.*s%s%s", (int) (at - xml), xml, to, at + strlen(from)), 0);
        return out;
}

/* The facts and checks of the seed's XML with its virtiofsd replaced by binary, on nixos. */
static void run(const char *binary, bool ivshmem) {
        _cleanup_free_ char *xml = replace(seed_xml, SEED_STORE, binary);
        _cleanup_free_ char *no_ivshmem = NULL;
        if (!ivshmem) {
                const char *from = strstr(xml, "  <qemu:commandline>"), *to = strstr(xml, "</qemu:commandline>\n");
                _cleanup_free_ char *cut = strndup(from, (size_t) (to + strlen("</qemu:commandline>\n") - from));
                no_ivshmem = replace(xml, cut, "");
        }
        ck_assert_int_eq(virtiofsd_facts_read(host_root("nixos"), no_ivshmem ? no_ivshmem : xml, allowed, &facts), 0);
        ck_assert_int_eq(virtiofsd_checks(&facts, "Windows11", &checks), 0);
        ck_assert_uint_eq(checks.n, 2);
}

START_TEST(test_parse) {
        _cleanup_free_ char *a = virtiofsd_parse_version("virtiofsd 1.13.2-dev\n");
        _cleanup_free_ char *b = virtiofsd_parse_version("virtiofsd backend 1.10.1\n");
        _cleanup_free_ char *c = virtiofsd_parse_version("usage: virtiofsd [options]\n");
        ck_assert_str_eq(a, "1.13.2-dev");
        ck_assert_str_eq(b, "1.10.1");
        ck_assert_ptr_null(c);
        ck_assert_int_lt(virtiofsd_version_cmp("1.12.0", "1.13.2"), 0);
        ck_assert_int_lt(virtiofsd_version_cmp("1.13.1", "1.13.2"), 0);
        ck_assert_int_eq(virtiofsd_version_cmp("1.13.2-dev", "1.13.2"), 0);
        ck_assert_int_gt(virtiofsd_version_cmp("1.14", "1.13.2"), 0);
        ck_assert_int_gt(virtiofsd_version_cmp("0.17.1", "0.17"), 0);
        ck_assert_int_lt(virtiofsd_version_cmp("0.16.1", "0.17"), 0);
        static const char bin[] = "\x7f" "ELF...vm-memory-0.16.1/src/mmap.rs\0...vm-memory-0.17.1/src/bitmap.rs\0vm-memory-";
        _cleanup_free_ char *v = virtiofsd_vm_memory_from_bytes(bin, sizeof(bin) - 1);
        ck_assert_str_eq(v, "0.17.1");
        _cleanup_free_ char *none = virtiofsd_vm_memory_from_bytes("vm-memory-x", 11);
        ck_assert_ptr_null(none);
}
END_TEST

/* The seed's build: 1.13.2-dev from the ELginas fork with vm-memory 0.17.1. */
START_TEST(test_seed_build) {
        run(SEED_STORE, true);
        ck_assert_str_eq(facts.version, "1.13.2-dev");
        ck_assert_str_eq(facts.vm_memory, "0.17.1");
        ck_assert(facts.ivshmem_kvmfr);
        assert_check(&checks, "vm.virtiofsd-version", CHECK_OK, "version 1.13.2-dev, built with vm-memory 0.17.1", NULL);
        /* pid 4242 runs exactly this binary. */
        ck_assert_uint_eq(strv_length(facts.running), 1);
        ck_assert_str_eq(facts.running[0], SEED_STORE);
        assert_check(&checks, "vm.virtiofsd-running", CHECK_OK, "runs the configured", NULL);
}
END_TEST

/* Upstream 1.13.2 still has vm-memory 0.16: the incident's vhost_set_mem_table failure. */
START_TEST(test_upstream_with_ivshmem) {
        run(UPSTREAM_1132, true);
        assert_check(&checks, "vm.virtiofsd-version", CHECK_FAIL, "vm-memory 0.16.1", "1.13.2 with vm-memory 0.17");
}
END_TEST

/* An old stripped build: its version alone tells. Without IVSHMEM it is fine. */
START_TEST(test_old_build) {
        run(OLD_1120, true);
        ck_assert_ptr_null(facts.vm_memory);
        assert_check(&checks, "vm.virtiofsd-version", CHECK_FAIL, "is version 1.12.0", "winvmctl doctor --fix vm.virtiofsd");
        check_list_clear(&checks);
        virtiofsd_facts_clear(&facts);
        run(OLD_1120, false);
        assert_check(&checks, "vm.virtiofsd-version", CHECK_OK, "is version 1.12.0", NULL);
}
END_TEST

/* The stable path resolves to the system's build; the running one is the seed's store path: a
 * restart of the VM replaces it. */
START_TEST(test_running_other_binary) {
        run("/run/current-system/sw/bin/virtiofsd", true);
        ck_assert_str_eq(facts.resolved, SYSTEM_PATH);
        assert_check(&checks, "vm.virtiofsd-version", CHECK_OK, "1.13.2-dev", NULL);
        assert_check(&checks, "vm.virtiofsd-running", CHECK_WARN, "runs " SEED_STORE ", not the configured",
                     "Shut Windows11 down and start it again");
}
END_TEST

/* A binary replaced after the process started: the kernel shows the old one as deleted. */
START_TEST(test_running_replaced) {
        char *running[] = { SYSTEM_PATH " (deleted)", NULL };
        VirtiofsdFacts f = {
                .binary = "/run/current-system/sw/bin/virtiofsd",
                .resolved = SYSTEM_PATH,
                .version = "1.13.2-dev",
                .vm_memory = "0.17.1",
                .has_shares = true,
                .ivshmem_kvmfr = true,
                .running = running,
        };
        ck_assert_int_eq(virtiofsd_checks(&f, "Windows11", &checks), 0);
        assert_check(&checks, "vm.virtiofsd-running", CHECK_WARN, "runs an old /run/current-system/sw/bin/virtiofsd",
                     "restart libvirtd");
}
END_TEST

/* A running virtiofsd whose exe cannot be read (non-dumpable, no CAP_SYS_PTRACE) is not taken
 * for none running. */
START_TEST(test_running_unreadable) {
        VirtiofsdFacts f = {
                .binary = "/run/current-system/sw/bin/virtiofsd",
                .resolved = SYSTEM_PATH,
                .version = "1.13.2-dev",
                .has_shares = true,
                .running = (char *[]) { NULL },
                .unreadable = "/proc/4242/exe: Permission denied",
        };
        ck_assert_int_eq(virtiofsd_checks(&f, "Windows11", &checks), 0);
        assert_check(&checks, "vm.virtiofsd-running", CHECK_SKIPPED, "cannot be read (/proc/4242/exe: Permission denied)",
                     NULL);
        /* Its command line still names what libvirt started: another path is an old definition's. */
        check_list_clear(&checks);
        f.started_as = (char *[]) { SEED_STORE, NULL };
        ck_assert_int_eq(virtiofsd_checks(&f, "Windows11", &checks), 0);
        assert_check(&checks, "vm.virtiofsd-running", CHECK_WARN,
                     "was started as " SEED_STORE ", not the configured /run/current-system/sw/bin/virtiofsd",
                     "Shut Windows11 down");
}
END_TEST

/* Under winvmd's unit the exe stays unreadable, but a process started as the configured path
 * runs that file unless the file that path leads to changed after it started. */
START_TEST(test_running_unreadable_by_time) {
        VirtiofsdFacts f = {
                .binary = "/run/current-system/sw/bin/virtiofsd",
                .resolved = SYSTEM_PATH,
                .version = "1.13.2-dev",
                .has_shares = true,
                .running = (char *[]) { NULL },
                .unreadable = "/proc/4242/exe: Permission denied",
                .started_as = (char *[]) { "/run/current-system/sw/bin/virtiofsd", NULL },
                .first_unreadable_start = 1769284000,
                .binary_changed = 1769283000,
        };
        ck_assert_int_eq(virtiofsd_checks(&f, "Windows11", &checks), 0);
        assert_check(&checks, "vm.virtiofsd-running", CHECK_OK, "which has not changed since", NULL);
        /* A rebuild after it started: the link now leads elsewhere. */
        check_list_clear(&checks);
        f.binary_changed = 1769285000;
        ck_assert_int_eq(virtiofsd_checks(&f, "Windows11", &checks), 0);
        assert_check(&checks, "vm.virtiofsd-running", CHECK_WARN, "changed after it started", "restart libvirtd");
        /* Either time unknown: nothing is claimed. */
        check_list_clear(&checks);
        f.first_unreadable_start = 0;
        ck_assert_int_eq(virtiofsd_checks(&f, "Windows11", &checks), 0);
        assert_check(&checks, "vm.virtiofsd-running", CHECK_SKIPPED, "cannot be read", NULL);
}
END_TEST

/* The start time from a /proc whose command name holds ") " itself. */
START_TEST(test_process_start) {
        char root[] = "/tmp/winvm-proc-XXXXXX";
        ck_assert_ptr_nonnull(mkdtemp(root));
        _cleanup_free_ char *cmd = NULL;
        long hz = sysconf(_SC_CLK_TCK);
        ck_assert_int_ge(asprintf(&cmd,
                                  "mkdir -p %s/proc/77 && printf 'cpu 1 2 3\\nbtime 1769280000\\nprocesses 9\\n' "
                                  ">%s/proc/stat && printf '77 (virtio) fsd) S 1 77 77 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 "
                                  "1 0 %ld 1000 100\\n' >%s/proc/77/stat",
                                  root, root, 42 * hz, root),
                         0);
        ck_assert_int_eq(system(cmd), 0);
        ck_assert_uint_eq(virtiofsd_process_start(root, "77"), 1769280042);
        ck_assert_uint_eq(virtiofsd_process_start(root, "78"), 0);
        free(cmd);
        ck_assert_int_ge(asprintf(&cmd, "rm -rf %s", root), 0);
        ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(test_missing_binary) {
        run("/run/current-system/sw/bin/virtiofsd-gone", true);
        assert_check(&checks, "vm.virtiofsd-version", CHECK_SKIPPED, "not an executable file", NULL);
}
END_TEST

/* Root runs only an allowed binary: another one is not run, and the check says so. */
START_TEST(test_not_allowed) {
        char *only[] = { "/run/current-system/sw/bin/virtiofsd", NULL };
        ck_assert_int_eq(virtiofsd_facts_read(host_root("nixos"), seed_xml, only, &facts), 0);
        ck_assert_ptr_null(facts.version);
        ck_assert_ptr_null(facts.vm_memory);
        ck_assert_int_eq(virtiofsd_checks(&facts, "Windows11", &checks), 0);
        assert_check(&checks, "vm.virtiofsd-version", CHECK_SKIPPED, "not in [Virtiofs] AllowedBinaries", NULL);
}
END_TEST

START_TEST(test_no_shares) {
        _cleanup_free_ char *bare = fixture_text("domains/windows11-bare.xml");
        ck_assert_int_eq(virtiofsd_facts_read(host_root("nixos"), bare, allowed, &facts), 0);
        ck_assert_int_eq(virtiofsd_checks(&facts, "Windows11", &checks), 0);
        assert_check(&checks, "vm.virtiofsd-version", CHECK_OK, "no virtiofs share", NULL);
        assert_check(&checks, "vm.virtiofsd-running", CHECK_OK, "no virtiofs share", NULL);
}
END_TEST

int main(void) {
        Suite *s = suite_create("virtiofsd-checks");
        TCase *tc = tcase_create("virtiofsd");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_parse);
        tcase_add_test(tc, test_seed_build);
        tcase_add_test(tc, test_upstream_with_ivshmem);
        tcase_add_test(tc, test_old_build);
        tcase_add_test(tc, test_running_other_binary);
        tcase_add_test(tc, test_running_unreadable_by_time);
        tcase_add_test(tc, test_process_start);
        tcase_add_test(tc, test_running_replaced);
        tcase_add_test(tc, test_running_unreadable);
        tcase_add_test(tc, test_missing_binary);
        tcase_add_test(tc, test_not_allowed);
        tcase_add_test(tc, test_no_shares);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_set_fork_status(sr, CK_FORK_GETENV);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
