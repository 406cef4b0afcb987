/* Unit tests for service/lib/snapshot-adopt-rules.c: what winvm believes of libvirt's snapshot XML
 * when it adopts snapshots, and the <stem>.<name> rule for chains without metadata. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot-adopt-rules.h"

/* As `virsh snapshot-dumpxml` prints a disk-only snapshot of a running guest (trimmed). */
static const char seed_xml[] =
        "<domainsnapshot>\n"
        "  <name>snapshot-20260124-210227</name>\n"
        "  <description>GPU drivers</description>\n"
        "  <state>disk-snapshot</state>\n"
        "  <parent><name>fresh-install</name></parent>\n"
        "  <creationTime>1769284947</creationTime>\n"
        "  <memory snapshot='no'/>\n"
        "  <disks>\n"
        "    <disk name='vda' snapshot='external' type='file'>\n"
        "      <driver type='qcow2'/>\n"
        "      <source file='/var/lib/libvirt/images/windows11.snapshot-20260124-210227'/>\n"
        "    </disk>\n"
        "    <disk name='sda' snapshot='no'/>\n"
        "  </disks>\n"
        "  <domain type='kvm'><name>Windows11</name><devices>\n"
        "    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>\n"
        "      <source file='/var/lib/libvirt/images/windows11.fresh-install'/><target dev='vda' bus='virtio'/></disk>\n"
        "    <disk type='file' device='cdrom'><source file='/iso/win11.iso'/><target dev='sda' bus='sata'/></disk>\n"
        "  </devices></domain>\n"
        "</domainsnapshot>\n";

static char *replaced(const char *from, const char *to) {
        const char *at = strstr(seed_xml, from);
        ck_assert_ptr_nonnull(at);
        size_t head = (size_t) (at - seed_xml);
        char *s = malloc(sizeof(seed_xml) + strlen(to));
        ck_assert_ptr_nonnull(s);
        memcpy(s, seed_xml, head);
        strcpy(s + head, to);
        strcat(s, at + strlen(from));
        return s;
}

START_TEST(test_parse_seed_snapshot) {
        LibvirtSnapshot *s = NULL;
        ck_assert_int_eq(libvirt_snapshot_parse(seed_xml, &s), 0);
        ck_assert_str_eq(s->name, "snapshot-20260124-210227");
        ck_assert_str_eq(s->description, "GPU drivers");
        ck_assert_str_eq(s->parent, "fresh-install");
        ck_assert_str_eq(s->state, "running");
        ck_assert_uint_eq(s->created_usec, 1769284947ull * 1000000ull);
        ck_assert_uint_eq(s->n_disks, 1);
        const LibvirtSnapshotDisk *d = libvirt_snapshot_disk(s, "vda");
        ck_assert_ptr_nonnull(d);
        ck_assert_str_eq(d->overlay, "/var/lib/libvirt/images/windows11.snapshot-20260124-210227");
        ck_assert_str_eq(d->image, "/var/lib/libvirt/images/windows11.fresh-install");
        ck_assert_str_eq(d->format, "qcow2");
        ck_assert_ptr_null(libvirt_snapshot_disk(s, "sda"));
        libvirt_snapshot_free(s);
}
END_TEST

START_TEST(test_parse_shutoff_no_parent) {
        char *x = replaced("<state>disk-snapshot</state>", "<state>shutoff</state>");
        char *y = NULL;
        const char *p = strstr(x, "<parent>");
        y = strndup(x, (size_t) (p - x));
        char *tail = strstr(x, "</parent>") + strlen("</parent>");
        char *z = malloc(strlen(y) + strlen(tail) + 1);
        strcpy(z, y);
        strcat(z, tail);
        LibvirtSnapshot *s = NULL;
        ck_assert_int_eq(libvirt_snapshot_parse(z, &s), 0);
        ck_assert_str_eq(s->state, "shutoff");
        ck_assert_str_eq(s->parent, "");
        libvirt_snapshot_free(s);
        free(x);
        free(y);
        free(z);
}
END_TEST

/* What winvm cannot adopt: a memory snapshot, an internal one, a bad name, a relative path. */
START_TEST(test_parse_refusals) {
        static const struct {
                const char *from, *to;
                int r;
        } cases[] = {
                { "<memory snapshot='no'/>", "<memory snapshot='external' file='/m'/>", -EMEDIUMTYPE },
                { "snapshot='external' type='file'", "snapshot='internal'", -EMEDIUMTYPE },
                { "<name>snapshot-20260124-210227</name>", "<name>../etc</name>", -EINVAL },
                { "<name>fresh-install</name>", "<name>-x</name>", -EINVAL },
                { "<source file='/var/lib/libvirt/images/windows11.snapshot-20260124-210227'/>",
                  "<source file='windows11.snapshot'/>", -EINVAL },
                { "<target dev='vda' bus='virtio'/>", "<target dev='vdb' bus='virtio'/>", -EINVAL },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char *x = replaced(cases[i].from, cases[i].to);
                LibvirtSnapshot *s = (LibvirtSnapshot *) 0x1;
                ck_assert_msg(libvirt_snapshot_parse(x, &s) == cases[i].r, "case %zu", i);
                ck_assert_ptr_eq(s, (LibvirtSnapshot *) 0x1);
                free(x);
        }
        LibvirtSnapshot *s = NULL;
        ck_assert_int_eq(libvirt_snapshot_parse("<domainsnapshot", &s), -EINVAL);
}
END_TEST

START_TEST(test_name_rule) {
        static const struct {
                const char *file, *name;
        } cases[] = {
                { "/vm/windows11.fresh-install", "fresh-install" },
                { "/vm/windows11.snapshot-20260124-210227", "snapshot-20260124-210227" },
                { "/vm/windows11.s1.revert-20260124-210227", "s1.revert-20260124-210227" },
                { "/vm/windows11.qcow2", "qcow2" },
                { "/other/windows11.fresh-install", NULL },     /* another folder */
                { "/vm/sub/windows11.x", NULL },
                { "/vm/windows12.fresh-install", NULL },        /* another stem */
                { "/vm/windows11fresh", NULL },
                { "/vm/windows11.", NULL },
                { "/vm/windows11..hidden", NULL },
                { "/vm/windows11.-x", NULL },
                { "/vmx/windows11.a", NULL },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char *n = snapshot_adopt_name_from_file("/vm", "windows11", cases[i].file);
                if (cases[i].name)
                        ck_assert_msg(n && strcmp(n, cases[i].name) == 0, "%s", cases[i].file);
                else
                        ck_assert_msg(!n, "%s gave %s", cases[i].file, n);
                free(n);
        }
}
END_TEST

int main(void) {
        Suite *s = suite_create("snapshot-adopt-rules");
        TCase *tc = tcase_create("core");
        tcase_add_test(tc, test_parse_seed_snapshot);
        tcase_add_test(tc, test_parse_shutoff_no_parent);
        tcase_add_test(tc, test_parse_refusals);
        tcase_add_test(tc, test_name_rule);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
