/* Unit tests of the host side of the definition guard: paths resolved without following
 * links, owners and folder modes (service/lib/owned-path.c), and where a new disk image or share
 * may be (service/lib/definition-paths.c), on a tree in a temporary folder. Owners other than
 * the test's own need root; those checks are skipped otherwise. */
#include <check.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "definition-paths.h"
#include "owned-path.h"
#include "util.h"

static char *top;       /* the temporary folder, root's (or the test user's) 0755 */
static char *storage;   /* top/images */

static void setup(void) {
        char tmpl[] = "/tmp/winvm-owned-XXXXXX";
        ck_assert_ptr_nonnull(mkdtemp(tmpl));
        top = g_strdup(tmpl);
        ck_assert_int_eq(chmod(top, 0755), 0);
        storage = g_strdup_printf("%s/images", top);
        ck_assert_int_eq(mkdir(storage, 0755), 0);
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st, (void) flag, (void) ftw;
        return remove(path);
}

static void teardown(void) {
        (void) nftw(top, remove_one, 16, FTW_DEPTH | FTW_PHYS);
        g_free(top);
        g_free(storage);
}

static char *make_file(const char *name, const void *data, size_t n) {
        char *p = g_strdup_printf("%s/%s", storage, name);
        ck_assert(g_file_set_contents(p, data, (gssize) n, NULL));
        ck_assert_int_eq(chmod(p, 0644), 0);
        return p;
}

/* A qcow2 v3 header: backing file offset and incompatible features as given. */
static char *make_qcow2(const char *name, uint64_t backing_offset, uint64_t incompat) {
        unsigned char h[112] = { 0 };
        uint32_t magic = htobe32(0x514649fbu), version = htobe32(3);
        uint64_t off = htobe64(backing_offset), inc = htobe64(incompat);
        uint32_t blen = htobe32(backing_offset ? 11 : 0);
        memcpy(h, &magic, 4);
        memcpy(h + 4, &version, 4);
        memcpy(h + 8, &off, 8);
        memcpy(h + 16, &blen, 4);
        memcpy(h + 72, &inc, 8);
        return make_file(name, h, sizeof(h));
}

static uid_t me(void) {
        return getuid();
}

START_TEST(test_plain_file) {
        g_autofree char *f = make_file("disk.raw", "x", 1);
        uid_t owners[] = { me() };
        OwnedPathRule rule = { .owners = owners, .n_owners = 1, .trusted_top = storage };
        char *why = NULL;
        int fd = -1;
        ck_assert_int_eq(owned_path_open(f, &rule, &fd, &why), 0);
        ck_assert_int_ge(fd, 0);
        close(fd);
        ck_assert_ptr_null(why);
}
END_TEST

START_TEST(test_links_refused) {
        g_autofree char *f = make_file("disk.raw", "x", 1);
        uid_t owners[] = { me() };
        OwnedPathRule rule = { .owners = owners, .n_owners = 1 };
        char *why = NULL;
        /* The last component a link. */
        g_autofree char *link = g_strdup_printf("%s/link.raw", storage);
        ck_assert_int_eq(symlink(f, link), 0);
        ck_assert_int_eq(owned_path_open(link, &rule, NULL, &why), -ELOOP);
        ck_assert_ptr_nonnull(strstr(why, "symbolic link"));
        free(why);
        why = NULL;
        /* A folder on the way a link. */
        g_autofree char *dirlink = g_strdup_printf("%s/via", top);
        ck_assert_int_eq(symlink(storage, dirlink), 0);
        g_autofree char *through = g_strdup_printf("%s/disk.raw", dirlink);
        ck_assert_int_eq(owned_path_open(through, &rule, NULL, &why), -ELOOP);
        free(why);
        why = NULL;
        /* Not plain: .., ., //, relative. */
        g_autofree char *dotdot = g_strdup_printf("%s/../images/disk.raw", storage);
        ck_assert_int_eq(owned_path_open(dotdot, &rule, NULL, &why), -EINVAL);
        free(why);
        why = NULL;
        ck_assert_int_eq(owned_path_open("relative/disk.raw", &rule, NULL, &why), -EINVAL);
        free(why);
        why = NULL;
        ck_assert_int_eq(owned_path_open("/", &rule, NULL, &why), -EINVAL);
        free(why);
}
END_TEST

START_TEST(test_modes_and_owners) {
        g_autofree char *f = make_file("disk.raw", "x", 1);
        uid_t owners[] = { me() };
        OwnedPathRule rule = { .owners = owners, .n_owners = 1, .trusted_top = storage };
        char *why = NULL;
        /* A trusted folder others may write. */
        ck_assert_int_eq(chmod(storage, 0775), 0);
        ck_assert_int_eq(owned_path_open(f, &rule, NULL, &why), -EPERM);
        ck_assert_ptr_nonnull(strstr(why, "written by others"));
        free(why);
        why = NULL;
        ck_assert_int_eq(chmod(storage, 0755), 0);
        /* The image itself others may write. */
        ck_assert_int_eq(chmod(f, 0666), 0);
        ck_assert_int_eq(owned_path_open(f, &rule, NULL, &why), -EPERM);
        free(why);
        why = NULL;
        ck_assert_int_eq(chmod(f, 0644), 0);
        /* A second link to it. */
        g_autofree char *hard = g_strdup_printf("%s/hard.raw", storage);
        ck_assert_int_eq(link(f, hard), 0);
        ck_assert_int_eq(owned_path_open(f, &rule, NULL, &why), -EPERM);
        free(why);
        why = NULL;
        ck_assert_int_eq(unlink(hard), 0);
        /* A folder where a file is wanted, and the reverse. */
        ck_assert_int_eq(owned_path_open(storage, &rule, NULL, &why), -EPERM);
        free(why);
        why = NULL;
        OwnedPathRule dir_rule = { .owners = owners, .n_owners = 1, .directory = true };
        ck_assert_int_eq(owned_path_open(storage, &dir_rule, NULL, &why), 0);
        ck_assert_int_eq(owned_path_open(f, &dir_rule, NULL, &why), -EPERM);
        free(why);
        why = NULL;
        /* Another owner. */
        uid_t other[] = { me() + 4242 };
        OwnedPathRule other_rule = { .owners = other, .n_owners = 1 };
        ck_assert_int_eq(owned_path_open(f, &other_rule, NULL, &why), -EPERM);
        ck_assert_ptr_nonnull(strstr(why, "owned by uid"));
        free(why);
        why = NULL;
        if (geteuid() == 0) {
                /* A trusted folder of someone else. */
                ck_assert_int_eq(chown(storage, 4242, 4242), 0);
                ck_assert_int_eq(owned_path_open(f, &rule, NULL, &why), -EPERM);
                free(why);
        }
}
END_TEST

START_TEST(test_images_and_shares) {
        g_autofree char *raw = make_file("data.raw", "QFI\xfb-not-really", 16);
        g_autofree char *clean = make_qcow2("clean.qcow2", 0, 0);
        g_autofree char *backed = make_qcow2("backed.qcow2", 112, 0);
        g_autofree char *data_file = make_qcow2("data-file.qcow2", 0, 1u << 2);
        char *dirs[] = { storage, NULL };
        DefinitionPaths p = { .storage_dirs = dirs, .desktop_uid = me(), .qemu_uid = me(), .share_root = "/" };
        char *in_use[] = { raw, NULL };
        char *why = NULL;
        ck_assert_int_eq(definition_paths_check(&p, GUARD_PATH_IMAGE, clean, "qcow2", NULL, &why), 0);
        ck_assert_int_eq(definition_paths_check(&p, GUARD_PATH_IMAGE, backed, "qcow2", NULL, &why), -EPERM);
        ck_assert_ptr_nonnull(strstr(why, "backing file"));
        ck_assert_int_eq(definition_paths_check(&p, GUARD_PATH_IMAGE, data_file, "qcow2", NULL, &why), -EPERM);
        ck_assert_ptr_nonnull(strstr(why, "data file"));
        /* A raw image is never read as anything else; given as qcow2 it is not one. */
        ck_assert_int_eq(definition_paths_check(&p, GUARD_PATH_IMAGE, raw, "raw", NULL, &why), 0);
        ck_assert_int_eq(definition_paths_check(&p, GUARD_PATH_IMAGE, raw, "qcow2", NULL, &why), -EPERM);
        /* An image the VM uses, by another name too. */
        ck_assert_int_eq(definition_paths_check(&p, GUARD_PATH_IMAGE, raw, "raw", in_use, &why), -EPERM);
        /* Outside [Storage]. */
        g_autofree char *outside = g_strdup_printf("%s/x.raw", top);
        ck_assert(g_file_set_contents(outside, "x", 1, NULL));
        ck_assert_int_eq(definition_paths_check(&p, GUARD_PATH_IMAGE, outside, "raw", NULL, &why), -EPERM);
        /* Shares: a folder of the desktop user, through the host root. */
        ck_assert_int_eq(definition_paths_check(&p, GUARD_PATH_SHARE, storage, NULL, NULL, &why), 0);
        DefinitionPaths under_root = p;
        under_root.share_root = top;
        ck_assert_int_eq(definition_paths_check(&under_root, GUARD_PATH_SHARE, "/images", NULL, NULL, &why), 0);
        DefinitionPaths nobody = p;
        nobody.desktop_uid = (uid_t) -1;
        ck_assert_int_eq(definition_paths_check(&nobody, GUARD_PATH_SHARE, storage, NULL, NULL, &why), -EPERM);
        DefinitionPaths other = p;
        other.desktop_uid = me() + 4242;
        ck_assert_int_eq(definition_paths_check(&other, GUARD_PATH_SHARE, storage, NULL, NULL, &why), -EPERM);
        free(why);
}
END_TEST

static Suite *suite(void) {
        Suite *s = suite_create("owned-path");
        TCase *tc = tcase_create("owned-path");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_plain_file);
        tcase_add_test(tc, test_links_refused);
        tcase_add_test(tc, test_modes_and_owners);
        tcase_add_test(tc, test_images_and_shares);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        SRunner *sr = srunner_create(suite());
        srunner_set_fork_status(sr, CK_FORK_GETENV); /* forks unless CK_FORK=no */
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
